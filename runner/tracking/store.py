"""One MLflow tracking store as the runner uses it: one client, its experiments, runs started
and ended.

The runner talks to MLflow through MlflowClient with explicit run ids rather than MLflow's fluent
API: no global "active run" to leak between the jobs a Hydra launcher runs in one process, and no
"already active" clash with a sweep's parent run. writer.py writes runs through a Store, the
app's read-back reads sweeps back through one. A local sqlite store is built whole first
(sqlite_store.py); runs a killed process left RUNNING are closed (stale_runs.py).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import RunInfo
from mlflow.exceptions import MlflowException
from mlflow.utils.validation import MAX_TAG_VAL_LENGTH

from runner.tracking import fork_safety, signals, sqlite_store, stale_runs
from runner.tracking.errors import TrackingError, unusable_store
from runner.tracking.names import ERROR_TAG, FAILED, FINISHED

log = logging.getLogger("runner")

# MLflow retries an unreachable server for minutes by default (7 retries, backoff factor 2,
# 120 s per request). A run should fail fast instead; a value set by the user still wins.
HTTP_RETRIES = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
    # and the runner prints its own links: not MLflow's two lines per run ended on a server
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}


def open_store(tracking_uri: str, base_dir: str | Path | None = None, read_only: bool = False) -> Store:
    """One Store per URI and process, so that a sweep's jobs share its connection pool; with
    `base_dir`, a relative sqlite path is taken from there (sqlite_store.absolute). A store
    opened `read_only` (a report's) may sit where nothing can be written."""
    uri = tracking_uri if base_dir is None else sqlite_store.absolute(tracking_uri, base_dir)
    return _store(uri, read_only)


@functools.cache
def _store(tracking_uri: str, read_only: bool) -> Store:
    return Store(tracking_uri, read_only)


class Store:
    def __init__(self, tracking_uri: str, read_only: bool = False) -> None:
        self.uri = tracking_uri
        self.read_only = read_only
        self._experiments: dict[str, str] = {}

    @functools.cached_property
    def client(self) -> MlflowClient:
        """Made on first use, where find_experiment words whatever keeps the store from opening.

        Opening the first store sets what the process needs of MLflow's libraries: SQLAlchemy's
        pools made safe across fork (runner/tracking/fork_safety.py), no progress bars of MLflow's
        artifact downloads among the sweep's lines, and, for a tracking server, MLflow's
        HTTP retries bounded (HTTP_RETRIES, in the process's environment, where MLflow reads
        them; a value the user set is kept)."""
        fork_safety.install()
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # no tqdm bar mid-sweep
        if self.uri.startswith(("http://", "https://")):
            for name, value in HTTP_RETRIES.items():
                os.environ.setdefault(name, value)
            return MlflowClient(tracking_uri=self.uri)  # a request cut off leaves nothing half-done
        database = sqlite_store.sqlite_path(self.uri)
        if database is not None:
            (sqlite_store.prepare_to_read if self.read_only else sqlite_store.prepare)(database)
        return signals.HeldCalls(MlflowClient(tracking_uri=self.uri))  # a session is not cut in half

    def experiment_id(self, name: str) -> str:
        """The id of experiment `name`, created if it does not exist yet (looked up once, when
        the runs that a killed process left RUNNING on this host are closed).

        In a local sqlite store its artifacts go to `mlartifacts/` beside the database file
        (under outputs/ by default) rather than MLflow's default ./mlruns.
        """
        if name not in self._experiments:
            self._experiments[name] = self._experiment_id(name)
            closed = stale_runs.close_stale(self.client, self._experiments[name])
            if closed:
                log.warning(stale_runs.message(closed))
        return self._experiments[name]

    def _experiment_id(self, name: str) -> str:
        found = self.find_experiment(name)
        if found is not None:
            return found
        database = sqlite_store.sqlite_path(self.uri)
        location = (database.parent / "mlartifacts").as_uri() if database else None
        try:
            return self.client.create_experiment(name, artifact_location=location)
        except MlflowException:
            found = self.find_experiment(name)  # created meanwhile by a parallel job
            if found is None:
                raise
            return found

    def find_experiment(self, name: str) -> str | None:
        """The id of an existing, active experiment `name`; None if there is none."""
        try:
            found = self.client.get_experiment_by_name(name)
        except Exception as err:  # whatever keeps the store from opening: say it in one line
            raise self.unusable(err) from None
        if found is not None and found.lifecycle_stage == "deleted":
            raise TrackingError(
                f"MLflow experiment {name!r} was deleted in {self.uri}: restore it in the MLflow "
                f"UI, or log to another one with mlflow.experiment_name=..."
            )
        return None if found is None else found.experiment_id

    def unusable(self, error: Exception) -> TrackingError:
        text = str(error).strip()
        reason = text.splitlines()[0] if text else type(error).__name__
        return unusable_store(self.uri, reason)

    def start_run(self, experiment: str, name: str, tags: Mapping[str, str] | None = None) -> str:
        return self.create_run(experiment, name, tags).run_id

    def create_run(self, experiment: str, name: str, tags: Mapping[str, str] | None = None) -> RunInfo:
        """A new RUNNING run, tagged with the process that owns it (stale_runs.py)."""
        tags = {**stale_runs.owner_tags(), **(tags or {})}
        return self.client.create_run(experiment, run_name=name, tags=tags).info

    @contextmanager
    def running(self, experiment: str, name: str, tags: Mapping[str, str]) -> Iterator[RunInfo]:
        """A new run for the block, ended as `ending` ends it, even by a Ctrl-C that comes as it
        is created (a held call returns the new id, then raises: here, once `ending` holds it)."""
        with ExitStack() as stack:
            with signals.held():
                info = self.create_run(experiment, name, tags)
                stack.enter_context(self.ending(info.run_id))
            yield info

    @property
    def local(self) -> bool:
        """Whether the store is an sqlite file on this machine."""
        return sqlite_store.sqlite_path(self.uri) is not None

    def reserve(self) -> None:
        """Set aside room beside a local store for a sweep to close its runs should its jobs fill
        the disk (sqlite_store.reserve)."""
        sqlite_store.reserve(self.uri)

    def free_reserve(self) -> None:
        sqlite_store.free_reserve(self.uri)

    def end_left_running(
        self, experiment: str, parent_run_id: str, status: str, every_job_returned: bool
    ) -> None:
        """End with `status` the children of `parent_run_id` still RUNNING (stale_runs.py)."""
        stale_runs.end_left_running(self.client, experiment, parent_run_id, status, every_job_returned)

    def end_run(self, run_id: str, status: str) -> None:
        self.client.set_terminated(run_id, status)

    @contextmanager
    def ending(self, run_id: str, status: str = FINISHED) -> Iterator[None]:
        """End the run with `status` when the block completes; KILLED on Ctrl-C or SIGTERM,
        FAILED on an error, which is recorded on the run (tag `error`)."""
        try:
            yield
        except BaseException as err:
            ended = signals.status_after(err)
            if ended == FAILED:
                try:
                    self.client.set_tag(run_id, ERROR_TAG, describe(err))
                except Exception:  # a full disk may take the tag and still take the status
                    pass
            self.end_run(run_id, ended)
            raise
        self.end_run(run_id, status)


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:MAX_TAG_VAL_LENGTH]
