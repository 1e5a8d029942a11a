"""Reading a sweep back from MLflow: which sweep, what it varied, one row per run.

Used by the sweep's parent at its end and by `python -m runner.report`; reads, never writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from mlflow.entities import Run as MlflowRun
from mlflow.exceptions import MlflowException

from runner.axes import SEED, Axis
from runner.names import RESULT_METRICS, STOP_REASON
from runner.tracking.errors import TrackingError
from runner.tracking.names import (
    AXES_PARAM,
    AXIS_PARAM,
    ERROR_TAG,
    FINGERPRINT_TAG,
    FINISHED,
    JOB_NUM_TAG,
    JOBS_PARAM,
    PARENT_TAG,
    PROGRESS_TAG,
    SEARCH_PARAM,
    SWEEP_DIR_TAG,
)
from runner.tracking.param_text import parse
from runner.tracking.store import Store

FIXED_AXES = ("gate", "lr", "seed")  # in every summary, swept or not


@dataclass(frozen=True)
class Sweep:
    experiment: str
    run_id: str
    name: str
    status: str
    axes: tuple[Axis, ...]
    search: bool
    planned: int | None  # jobs planned, when known


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
    """What a parent run says of its sweep. A sweep logged before its axes were recorded is
    read as swept over gate, lr and seed."""
    params = run.data.params
    order = params.get(AXES_PARAM)
    keys = order.split(",") if order else list(FIXED_AXES)
    axes = tuple(_axis(k, params.get(AXIS_PARAM + k, "")) for k in keys)
    planned = params.get(JOBS_PARAM)
    return Sweep(
        experiment=run.info.experiment_id,
        run_id=run.info.run_id,
        name=run.info.run_name,
        status=run.info.status,
        axes=axes,
        search=params.get(SEARCH_PARAM) == "true",
        planned=int(planned) if planned and planned.isdigit() else None,
    )


def _axis(key: str, listing: str) -> Axis:
    values = tuple(_split(listing))
    return Axis(key, values, _numeric(key, listing), "" if values else listing)


def _split(listing: str) -> list[str]:
    return [] if "(" in listing or not listing else listing.split(",")  # a search's distribution is no list


def _numeric(key: str, listing: str) -> bool:
    if not listing:  # a sweep logged before its axes were: gate, lr, seed
        return key != "gate"
    values = _split(listing)
    if not values:  # interval(...), tag(log, ...): Optuna draws numbers; choice(...) may not
        return not listing.startswith("choice")
    return all(isinstance(parse(v), (int, float)) for v in values)


def sweep_summary(store: Store, sweep: Sweep) -> pd.DataFrame:
    """One row per child run, in job order: its values on the sweep's axes (and on gate, lr and
    seed always), how it ended, its name, status and id."""
    keys = [*FIXED_AXES, *(a.key for a in sweep.axes if a.key not in FIXED_AXES)]
    rows = []
    for run in _latest_per_job(_children(store, sweep.experiment, sweep.run_id)):
        p, m = run.data.params, run.data.metrics
        rows.append(
            {
                "job": int(run.data.tags.get(JOB_NUM_TAG, -1)),
                "run_name": run.info.run_name,
                **{k: parse(p.get(k)) for k in keys},
                **{k: _int_or_none(m.get(k)) for k in RESULT_METRICS},
                STOP_REASON: p.get(STOP_REASON),
                "status": run.info.status,
                "error": run.data.tags.get(ERROR_TAG, ""),
                "run_id": run.info.run_id,
            }
        )
    columns = ["job", "run_name", *keys, *RESULT_METRICS, STOP_REASON, "status", "error", "run_id"]
    frame = pd.DataFrame(rows, columns=columns).sort_values("job", ignore_index=True)
    frame = frame.astype({c: "Int64" for c in RESULT_METRICS})
    if frame[SEED].map(lambda v: isinstance(v, int) and -(2**63) <= v < 2**63 or pd.isna(v)).all():
        frame[SEED] = frame[SEED].astype("Int64")  # else a FAILED job's seed past 64 bits, as typed
    return frame.astype({k: object for k in keys if k != SEED})  # values as logged: 3 stays 3


def finished_jobs(store: Store, sweep: Sweep) -> dict[str, str]:
    """The sweep's FINISHED children by the fingerprint of their job."""
    return {
        run.data.tags[FINGERPRINT_TAG]: run.info.run_id
        for run in _children(store, sweep.experiment, sweep.run_id)
        if run.info.status == FINISHED and FINGERPRINT_TAG in run.data.tags
    }


def progress_lines(store: Store, sweep: Sweep) -> list[tuple[str, str]]:
    """The progress lines that the sweep's children carry as tags (their jobs did not see the
    sweep's folder), by run id."""
    return [
        (run.info.run_id, run.data.tags[PROGRESS_TAG])
        for run in _children(store, sweep.experiment, sweep.run_id, f" and tags.`{PROGRESS_TAG}` LIKE '%'")
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
