"""Ctrl-C and SIGTERM: recorded when they arrive, so that they are never lost.

Both raise KeyboardInterrupt where the program happens to be. Code that catches too much (a C
callback in matplotlib, a library's `except Exception` around cleanup) can turn it into another
error or swallow it; the entry point and the job ask `received()` and end as interrupted anyway.
"""

from __future__ import annotations

import signal
import sys

_received: list[str] = []


def install() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    sys.unraisablehook = _quiet_unraisable


def _quiet_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """An interrupt raised where Python cannot raise it (a weakref callback, a __del__) is not
    printed as "Exception ignored ... Traceback": it was recorded, and the job or the command
    stops at its next check (received())."""
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)


def _interrupt(signum: int, frame: object) -> None:
    name = signal.Signals(signum).name
    _received.append(name)
    raise KeyboardInterrupt(name)


def received() -> str | None:
    """The first signal received, if any: SIGINT or SIGTERM."""
    return _received[0] if _received else None


def die_with_parent(parent: int) -> None:
    """In a process forked to help `parent`: end when it ends, even killed outright (Linux's
    PR_SET_PDEATHSIG), rather than live on as an orphan that holds its pipes open."""
    if sys.platform != "linux":
        return
    import ctypes
    import os

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it ended before that was set
        os._exit(1)
