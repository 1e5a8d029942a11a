"""A launcher that runs a sweep's jobs on several processes at once, each of them warm.

    python -m runner -m ... hydra/launcher=parallel [hydra.launcher.n_jobs=2]

Hydra's joblib launcher composes every job twice in the sweep's process, pickles each whole
config to a worker and runs it with Hydra's `run_job`: on two cores a sweep of small jobs takes
as long as on one. Here the sweep's own process is one of the `n_jobs` workers (it is warm at
once); it runs a batch's first job, then forks the others, which start with what it has (its
imports, its compose cache). A job crosses to a worker as its override strings and comes back
as the JobReturn of Hydra's `run_job`, configs and all. Jobs go to whichever worker is free,
so a slow job holds up no other. The workers end with the batch (a search launches one batch
after another; forking again costs milliseconds), and with the sweep's process if it is killed
outright.
"""

import logging  # no `from __future__ import annotations`: Hydra's plugin scan runs this module
import multiprocessing
import os
import queue
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from hydra.core.config_store import ConfigStore
from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig

from hydra_plugins.perceptron_runner.launcher import CachedLauncher

log = logging.getLogger(__name__)


class ParallelLauncher(CachedLauncher):
    def __init__(self, n_jobs: Optional[int] = None, start_method: Optional[str] = None) -> None:
        super().__init__()
        self.n_jobs = n_jobs
        self.start_method = start_method or ("fork" if sys.platform == "linux" else "spawn")

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        workers = min(self.n_jobs or os.cpu_count() or 1, len(job_overrides))
        if workers <= 1:
            return super().launch(job_overrides, initial_job_idx)
        self.prepare()
        log.debug(f"Launching {len(job_overrides)} jobs on {workers} processes")
        jobs = _Jobs(enumerate(job_overrides, start=initial_job_idx))
        # the first job here, first: the workers forked after it have what it imported and drew
        # (scipy, matplotlib, the PNG frames), instead of doing it again each
        idx, overrides = next(jobs)
        jobs.done(idx, self.run(overrides, idx))
        pool = self._start(workers - 1)
        feeders = [threading.Thread(target=jobs.feed, args=(pool,), daemon=True) for _ in range(workers - 1)]
        for feeder in feeders:
            feeder.start()
        try:
            for idx, overrides in jobs:
                jobs.done(idx, self.run(overrides, idx))
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

    def _start(self, workers: int) -> ProcessPoolExecutor:
        """Workers forked from this process, warm: its imports, its compose cache and Hydra's
        state are theirs at once. They are forked here, from the main thread, between jobs and
        before the feeders start; the threads that run then are the sweep's progress printer
        (whence each worker's own console streams) and numpy's BLAS pool (which OpenBLAS sets up
        again after a fork), and the store's connections are never shared (runner/tracking/fork_safety.py).
        Spawned (where there is no fork, or with
        start_method=spawn), each is handed Hydra's state as Hydra's joblib launcher hands it,
        `Singleton.get_state()` pickled by cloudpickle (OmegaConf's resolvers are closures), and
        makes its own cache."""
        if self.start_method == "fork":
            start = (_use_launcher, (self, os.getpid()))
        else:
            import cloudpickle  # MLflow's dependency, as it is Ray's and joblib's

            state = cloudpickle.dumps(Singleton.get_state())
            start = (
                _make_launcher,
                (self.hydra_context, self.config, self.task_function, state, os.getpid()),
            )
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context(self.start_method),
            initializer=start[0],
            initargs=start[1],
        )
        for stream in (sys.stdout, sys.stderr):  # what is buffered here is written once, from here
            stream.flush()
        pool.submit(int).result()  # forks them all, now (spawns only one)
        return pool


class WorkerDied(RuntimeError):
    """A worker process ended while it ran a job; the message names the job."""


class _Jobs:
    """The jobs of a batch, handed out one at a time to this process and to the feeders, which
    each keep one worker busy. A worker's error that is not a job's failure (an interrupt, or
    SystemExit: the disk is full) stops the handing out, and is raised in this process.

    Why not only an executor's map: the sweep's own process is one of the `n_jobs` workers (warm
    at once, and counted), and no executor of the standard library hands jobs to its caller.
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
                try:
                    self.done(idx, pool.submit(_run, idx, list(overrides)).result())
                except BrokenProcessPool:  # a worker killed (by the OOM killer, by hand)
                    raise WorkerDied(
                        f"The worker process that ran job #{idx} ({' '.join(overrides)}) died: killed, "
                        "or out of memory; the sweep stops here (resume=latest runs what is left)"
                    ) from None
        except BaseException as err:  # raised again in the sweep's process, by __next__
            self.stop(err)

    def returns(self) -> List[JobReturn]:
        if self.error is not None:
            raise self.error
        return [self.results[idx] for idx in sorted(self.results)]


_worker: Optional[CachedLauncher] = None


def _use_launcher(launcher: CachedLauncher, parent: int) -> None:
    """A forked worker's start: the sweep's launcher, its compose cache and Hydra's state as
    they are. A thread of the sweep's process may have held the console's lock at the fork."""
    global _worker
    _as_worker_of(parent)
    sys.stdout = open(sys.stdout.fileno(), "w", buffering=1, closefd=False)
    sys.stderr = open(sys.stderr.fileno(), "w", buffering=1, closefd=False)
    _worker = launcher


def _make_launcher(
    hydra_context: HydraContext, config: DictConfig, task_function: TaskFunction, state: bytes, parent: int
) -> None:
    """A spawned worker's start: Hydra's state as the sweep's process has it, and a launcher of
    its own, set up as Hydra sets up the sweep's."""
    import cloudpickle

    global _worker
    _as_worker_of(parent)
    Singleton.set_state(cloudpickle.loads(state))
    _worker = CachedLauncher()
    _worker.setup(hydra_context=hydra_context, task_function=task_function, config=config)
    _worker.prepare()


def _as_worker_of(parent: int) -> None:
    """Ctrl-C (or a SIGTERM to the whole process group) is the sweep's process's to handle: it
    stops handing out jobs, and a worker ends the job it has, then exits. A sweep killed
    outright takes its workers along."""
    from hydra_plugins.perceptron_runner.workers import die_with, ignore_stops

    ignore_stops()
    die_with(parent)


def _run(idx: int, overrides: List[str]) -> JobReturn:
    assert _worker is not None
    return _worker.run(overrides, idx)


@dataclass
class ParallelLauncherConf:
    _target_: str = "hydra_plugins.perceptron_runner.parallel.ParallelLauncher"
    n_jobs: Optional[int] = None  # processes at once, this one included; null: one per core
    start_method: Optional[str] = None  # fork or spawn; null: fork on Linux, spawn elsewhere


ConfigStore.instance().store(
    group="hydra/launcher", name="parallel", node=ParallelLauncherConf, provider="perceptron-runner"
)
