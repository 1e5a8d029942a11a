"""Ctrl-C and SIGTERM, in one place: recorded when they arrive, so that they are never lost.

Both raise KeyboardInterrupt where the program happens to be. Code that catches too much (a C
callback in matplotlib, a library's `except Exception` around cleanup) can turn it into another
error or swallow it; the entry point and the job ask `raise_if_received()` and end as interrupted
anyway, and a run or a sweep that ends on an error ends with `status_after(error)`. A process
forked to help (the parallel launcher's workers, a single run's helper) leaves the signals to
the command's own process and dies with it (hydra_plugins/perceptron_runner/workers.py).
"""

from __future__ import annotations

import atexit
import functools
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from runner.tracking.names import FAILED, KILLED

_received: list[str] = []
_holding = 0  # how deep the main thread is in `held()` blocks
_pending: str | None = None  # a signal that came in a `held()` block, to raise at its end
STOPS = (signal.SIGINT, signal.SIGTERM)


def install() -> None:
    """The command's handlers: a SIGTERM ends runs KILLED, as Ctrl-C does, and neither prints a
    traceback; an interrupted command ends killed by its signal."""
    for signum in STOPS:
        signal.signal(signum, _interrupt)
    sys.unraisablehook = _quiet_unraisable
    sys.excepthook = _quiet_interrupt
    _register_at_exit()


@functools.cache  # once, however many times install() is called
def _register_at_exit() -> None:
    atexit.register(_end_as_signalled)  # the first registered: it runs after every other


def _end_as_signalled() -> None:
    """An interrupted command ends killed by the signal it got, whatever the instant: the shell
    sees 130 for Ctrl-C and 143 for SIGTERM, so a script's loop stops, as it does for any
    program. (Python alone ends some instants with status 1: a KeyboardInterrupt that Hydra or a
    launcher turned into an error, or one raised at exit.) Runs last, when everything else that
    runs at exit has (a sweep's close, the output folder's release, logging's flush)."""
    name = received()
    if name is None:
        return
    if "logging" in sys.modules:  # its handlers flushed, should it have registered its exit after this
        sys.modules["logging"].shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    signum = signal.Signals[name]
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _interrupt(signum: int, frame: object) -> None:
    """The first signal stops the command where it is (or at the end of a `held()` block);
    those after it are recorded, and let the runs be ended that the first one stops."""
    global _pending
    name = signal.Signals(signum).name
    _received.append(name)
    if len(_received) > 1:
        return
    if _holding:
        _pending = name
        return
    raise KeyboardInterrupt(name)


@contextmanager
def held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait for the end of the block (in the main thread; a store call takes
    milliseconds). A KeyboardInterrupt inside SQLAlchemy's session can leave an sqlite database
    locked, its transaction neither committed nor rolled back, so that no run can then be ended:
    the command waited out the lock, 40 s and more, and left its runs RUNNING."""
    global _holding, _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _holding += 1
    try:
        yield
    except BaseException:
        _pending = None  # already on its way out; it ends as interrupted (status_after)
        raise
    finally:
        _holding -= 1
    if not _holding and _pending:
        name, _pending = _pending, None
        raise KeyboardInterrupt(name)


class HeldCalls:
    """An object whose method calls a signal does not cut in half (`held()`)."""

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._wrapped, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def call(*args: Any, **kwargs: Any) -> Any:
            with held():
                return attribute(*args, **kwargs)

        return call


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
    return KILLED if isinstance(error, KeyboardInterrupt) or received() else FAILED


def _quiet_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """An interrupt raised where Python cannot raise it (a weakref callback, a __del__) is not
    printed as "Exception ignored ... Traceback": it was recorded, and the job or the command
    stops at its next check."""
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)


def _quiet_interrupt(
    kind: type[BaseException], value: BaseException, traceback: TracebackType | None
) -> None:
    """Ctrl-C or SIGTERM ends the command with one line, not a traceback, also when some code
    turned the interrupt into another error before the command could ask (Python's
    `RuntimeError: Error calling __set_name__` around one that came as Hydra scanned its
    plugins). (Python still records the interrupt, so a sweep's parent run ends KILLED: see
    parent.py.)"""
    if issubclass(kind, KeyboardInterrupt) or received():
        said = str(value) if issubclass(kind, KeyboardInterrupt) else ""
        print(f"Interrupted ({said or received() or 'SIGINT'})", file=sys.stderr)
    else:
        sys.__excepthook__(kind, value, traceback)
