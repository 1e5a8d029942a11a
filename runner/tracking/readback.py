"""Reading a sweep back from MLflow: which sweep, what it varied, one row per run.

Used by the sweep's parent at its end and by an app's report; reads, never writes. What a row
holds beside the sweep's axes (params every row shows, the results) is the app's to say
(`Columns`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.entities import Run as MlflowRun
from mlflow.exceptions import MlflowException

from runner.tracking import sqlite_store, stale_runs
from runner.tracking.axes import Axis
from runner.tracking.errors import TrackingError
from runner.tracking.names import (
    AXES_PARAM,
    AXIS_PARAM,
    ERROR_TAG,
    FINGERPRINT_TAG,
    FINISHED,
    JOB_NUM_TAG,
    JOBS_PARAM,
    OVERRIDES_TAG,
    PARENT_TAG,
    POINT_TAG,
    PROGRESS_TAG,
    SEARCH_PARAM,
    SWEEP_DIR_TAG,
    SWEEP_TAG,
    Columns,
)
from runner.tracking.param_text import exact, parse
from runner.tracking.store import Store, open_store


@dataclass(frozen=True)
class Sweep:
    experiment: str
    run_id: str
    name: str
    status: str
    axes: tuple[Axis, ...]
    search: bool
    planned: int | None  # jobs planned, when known
    overrides: tuple[str, ...] = ()  # the command's, credentials left out


def read_sweep(
    tracking_uri: str, base_dir: str | Path, experiment_name: str, parent_run_id: str | None, columns: Columns
) -> tuple[Sweep, pd.DataFrame]:
    """A sweep (by its parent run's id, or the latest) and its summary, for a report: from a
    store that must be there (a UsageError says it is not). Runs whose process is gone are
    ended first, so that a killed sweep reads as what it is; stderr says which."""
    database = sqlite_store.sqlite_path(sqlite_store.absolute(tracking_uri, base_dir))
    if database is not None and not database.is_file():
        raise TrackingError(f"No MLflow store at {database} ({tracking_uri}): nothing to report")
    read_only = database is not None and not sqlite_store.writable(database)
    store = open_store(tracking_uri, base_dir, read_only)
    experiment = store.find_experiment(experiment_name)
    # a store that cannot be written keeps what a killed process left RUNNING: read as it is
    closed = (
        stale_runs.close_stale(store.client, experiment) if experiment is not None and not read_only else []
    )
    if closed:
        print(stale_runs.message(closed), file=sys.stderr)
    sweep = find_sweep(store, experiment_name, parent_run_id)
    return sweep, sweep_summary(store, sweep, columns)


def find_sweep(store: Store, experiment_name: str, parent_run_id: str | None) -> Sweep:
    """A sweep by its parent run's id, or the latest in the experiment."""
    experiment = store.find_experiment(experiment_name)
    if experiment is None:
        raise TrackingError(f"No MLflow experiment {experiment_name!r} in {store.uri}")
    if parent_run_id:
        try:
            run = store.client.get_run(parent_run_id)
        except MlflowException:
            raise TrackingError(f"No run {parent_run_id} in {store.uri}") from None
        if SWEEP_DIR_TAG not in run.data.tags:  # what every sweep's parent carries from its start
            kind = "a sweep's job" if PARENT_TAG in run.data.tags else "a single run"
            raise TrackingError(
                f"Run {parent_run_id} ({run.info.run_name}) is {kind}, not a sweep's parent run: "
                "give the id of the parent (its `its parent:` link), or leave it out for the latest sweep"
            )
    else:
        latest = store.client.search_runs(
            [experiment],
            f"tags.`{SWEEP_DIR_TAG}` LIKE '%'",
            max_results=1,
            order_by=["attributes.start_time DESC"],
        )
        if not latest:
            raise TrackingError(f"No sweep in experiment {experiment_name!r} of {store.uri}")
        run = latest[0]
    return sweep_of(run)


def sweep_of(run: MlflowRun) -> Sweep:
    """What a parent run says of its sweep: from its JSON tag, or its params when it has none
    (a sweep logged before the tag was, or one too large for a tag)."""
    base = {"experiment": run.info.experiment_id, "run_id": run.info.run_id, "name": run.info.run_name}
    written = run.data.tags.get(SWEEP_TAG)
    if written is not None:
        said = json.loads(written)
        axes = tuple(Axis(a["key"], tuple(a["values"]), a["numeric"], a["spec"]) for a in said["axes"])
        overrides = tuple(said["overrides"])
        return Sweep(
            **base,
            status=run.info.status,
            axes=axes,
            search=said["search"],
            planned=said["jobs"],
            overrides=overrides,
        )
    params = run.data.params
    order = params.get(AXES_PARAM)
    keys = order.split(",") if order else []
    planned = params.get(JOBS_PARAM)
    return Sweep(
        **base,
        status=run.info.status,
        axes=tuple(_axis(k, params.get(AXIS_PARAM + k, "")) for k in keys),
        search=params.get(SEARCH_PARAM) == "true",
        planned=int(planned) if planned and planned.isdigit() else None,
        overrides=tuple(run.data.tags.get(OVERRIDES_TAG, "").split()),
    )


def _axis(key: str, listing: str) -> Axis:
    values = tuple(_split(listing))
    return Axis(key, values, _numeric(listing), "" if values else listing)


def _split(listing: str) -> list[str]:
    return [] if "(" in listing or not listing else listing.split(",")  # a search's distribution is no list


def _numeric(listing: str) -> bool:
    values = _split(listing)
    if not values:  # interval(...), tag(log, ...): Optuna draws numbers; choice(...) may not
        return not listing.startswith("choice")
    return all(isinstance(parse(v), (int, float)) for v in values)


def sweep_summary(store: Store, sweep: Sweep, columns: Columns) -> pd.DataFrame:
    """One row per child run, in job order: its values on the sweep's axes (and on
    `columns.params` always), its results, its name, status and id. A column of whole numbers
    (or none) is whole numbers (Int64); any other keeps its values as logged: 3 stays 3, 0.5
    stays 0.5."""
    keys = [*columns.params, *(a.key for a in sweep.axes if a.key not in columns.params)]
    rows = []
    for run in _latest_per_job(_children(store, sweep.experiment, sweep.run_id)):
        p, m = run.data.params, run.data.metrics
        point = json.loads(run.data.tags.get(POINT_TAG, "{}"))
        rows.append(
            {
                "job": int(run.data.tags.get(JOB_NUM_TAG, -1)),
                "run_name": run.info.run_name,
                **{k: _shown(point[k]) if k in point else parse(p.get(k)) for k in keys},
                **{k: _int_or_none(m.get(k)) for k in columns.metrics},
                **{k: p.get(k) for k in columns.notes},
                "status": run.info.status,
                "error": run.data.tags.get(ERROR_TAG, ""),
                "run_id": run.info.run_id,
            }
        )
    names = ["job", "run_name", *keys, *columns.metrics, *columns.notes, "status", "error", "run_id"]
    frame = pd.DataFrame(rows, columns=names).sort_values("job", ignore_index=True)
    frame = frame.astype({c: "Int64" for c in columns.metrics})
    return frame.astype({k: "Int64" if _whole(frame[k]) else object for k in keys})


def _shown(value: Any) -> Any:
    """A value of a run's point as a cell of the summary: a list as its text, `[0, 0]` (a cell
    of a pivot is one value), whole numbers whole; anything else as it was."""
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) if isinstance(v, list) else exact(v) for v in value) + "]"
    return json.dumps(value) if isinstance(value, dict) else value


def _whole(column: pd.Series) -> bool:
    """Whether every value is a whole number that Int64 holds, or missing (a FAILED job's seed
    past 64 bits stays as typed)."""
    present = [v for v in column if not pd.isna(v)]
    return bool(present) and all(
        isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63 for v in present
    )


def finished_jobs(store: Store, sweep: Sweep) -> dict[str, str]:
    """The sweep's FINISHED children by the fingerprint of their job."""
    return {
        run.data.tags[FINGERPRINT_TAG]: run.info.run_id
        for run in _children(store, sweep.experiment, sweep.run_id)
        if run.info.status == FINISHED and FINGERPRINT_TAG in run.data.tags
    }


def progress_reader(store: Store, experiment: str, run_id: str) -> Callable[[], list[str]] | None:
    """What reads the progress lines that jobs which do not see the sweep's folder send through
    the store (sweep_job.py): each call returns the lines new since the last. None for a local
    store, whose jobs all see the folder beside it."""
    if store.local:
        return None
    seen = set(_progress_lines(store, experiment, run_id))  # a resumed sweep's lines of before

    def new() -> list[str]:
        fresh = [line for line in _progress_lines(store, experiment, run_id) if line not in seen]
        seen.update(fresh)
        return [text for _, text in fresh]

    return new


def _progress_lines(store: Store, experiment: str, run_id: str) -> list[tuple[str, str]]:
    """The progress lines that the sweep's children carry as tags, by run id."""
    return [
        (run.info.run_id, run.data.tags[PROGRESS_TAG])
        for run in _children(store, experiment, run_id, f" and tags.`{PROGRESS_TAG}` LIKE '%'")
        if PROGRESS_TAG in run.data.tags
    ]


def _latest_per_job(runs: Iterable[MlflowRun]) -> list[MlflowRun]:
    """One run per job of a sweep that was resumed: its FINISHED run, else its latest."""
    kept: dict[str, MlflowRun] = {}
    others = []
    for run in runs:
        job = run.data.tags.get(FINGERPRINT_TAG)
        if job is None:
            others.append(run)
            continue
        best = kept.get(job)
        rank = (run.info.status == FINISHED, run.info.start_time or 0)
        if best is None or rank > (best.info.status == FINISHED, best.info.start_time or 0):
            kept[job] = run
    return [*kept.values(), *others]


def _children(store: Store, experiment: str, parent_run_id: str, also: str = "") -> Iterable[MlflowRun]:
    query = f"tags.`{PARENT_TAG}` = '{parent_run_id}'{also}"
    token = None
    while True:
        page = store.client.search_runs([experiment], query, page_token=token)
        yield from page
        token = page.token
        if not token:
            return


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)
