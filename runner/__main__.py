"""`python -m runner`: Hydra's entry point, its errors as one line, and the signals."""

from __future__ import annotations

import atexit
import os
import sys
from datetime import datetime

from runner import versions
from runner.tracking import output_folder, signals

if __name__ == "__main__":
    signals.install()  # first: a Ctrl-C while the libraries load says "Interrupted" too

try:
    import hydra

    from hydra_plugins.perceptron_runner import register
    from runner import gate_files
    from runner.config import CONF_DIR, composition_message  # (importing it registers the schema)
    from runner.job import task
    from runner.tracking.callback import close_open_sweep
    from runner.tracking.errors import OutOfSpace, UsageError, first_line
except ImportError as err:  # a Hydra or OmegaConf release that moved what the app imports
    raise SystemExit(versions.cannot_run(err)) from None

# the task is not decorated where it is defined, so that a launcher can pickle it by name
main = hydra.main(config_path=str(CONF_DIR), config_name="config", **versions.main_args())(task)


def cli() -> None:
    """Hydra's app, with every error reported as its message, never as a Python traceback.

    Hydra prints some errors with a traceback (a few of its own, from composing the config, and
    any exception of ours it does not expect). With HYDRA_FULL_ERROR=1 Hydra raises them instead,
    so they are caught and printed here; a user who sets HYDRA_FULL_ERROR=1 gets the traceback.
    """
    wants_traceback = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        gate_files.check(sys.argv[1:])  # before Hydra instantiates anything a config file names
    except UsageError as err:
        raise SystemExit(str(err)) from None
    given = sys.argv[1:]
    sys.argv[1:], folder = output_folder.claim(given, datetime.now())
    atexit.register(output_folder.release, folder)  # after a sweep closed at exit wrote its review
    try:
        main()
        signals.raise_if_received()  # swallowed somewhere: the command still ends interrupted
    except OutOfSpace as err:  # its one line says it all: the sweep closes, listing no job's error
        close_open_sweep(err)
        raise
    except Exception as err:
        signals.raise_if_received()  # an interrupt that some code turned into another error
        if wants_traceback:
            raise
        message = _message(err, given)
        if any(message in shown for shown in close_open_sweep(err)):
            raise SystemExit(1) from None  # a job's error, printed with the others at the sweep's end
        raise SystemExit(message) from None
    finally:
        if not wants_traceback:
            del os.environ["HYDRA_FULL_ERROR"]


def _message(err: Exception, given: list[str]) -> str:
    """The error in one line: Hydra's errors of composing as the override and why; a UsageError
    alone; anything else with the user's overrides and a hint to get its traceback."""
    if isinstance(err, UsageError):
        return str(err)
    said = composition_message(err)
    if said is not None:
        return said
    return (
        f"Error: {type(err).__name__}: {first_line(err)} (overrides: {' '.join(given)}; "
        "HYDRA_FULL_ERROR=1 shows the traceback)"
    )


if __name__ == "__main__":
    versions.warn_untested()
    register()  # the default sweeper and launcher, whatever the install
    cli()
