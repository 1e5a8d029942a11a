"""A launcher that runs a sweep's jobs on several processes at once, each of them warm.

    python -m runner -m ... hydra/launcher=parallel [hydra.launcher.n_jobs=2]

Hydra's joblib launcher composes every job twice in the sweep's process, pickles each whole
config to a worker and runs it with Hydra's `run_job`: on two cores a sweep of small jobs takes
as long as on one. Here the sweep's own process is one of the `n_jobs` workers (it is warm at
once); it runs a batch's first job, then forks the others, which start with what it has (its
imports, its compose cache). A job crosses to a worker as its override strings and comes back
as its JobReturn without its config. Jobs go to whichever worker is free, so a slow job holds up
no other. The workers end with the batch (a search launches one batch after another; forking
again costs milliseconds), and with the sweep's process if it is killed outright.
"""

import logging  # no `from __future__ import annotations`: Hydra's plugin scan runs this module
import multiprocessing
import os
import queue
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from hydra.core.config_store import ConfigStore
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, configure_log, setup_globals
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig
from omegaconf.basecontainer import BaseContainer

from hydra_plugins.perceptron_runner.cached_compose import CachedLauncher, ComposeCache, run_cached

log = logging.getLogger(__name__)


class ParallelLauncher(CachedLauncher):
    def __init__(self, n_jobs: Optional[int] = None) -> None:
        super().__init__()
        self.n_jobs = n_jobs

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        workers = min(self.n_jobs or os.cpu_count() or 1, len(job_overrides))
        if workers <= 1:
            return super().launch(job_overrides, initial_job_idx)
        setup_globals()
        assert self.hydra_context is not None and self.config is not None and self.task_function is not None
        if self.cache is None:
            self.cache = ComposeCache(self.hydra_context, self.config)
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        log.info(f"Launching {len(job_overrides)} jobs on {workers} processes")
        jobs = _Jobs(enumerate(job_overrides, start=initial_job_idx))
        # the first job here, first: the workers forked after it have what it imported and drew
        # (scipy, matplotlib, the PNG frames), instead of doing it again each
        self._run_here(*next(jobs), jobs)
        pool = self._start(workers - 1)
        feeders = [threading.Thread(target=jobs.feed, args=(pool,), daemon=True) for _ in range(workers - 1)]
        for feeder in feeders:
            feeder.start()
        try:
            for idx, overrides in jobs:
                self._run_here(idx, overrides, jobs)
            for feeder in feeders:
                feeder.join()
        except BaseException:
            jobs.stop()
            raise
        finally:
            # the workers end the job each has (ignoring Ctrl-C) and exit, before the sweep
            # closes its runs: what they left RUNNING is then known to be left
            pool.shutdown(wait=True, cancel_futures=True)
        return jobs.returns()

    def _run_here(self, idx: int, overrides: Sequence[str], jobs: "_Jobs") -> None:
        assert self.cache is not None and self.hydra_context is not None and self.config is not None
        jobs.done(idx, run_cached(self.hydra_context, self.cache, self.task_function, overrides, idx))
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)

    def _start(self, workers: int) -> ProcessPoolExecutor:
        """Workers forked from this process, warm: its imports, its compose cache and Hydra's
        state are theirs at once. They are forked here, from the main thread, between jobs and
        before the launcher's threads start; elsewhere than Linux they are spawned."""
        fork = sys.platform == "linux"
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork" if fork else "spawn"),
            initializer=_start_worker,
            # forked, a worker takes this process's cache as it is; spawned, it makes its own
            initargs=(
                self.hydra_context,
                self.cache if fork else self.config,
                self.task_function,
                None if fork else _singletons(),
                os.getpid(),
            ),
        )
        for stream in (sys.stdout, sys.stderr):  # what is buffered here is written once, from here
            stream.flush()
        pool.submit(int).result()  # forks them all, now (spawns only one)
        return pool


class _Jobs:
    """The jobs of a batch, handed out one at a time to this process and to the feeders, which
    each keep one worker busy. A worker's error that is not a job's failure (an interrupt, or
    SystemExit: the disk is full) stops the handing out, and is raised in this process.

    No lock of Python's: Ctrl-C raises KeyboardInterrupt at any point in this process's main
    thread, which may leave such a lock held, and the next acquire waits forever. A SimpleQueue
    hands out each job once, atomically, and the error is one assignment."""

    def __init__(self, jobs: Iterable[Tuple[int, Sequence[str]]]) -> None:
        self.queue: queue.SimpleQueue[Tuple[int, Sequence[str]]] = queue.SimpleQueue()
        for job in jobs:
            self.queue.put(job)
        self.results: Dict[int, JobReturn] = {}
        self.error: Optional[BaseException] = None

    def __iter__(self) -> "_Jobs":
        return self

    def __next__(self) -> Tuple[int, Sequence[str]]:
        if self.error is not None:
            raise self.error
        try:
            return self.queue.get_nowait()
        except queue.Empty:
            raise StopIteration from None

    def done(self, idx: int, ret: JobReturn) -> None:
        self.results[idx] = ret

    def stop(self, error: Optional[BaseException] = None) -> None:
        if self.error is None:
            self.error = error or KeyboardInterrupt()

    def feed(self, pool: ProcessPoolExecutor) -> None:
        try:
            for idx, overrides in self:
                self.done(idx, pool.submit(_run, idx, list(overrides)).result())
        except BaseException as err:  # raised again in the sweep's process, by __next__
            self.stop(err)

    def returns(self) -> List[JobReturn]:
        if self.error is not None:
            raise self.error
        return [self.results[idx] for idx in sorted(self.results)]


def _singletons() -> Dict[str, Any]:
    """Hydra's singletons, as its joblib launcher hands them to a job, but without OmegaConf's
    resolvers, which are closures that only cloudpickle pickles: a worker has its own."""
    return {**Singleton.get_state(), "omegaconf_resolvers": None}


_worker: Optional[Tuple[HydraContext, ComposeCache, TaskFunction]] = None


def _start_worker(
    hydra_context: HydraContext,
    cache: ComposeCache | DictConfig,
    task_function: TaskFunction,
    singletons: Optional[Dict[Any, Any]],
    parent: int,
) -> None:
    """A worker's start: Hydra's state as the sweep's process has it, and a compose cache: the
    sweep's own (forked), or one of its own for the sweep's config (spawned).

    Ctrl-C (or a SIGTERM to the whole process group) is the sweep's process's to handle: it stops
    handing out jobs, and a worker ends the job it has, then exits.
    """
    from runner.signals import die_with_parent  # a sweep killed outright takes its workers along

    global _worker
    die_with_parent(parent)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    if isinstance(cache, ComposeCache):  # forked: a thread of the parent may have held the console's lock
        sys.stdout = open(sys.stdout.fileno(), "w", buffering=1, closefd=False)
        sys.stderr = open(sys.stderr.fileno(), "w", buffering=1, closefd=False)
    else:  # spawned
        assert singletons is not None
        Singleton.set_state({**singletons, "omegaconf_resolvers": BaseContainer._resolvers})
        setup_globals()
        cache = ComposeCache(hydra_context, cache)
    _worker = (hydra_context, cache, task_function)


def _run(idx: int, overrides: List[str]) -> JobReturn:
    assert _worker is not None
    hydra_context, cache, task_function = _worker
    return run_cached(hydra_context, cache, task_function, overrides, idx)


@dataclass
class ParallelLauncherConf:
    _target_: str = "hydra_plugins.perceptron_runner.parallel.ParallelLauncher"
    n_jobs: Optional[int] = None  # processes at once, this one included; null: one per core


ConfigStore.instance().store(
    group="hydra/launcher", name="parallel", node=ParallelLauncherConf, provider="perceptron-runner"
)
