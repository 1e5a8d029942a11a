"""The Hydra and MLflow versions the app is tested on (CI runs both ends of each), and the
things that differ between Hydra 1.3 and 1.4 at the app's door: `version_base`, and 1.4's
execution whitelist.

Read from the installed packages' metadata, without importing them, so that a version whose
imports fail is still named in one line rather than in a traceback.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from packaging.version import Version

TESTED = {  # package: (lowest tested, first release not tested), as pyproject.toml pins them
    "hydra-core": (Version("1.3.8"), Version("1.5")),
    "mlflow": (Version("3.15"), Version("4")),
}
PIN = "pip install 'hydra-core>=1.3.8,<1.5' 'mlflow>=3.15,<4'"


def installed(package: str) -> Version | None:
    try:
        return Version(version(package))
    except PackageNotFoundError:
        return None


def untested() -> list[str]:
    """The installed packages whose versions CI does not test, as 'hydra-core 1.5.0'."""
    found = []
    for package, (low, high) in TESTED.items():
        got = installed(package)
        if got is not None and not low <= Version(got.base_version) < high:
            found.append(f"{package} {got}")
    return found


def warn_untested() -> None:
    """One line on stderr for a version the app was not tested on; the command goes on."""
    if found := untested():
        print(f"Warning: perceptron-runner is not tested on {', '.join(found)} ({PIN})", file=sys.stderr)


def cannot_run(err: BaseException) -> str:
    """The one line for an import that failed on an untested version."""
    found = untested()
    on = ", ".join(found) if found else "these versions"
    return f"perceptron-runner cannot run on {on}: {type(err).__name__}: {err} ({PIN})"


def hydra_14() -> bool:
    hydra = installed("hydra-core")
    return hydra is not None and hydra >= Version("1.4.0rc1")


def version_base() -> dict[str, str]:
    """What to pass Hydra for its defaults: `version_base="1.3"` on 1.3; nothing on 1.4, which
    deprecates the parameter (its defaults are 1.3's)."""
    return {} if hydra_14() else {"version_base": "1.3"}


TRUSTED = ["runner.tracking.callback.MlflowSweep"]  # what conf/ names for Hydra to instantiate


def main_args() -> dict[str, Any]:
    """`hydra.main`'s arguments beside the config's place: on Hydra 1.4, the execution whitelist
    of what conf/ names for Hydra to instantiate (1.4 warns of any other, and 1.5 refuses it)."""
    return {"execution_whitelist": TRUSTED} if hydra_14() else version_base()
