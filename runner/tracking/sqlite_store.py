"""A local sqlite store: its file in a tracking URI, built whole before MLflow opens it, and a
little disk set aside beside it while a sweep runs. Standard library and filelock only."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from filelock import FileLock

from runner.tracking.errors import TrackingError, unusable_store

SQLITE = "sqlite:///"
RESERVE = 512 * 1024  # bytes set aside beside a local store while a sweep runs
LOCK_TIMEOUT = 300  # seconds another command may hold a new store's lock while it builds the schema


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


def writable(path: Path) -> bool:
    return _unwritable(path) is None


def _unwritable(path: Path) -> str | None:
    """Why a store's file or its folder cannot be written (sqlite writes a journal beside the
    file): a read-only folder or mount, a read-only or immutable file (chattr +i, which binds root
    too); None when both can."""
    if not os.access(path.parent, os.W_OK):
        return f"Cannot write in {path.parent}, the folder of the MLflow store {path}"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{path} is read-only: make it writable, or log elsewhere (mlflow.tracking_uri=...)"
    return None


def refuse_unwritable(tracking_uri: str) -> None:
    """Refuse a local store that cannot be written, before a run does its work: the checks of
    `prepare`, without MLflow (which a single run imports while its helper draws the run)."""
    path = sqlite_path(tracking_uri)
    why = path is not None and path.parent.is_dir() and _unwritable(path)
    if why:
        raise unusable_store(tracking_uri, why)


def prepare_to_read(path: Path) -> None:
    """Check a store that is only read (a report), which may sit where nothing can be written."""
    if not _is_built(path, rebuild=False):
        raise TrackingError(f"{path} is not a whole MLflow store, and it cannot be written: nothing to read")


def prepare(path: Path) -> None:
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
    unwritable = _unwritable(path)
    if unwritable:
        raise TrackingError(unwritable)
    with FileLock(f"{path}.lock", timeout=LOCK_TIMEOUT):
        if path.exists() and _is_built(path):
            return
        for stale in path.parent.glob(f".{path.name}.*.building"):  # a killed command's
            stale.unlink(missing_ok=True)
        building = path.with_name(f".{path.name}.{os.getpid()}.building")
        try:
            from mlflow import MlflowClient

            MlflowClient(tracking_uri=SQLITE + str(building)).search_experiments()  # the schema
            os.replace(building, path)
        finally:
            building.unlink(missing_ok=True)


def _is_built(path: Path, rebuild: bool = True) -> bool:
    """Whether the file is a store MLflow built to the end; False for one that is safe to build
    again (empty, or half-built without a run: removed, to `rebuild`); TrackingError for one
    that is not."""
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
    if runs and rebuild:
        drops = "; ".join(f"DROP TABLE {t}" for t in leftovers)
        raise TrackingError(
            f"The MLflow store {path} was left half-built by an interrupted schema change "
            f"({', '.join(leftovers) or 'no alembic_version'}) and holds {runs} run(s), so it stays: "
            f"back it up, then run: sqlite3 {path} '{drops}' && mlflow db upgrade {SQLITE}{path}"
        )
    if rebuild:
        path.unlink()  # no run in it: nothing is lost by building it again
    return False


def _reserve_file(tracking_uri: str) -> Path | None:
    database = sqlite_path(tracking_uri)
    return None if database is None else database.with_name(f".{database.name}.reserve")


def reserve(tracking_uri: str) -> None:
    """Set aside a little room beside a local store, for a sweep to close its runs even when its
    jobs fill the disk (free_reserve); nothing for another store."""
    path = _reserve_file(tracking_uri)
    if path is not None:
        try:
            path.write_bytes(bytes(RESERVE))
        except OSError:  # already full: nothing to set aside
            pass


def free_reserve(tracking_uri: str) -> None:
    path = _reserve_file(tracking_uri)
    if path is not None:
        path.unlink(missing_ok=True)
