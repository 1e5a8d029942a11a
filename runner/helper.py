"""A single run's helper: the work it does beside its main line, on the machine's other core.

A single run spends most of its time importing: MLflow and opening its store on the main line,
scipy (the table's separability) and matplotlib (the PNGs) for the rest. The rest needs only the
trained run, so a process forked from the run once it has trained does it while the run opens
the store, and the run collects the results when it logs them. Forked, the helper starts in a
few milliseconds with the run's imports. A sweep does not use one: its process is warm after its
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

from hydra_plugins.perceptron_runner.workers import die_with

T = TypeVar("T")


class InlineHelper:
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


INLINE = InlineHelper()


class ForkedHelper:
    """Work done in a process forked at the first submit, from the run's main thread. The run's
    only other threads then are numpy's BLAS pool, which the helper never uses (OpenBLAS sets
    its pool up again after a fork)."""

    def __init__(self) -> None:
        self.pool = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("fork"),
            initializer=die_with,
            initargs=(os.getpid(),),
        )

    def submit(self, work: Callable[..., T], *args: Any) -> Future[T]:
        return self.pool.submit(work, *args)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


Helper = ForkedHelper | InlineHelper


def start() -> Helper:
    """A ForkedHelper, or INLINE where work is better done in line."""
    return ForkedHelper() if sys.platform == "linux" and (os.cpu_count() or 1) > 1 else INLINE
