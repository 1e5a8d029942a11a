"""`python -m runner`: Hydra's entry point, its errors as one line, and the signals."""

from __future__ import annotations

import sys

from runner.tracking import signals

if __name__ == "__main__":
    signals.install()  # first: a Ctrl-C while the libraries load says "Interrupted" too

from runner import versions  # after: it loads importlib.metadata (40 ms)

try:
    import hydra

    from hydra_plugins.perceptron_runner import register
    from runner import gate_files
    from runner.config import CONF_DIR, composition_message  # (importing it registers the schema)
    from runner.job import task
    from runner.tracking import command
    from runner.tracking.errors import UsageError, named
except ImportError as err:  # a Hydra or OmegaConf release that moved what the app imports
    raise SystemExit(versions.cannot_run(err)) from None

# the task is not decorated where it is defined, so that a launcher can pickle it by name
main = hydra.main(config_path=str(CONF_DIR), config_name="config", **versions.main_args())(task)


def cli() -> None:
    """Hydra's app, with every error reported as its message, never as a Python traceback
    (runner/tracking/command.py)."""
    given = sys.argv[1:]
    try:
        gate_files.check(given)  # before Hydra instantiates anything a config file names
    except UsageError as err:
        raise SystemExit(str(err)) from None
    command.run(main, lambda err: _message(err, given))


def _message(err: Exception, given: list[str]) -> str:
    """The error in one line: Hydra's errors of composing as the override and why; a UsageError
    alone; anything else with the user's overrides and a hint to get its traceback."""
    if isinstance(err, UsageError):
        return str(err)
    said = composition_message(err)
    if said is not None:
        return said
    return f"Error: {named(err)} (overrides: {' '.join(given)}; HYDRA_FULL_ERROR=1 shows the traceback)"


if __name__ == "__main__":
    versions.warn_untested()
    register()  # the default sweeper and launcher, whatever the install
    cli()
