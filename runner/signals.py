"""Ctrl-C and SIGTERM: recorded when they arrive, so that they are never lost.

Both raise KeyboardInterrupt where the program happens to be. Code that catches too much (a C
callback in matplotlib, a library's `except Exception` around cleanup) can turn it into another
error or swallow it; the entry point and the job ask `received()` and end as interrupted anyway.
"""

from __future__ import annotations

import signal

_received: list[str] = []


def install() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    name = signal.Signals(signum).name
    _received.append(name)
    raise KeyboardInterrupt(name)


def received() -> str | None:
    """The first signal received, if any: SIGINT or SIGTERM."""
    return _received[0] if _received else None
