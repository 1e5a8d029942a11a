"""A Hydra app's command as a person expects one to end: every error as one line, never a Python
traceback; a sweep still open closed before that line; each command in an output folder of its
own (output_folder.py); an interrupt that some code swallowed still ending it interrupted.

Hydra prints some errors with a traceback (a few of its own, from composing the config, and any
exception of the app's it does not expect). With HYDRA_FULL_ERROR=1 Hydra raises them instead,
so they are caught and said here in one line; a user who sets HYDRA_FULL_ERROR=1 gets the
traceback.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from runner.tracking import output_folder, signals
from runner.tracking.callback import close_open_sweep
from runner.tracking.errors import OutOfSpace


def run(main: Callable[[], Any], message: Callable[[Exception], str]) -> None:
    """Run `main` (the app decorated by `hydra.main`, which reads sys.argv); an error ends the
    command with `message(error)`, one line."""
    wants_traceback = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"
    sys.argv[1:], folder = output_folder.claim(sys.argv[1:], datetime.now())
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
        said = message(err)
        if any(said in shown for shown in close_open_sweep(err)):
            raise SystemExit(1) from None  # a job's error, printed with the others at the sweep's end
        raise SystemExit(said) from None
    finally:
        if not wants_traceback:
            del os.environ["HYDRA_FULL_ERROR"]
