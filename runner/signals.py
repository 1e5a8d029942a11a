"""Ctrl-C and SIGTERM, in one place: recorded when they arrive, so that they are never lost.

Both raise KeyboardInterrupt where the program happens to be. Code that catches too much (a C
callback in matplotlib, a library's `except Exception` around cleanup) can turn it into another
error or swallow it; the entry point and the job ask `raise_if_received()` and end as interrupted
anyway, and a run or a sweep that ends on an error ends with `status_after(error)`. A process
forked to help (the parallel launcher's workers, a single run's helper) leaves the signals to
the command's own process and dies with it (`ignore_stops`, `die_with`).
"""

from __future__ import annotations

import os
import signal
import sys
from types import TracebackType

_received: list[str] = []
STOPS = (signal.SIGINT, signal.SIGTERM)


def install() -> None:
    """The command's handlers: a SIGTERM ends runs KILLED, as Ctrl-C does, and neither prints a
    traceback."""
    for signum in STOPS:
        signal.signal(signum, _interrupt)
    sys.unraisablehook = _quiet_unraisable
    sys.excepthook = _quiet_interrupt


def _interrupt(signum: int, frame: object) -> None:
    name = signal.Signals(signum).name
    _received.append(name)
    raise KeyboardInterrupt(name)


def received() -> str | None:
    """The first signal received, if any: SIGINT or SIGTERM."""
    return _received[0] if _received else None


def raise_if_received() -> None:
    """Stop here as interrupted if a signal came and some code swallowed it."""
    if received():
        raise KeyboardInterrupt(received())


def status_after(error: BaseException | None) -> str:
    """The MLflow status of a run or sweep that ended on `error`: KILLED by an interrupt (also
    one that some code turned into another error), else FAILED."""
    return "KILLED" if isinstance(error, KeyboardInterrupt) or received() else "FAILED"


def _quiet_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """An interrupt raised where Python cannot raise it (a weakref callback, a __del__) is not
    printed as "Exception ignored ... Traceback": it was recorded, and the job or the command
    stops at its next check."""
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)


def _quiet_interrupt(
    kind: type[BaseException], value: BaseException, traceback: TracebackType | None
) -> None:
    """Ctrl-C or SIGTERM ends the command with one line, not a traceback. (Python still records
    the interrupt, so a sweep's parent run ends KILLED: see runner/parent_run.py.)"""
    if issubclass(kind, KeyboardInterrupt):
        print(f"Interrupted ({value or 'SIGINT'})", file=sys.stderr)
    else:
        sys.__excepthook__(kind, value, traceback)


def ignore_stops() -> None:
    """In a worker of the command (the parallel launcher's): Ctrl-C and SIGTERM are the command's
    process's to handle; it stops handing out jobs, and the worker ends the job it has."""
    for signum in STOPS:
        signal.signal(signum, signal.SIG_IGN)


def die_with(parent: int) -> None:
    """In a process forked or spawned to help `parent`: end when it ends, even killed outright
    (Linux's PR_SET_PDEATHSIG), rather than live on as an orphan that holds its pipes open."""
    if sys.platform != "linux":
        return
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it ended before that was set
        os._exit(1)
