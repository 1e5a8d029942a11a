"""One MLflow tracking store as the runner uses it: its URI, one client, runs started and ended.

The runner talks to MLflow through MlflowClient with explicit run ids rather than MLflow's fluent
API: no global "active run" to leak between the jobs a Hydra launcher runs in one process, and no
"already active" clash with a sweep's parent run. runner/tracking.py writes runs through a Store,
runner/readback.py reads sweeps back through one; nothing else imports mlflow.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import urlparse

from filelock import FileLock
from mlflow import MlflowClient
from mlflow.entities import RunInfo
from mlflow.exceptions import MlflowException
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.utils.validation import MAX_TAG_VAL_LENGTH
from sqlalchemy import event, exc
from sqlalchemy.pool import Pool

from runner import signals
from runner.errors import UsageError
from runner.tags import PARENT

log = logging.getLogger("runner")


@event.listens_for(Pool, "connect")
def _owned(dbapi_connection, record) -> None:
    record.info["pid"] = os.getpid()


@event.listens_for(Pool, "checkout")
def _not_inherited(dbapi_connection, record, proxy) -> None:
    """A process forked from another (the parallel launcher's workers) opens connections of its
    own, and leaves its parent's alone: SQLAlchemy's recipe for pools and os.fork()."""
    if record.info.get("pid", os.getpid()) != os.getpid():
        record.dbapi_connection = proxy.dbapi_connection = None
        raise exc.DisconnectionError(f"a connection of process {record.info['pid']}")


# MLflow retries an unreachable server for minutes by default (7 retries, backoff factor 2,
# 120 s per request). A run should fail fast instead; a value set by the user still wins.
for _name, _value in {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
}.items():
    os.environ.setdefault(_name, _value)

LOCAL_UI = "http://127.0.0.1:5000"
ERROR_TAG = "error"
HOST_TAG, PID_TAG = "runner.host", "runner.pid"  # who runs a run: a RUNNING run whose process is
# gone from this host was killed (SIGKILL, out of memory) and is closed by the next command
SQLITE = "sqlite:///"
RESERVE = 512 * 1024  # bytes set aside beside a local store while a sweep runs
LOCK_TIMEOUT = 300  # seconds another command may hold a new store's lock while it builds the schema


class TrackingError(UsageError):
    """The store cannot take this run as configured; the message says why and what to do."""


def absolute(tracking_uri: str, base_dir: str | Path) -> str:
    """The URI with a relative sqlite path made absolute against `base_dir`.

    The default store, sqlite:///outputs/mlflow.db, is relative to where the command was typed,
    which a job that changes folder (hydra.job.chdir=true) would otherwise lose.
    """
    path = tracking_uri[len(SQLITE) :]
    if not tracking_uri.startswith(SQLITE) or path.startswith("/") or path == ":memory:":
        return tracking_uri
    return SQLITE + str(Path(base_dir, path).resolve())


def sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a local sqlite store, None for any other store."""
    if not tracking_uri.startswith(SQLITE) or tracking_uri.endswith(":memory:"):
        return None
    return Path(tracking_uri[len(SQLITE) :])


@functools.cache
def open_store(tracking_uri: str) -> Store:
    """One Store per URI and process, so that a sweep's jobs share its connection pool."""
    return Store(tracking_uri)


class Store:
    def __init__(self, tracking_uri: str) -> None:
        self.uri = tracking_uri
        self._experiments: dict[str, str] = {}

    @functools.cached_property
    def client(self) -> MlflowClient:
        """Made on first use, where find_experiment words whatever keeps the store from opening.
        A local sqlite store is made whole first (prepare_sqlite)."""
        database = sqlite_path(self.uri)
        if database is not None:
            prepare_sqlite(database)
        return MlflowClient(tracking_uri=self.uri)

    def experiment_id(self, name: str) -> str:
        """The id of experiment `name`, created if it does not exist yet (looked up once, when
        the runs that a killed process left RUNNING on this host are closed).

        In a local sqlite store its artifacts go to `mlartifacts/` beside the database file
        (under outputs/ by default) rather than MLflow's default ./mlruns.
        """
        if name not in self._experiments:
            self._experiments[name] = self._experiment_id(name)
            closed = self.close_stale_runs(self._experiments[name])
            if closed:
                log.warning(stale_message(closed))
        return self._experiments[name]

    def close_stale_runs(self, experiment: str) -> list[str]:
        """End KILLED the runs left RUNNING by a process of this host that is gone; returns their
        names, for the caller to say so (stale_message)."""
        host = socket.gethostname()
        query = f"attributes.status = 'RUNNING' AND tags.`{HOST_TAG}` = '{host}'"
        closed = []
        for run in self.client.search_runs([experiment], query, max_results=1000):
            pid = int(run.data.tags.get(PID_TAG, "0"))
            if pid and not _alive(pid):
                self.client.set_tag(
                    run.info.run_id, ERROR_TAG, f"its process ({pid} on {host}) ended without ending it"
                )
                self.end_run(run.info.run_id, "KILLED")
                closed.append(run.info.run_name)
        return closed

    def _experiment_id(self, name: str) -> str:
        found = self.find_experiment(name)
        if found is not None:
            return found
        database = sqlite_path(self.uri)
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
        return TrackingError(f"Cannot use the MLflow tracking store {self.uri}: {reason}")

    def start_run(self, experiment: str, name: str, tags: Mapping[str, str] | None = None) -> str:
        return self.create_run(experiment, name, tags).run_id

    def create_run(self, experiment: str, name: str, tags: Mapping[str, str] | None = None) -> RunInfo:
        """A new RUNNING run, tagged with the host and process that own it (close_stale_runs)."""
        owner = {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}
        return self.client.create_run(experiment, run_name=name, tags={**owner, **(tags or {})}).info

    def log_artifacts(self, run: RunInfo, paths: Iterable[Path]) -> None:
        """Files, and folders under their names without a leading dot, into the run's artifacts:
        what MlflowClient.log_artifact does, without reading the run back for its location (a
        job's three files: 1.3 ms, against 5.1 ms through the client; checked in
        tests/test_mlflow_contract.py)."""
        repository = get_artifact_repository(run.artifact_uri, tracking_uri=self.uri)
        for path in paths:
            if path.is_dir():
                repository.log_artifacts(str(path), path.name.lstrip("."))
            else:
                repository.log_artifact(str(path))

    def end_run(self, run_id: str, status: str) -> None:
        self.client.set_terminated(run_id, status)

    @contextmanager
    def ending(self, run_id: str, status: str = "FINISHED") -> Iterator[None]:
        """End the run with `status` when the block completes; KILLED on Ctrl-C or SIGTERM (also
        when some code turned it into another error), FAILED on an error, which is recorded on
        the run (tag `error`)."""
        try:
            yield
        except BaseException as err:
            if isinstance(err, KeyboardInterrupt) or signals.received():
                self.end_run(run_id, "KILLED")
                raise
            try:
                self.client.set_tag(run_id, ERROR_TAG, describe(err))
            except Exception:  # a full disk may take the tag and still take the status
                pass
            self.end_run(run_id, "FAILED")
            raise
        self.end_run(run_id, status)

    def reserve(self) -> None:
        """Set aside a little room beside a local store, for a sweep to close its runs even when
        its jobs fill the disk (free_reserve); nothing for another store."""
        database = sqlite_path(self.uri)
        if database is not None:
            try:
                database.with_name(f".{database.name}.reserve").write_bytes(bytes(RESERVE))
            except OSError:  # already full: nothing to set aside
                pass

    def free_reserve(self) -> None:
        database = sqlite_path(self.uri)
        if database is not None:
            database.with_name(f".{database.name}.reserve").unlink(missing_ok=True)

    def end_own_runs(self, experiment: str, parent_run_id: str, status: str) -> None:
        """End `status` the sweep's children left RUNNING (a job whose own ending failed, on a
        full disk) by this process, or by one of this host that has ended (a parallel launcher's
        worker)."""
        query = (
            f"attributes.status = 'RUNNING' AND tags.`{PARENT}` = '{parent_run_id}' "
            f"AND tags.`{HOST_TAG}` = '{socket.gethostname()}'"
        )
        for run in self.client.search_runs([experiment], query, max_results=1000):
            pid = int(run.data.tags.get(PID_TAG, "0"))
            if pid == os.getpid() or (pid and not _alive(pid)):
                self.end_run(run.info.run_id, status)

    def ui_base(self) -> str:
        """Where the MLflow UI of this store is: the server itself, or a local `mlflow ui`."""
        remote = urlparse(self.uri).scheme in ("http", "https")
        return self.uri.rstrip("/") if remote else LOCAL_UI

    def ui_command(self, shown_uri: str) -> list[str]:
        """The command that serves a local store's UI; nothing for a server, which serves its own."""
        if urlparse(self.uri).scheme in ("http", "https"):
            return []
        return [f"MLflow UI: mlflow ui --backend-store-uri {shown_uri}"]


def stale_message(closed: list[str]) -> str:
    return f"Ended KILLED {len(closed)} run(s) whose process is gone: {', '.join(closed)}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def prepare_sqlite(path: Path) -> None:
    """Make sure a local sqlite store is whole before MLflow opens it.

    A new store is created once, under an inter-process lock, and atomically: MLflow builds its
    schema in a file beside it, which is then renamed into place; so commands started together
    never race on the schema, and an interrupt or a kill at any moment leaves no store or a whole
    one. An existing store that was left half-built (by an older runner, or another tool) is
    rebuilt when it holds no run, and otherwise refused with what to do.
    """
    if path.is_dir():
        raise TrackingError(
            f"{path} is a folder, not an sqlite file: give a file path, e.g. {path / 'mlflow.db'}"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise TrackingError(f"Cannot create the folder of {path}: {err.strerror or err}") from None
    if not os.access(path.parent, os.W_OK):
        raise TrackingError(f"Cannot write in {path.parent}, the folder of the MLflow store {path}")
    with FileLock(f"{path}.lock", timeout=LOCK_TIMEOUT):
        if path.exists() and _whole(path):
            return
        for stale in path.parent.glob(f".{path.name}.*.building"):  # a killed command's
            stale.unlink(missing_ok=True)
        building = path.with_name(f".{path.name}.{os.getpid()}.building")
        try:
            MlflowClient(tracking_uri=SQLITE + str(building)).search_experiments()  # the schema
            os.replace(building, path)
        finally:
            building.unlink(missing_ok=True)


def _whole(path: Path) -> bool:
    """Whether the file is a store MLflow built to the end; False for one that is safe to build
    again (empty, or half-built without a run); TrackingError for one that is not."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            leftovers = sorted(t for t in tables if t.startswith("_alembic_tmp_"))
            if "alembic_version" in tables and not leftovers:
                return True
            runs = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] if "runs" in tables else 0
    except sqlite3.DatabaseError as err:
        raise TrackingError(
            f"{path} is not an MLflow store ({err}): move it away, or log elsewhere"
        ) from None
    if runs:
        drops = "; ".join(f"DROP TABLE {t}" for t in leftovers)
        raise TrackingError(
            f"The MLflow store {path} was left half-built by an interrupted schema change "
            f"({', '.join(leftovers) or 'no alembic_version'}) and holds {runs} run(s), so it stays: "
            f"back it up, then run: sqlite3 {path} '{drops}' && mlflow db upgrade {SQLITE}{path}"
        )
    path.unlink()  # no run in it: nothing is lost by building it again
    return False


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:MAX_TAG_VAL_LENGTH]
