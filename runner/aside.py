"""Work a single run does beside its main line, on the machine's other core.

A single run spends most of its time importing: MLflow and opening its store on the main line,
scipy (the table's separability) and matplotlib (the PNGs) for the rest. The rest needs only the
trained run, so a process forked from the run once it has trained does it while the run opens
the store, and the run collects the results when it logs them. Forked, the process starts in a
few milliseconds with the run's imports. A sweep does not use it: its process is warm after its
first job, and its other core is a parallel launcher's to use.

Where there is no fork (or one core), the work is done in line, as it was.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

from runner import signals

T = TypeVar("T")


class InLine:
    """Work done now, in this process, returned as a done Future: a sweep's jobs, and where
    there is no fork or one core."""

    def submit(self, work: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(work(*args))
        except Exception as err:
            future.set_exception(err)
        return future

    def close(self) -> None:
        pass


IN_LINE = InLine()


class Aside:
    def __init__(self) -> None:
        # forked at the first submit, from the main thread of a process that has no other
        self.pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("fork"),
            initializer=signals.die_with_parent,
            initargs=(os.getpid(),),
        )

    def submit(self, work: Callable[..., T], *args: Any) -> Future[T]:
        return self.pool.submit(work, *args)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def start() -> Aside | InLine:
    """An Aside, or IN_LINE where work is better done in line."""
    return Aside() if sys.platform == "linux" and (os.cpu_count() or 1) > 1 else IN_LINE
