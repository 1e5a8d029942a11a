"""A process that works for another (the parallel launcher's workers, a single run's helper):
it leaves Ctrl-C and SIGTERM to the process it works for, and ends when that one ends."""

from __future__ import annotations

import os
import signal
import sys

STOPS = (signal.SIGINT, signal.SIGTERM)


def ignore_stops() -> None:
    """Ctrl-C and SIGTERM are the command's process's to handle: it stops handing out jobs, and
    the worker ends the job it has."""
    for signum in STOPS:
        signal.signal(signum, signal.SIG_IGN)


def die_with(parent: int) -> None:
    """End when `parent` ends, even killed outright (Linux's PR_SET_PDEATHSIG), rather than live
    on as an orphan that holds its pipes open."""
    if sys.platform != "linux":
        return
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it ended before that was set
        os._exit(1)
