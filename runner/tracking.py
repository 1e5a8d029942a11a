"""Everything the runner writes to MLflow; the only module that imports mlflow.

It uses MlflowClient with explicit run ids rather than MLflow's fluent API: no global "active run"
to leak between the jobs a Hydra launcher runs in one process, and no "already active" clash
with a sweep's parent run. All of a run's params and metrics go in batched calls.
"""

from __future__ import annotations

import functools
import json
import math
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import urlparse

import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH, MAX_TAG_VAL_LENGTH

from runner.errors import UsageError

# MLflow retries an unreachable server for minutes by default (7 retries, backoff factor 2,
# 120 s per request). A run should fail fast instead; a value set by the user still wins.
for _name, _value in {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
}.items():
    os.environ.setdefault(_name, _value)

LOCAL_UI = "http://127.0.0.1:5000"
JOB_NUM_TAG = "hydra.job.num"
ERROR_TAG = "error"
SWEEP_TAG = "sweep.dir"  # on a sweep's parent run
SUMMARY_COLUMNS = ["gate", "lr", "seed", "epochs", "converged", "stop_reason", "updates"]


class TrackingError(UsageError):
    """The store cannot take this run as configured; the message says why and what to do."""


def absolute(tracking_uri: str, base_dir: str | Path) -> str:
    """The URI with a relative sqlite path made absolute against `base_dir`.

    The default store, sqlite:///outputs/mlflow.db, is relative to where the command was typed,
    which a job that changes folder (hydra.job.chdir=true) would otherwise lose.
    """
    prefix = "sqlite:///"
    path = tracking_uri[len(prefix) :]
    if not tracking_uri.startswith(prefix) or path.startswith("/") or path == ":memory:":
        return tracking_uri
    return prefix + str(Path(base_dir, path).resolve())


@functools.cache
def client(tracking_uri: str) -> MlflowClient:
    """One client per store and process, so a sweep's jobs share its connection pool."""
    return MlflowClient(tracking_uri=tracking_uri)


@functools.cache
def experiment_id(tracking_uri: str, name: str) -> str:
    """The id of experiment `name`, created if it does not exist yet (looked up once a process).

    In a local sqlite store its artifacts go to `mlartifacts/` beside the database file
    (under outputs/ by default) rather than MLflow's default ./mlruns.
    """
    try:
        mlflow = client(tracking_uri)
        found = mlflow.get_experiment_by_name(name)
    except Exception as err:  # whatever keeps the store from opening: say it in one line
        raise _unusable(tracking_uri, err) from None
    if found is not None and found.lifecycle_stage == "deleted":
        raise TrackingError(
            f"MLflow experiment {name!r} was deleted in {tracking_uri}: restore it in the MLflow "
            f"UI, or log to another one with mlflow.experiment_name=..."
        )
    if found is not None:
        return found.experiment_id
    try:
        return mlflow.create_experiment(name, artifact_location=_artifact_location(tracking_uri))
    except MlflowException:
        found = mlflow.get_experiment_by_name(name)  # created meanwhile by a parallel job
        if found is None:
            raise
        return found.experiment_id


def _unusable(tracking_uri: str, error: Exception) -> TrackingError:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return TrackingError(f"Cannot use the MLflow tracking store {tracking_uri}: {reason}")


def _artifact_location(tracking_uri: str) -> str | None:
    prefix = "sqlite:///"
    if not tracking_uri.startswith(prefix) or tracking_uri.endswith(":memory:"):
        return None  # a server or another database decides where artifacts go
    return (Path(tracking_uri[len(prefix) :]).parent / "mlartifacts").as_uri()


def start_run(
    tracking_uri: str, experiment: str, run_name: str, tags: Mapping[str, str] | None = None
) -> str:
    run = client(tracking_uri).create_run(experiment, run_name=run_name, tags=dict(tags or {}))
    return run.info.run_id


@contextmanager
def ending(tracking_uri: str, run_id: str, status: str = "FINISHED") -> Iterator[None]:
    """End the run with `status` when the block completes; KILLED on Ctrl-C or SIGTERM, FAILED
    on an error, which is recorded on the run (tag `error`)."""
    try:
        yield
    except KeyboardInterrupt:
        end_run(tracking_uri, run_id, "KILLED")
        raise
    except BaseException as err:
        client(tracking_uri).set_tag(run_id, ERROR_TAG, describe(err))
        end_run(tracking_uri, run_id, "FAILED")
        raise
    end_run(tracking_uri, run_id, status)


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:MAX_TAG_VAL_LENGTH]


def record_failure(
    tracking_uri: str, experiment_name: str, run_name: str, tags: Mapping[str, str], error: BaseException
) -> None:
    """A FAILED run for a job that failed before it had one, with the error as its tag."""
    experiment = experiment_id(tracking_uri, experiment_name)
    run_id = start_run(tracking_uri, experiment, run_name, {**tags, ERROR_TAG: describe(error)})
    end_run(tracking_uri, run_id, "FAILED")


def end_run(tracking_uri: str, run_id: str, status: str) -> None:
    client(tracking_uri).set_terminated(run_id, status)


def record_training(
    tracking_uri: str,
    experiment_name: str,
    run_name: str,
    tags: Mapping[str, str],
    params: Mapping[str, Any],
    result: Any,
    table: Any,
    artifacts: Iterable[Path],
) -> tuple[str, str]:
    """Log one training result (a perceptron.TrainResult) and what is known of its table (a
    separability.Separability) as a complete run; returns the experiment id and the run id.

    `params` is a nested mapping; it is flattened with dotted keys and each value is written as
    JSON, so 1 and 1.0 from a typed config both read "1.0". A value longer than MLflow allows for
    a param goes, whole, to the artifact params_too_long.json instead of being cut.
    """
    experiment = experiment_id(tracking_uri, experiment_name)
    run_id = start_run(tracking_uri, experiment, run_name, {**tags, "stop_reason": result.stop_reason})
    mlflow = client(tracking_uri)
    with ending(tracking_uri, run_id):
        flat = {**dict(_flatten(params)), "stop_reason": result.stop_reason}
        texts = {k: _param_text(v) for k, v in flat.items()}  # a big table is serialised once
        too_long = {k: flat[k] for k, text in texts.items() if len(text) > MAX_PARAM_VAL_LENGTH}
        now = int(time.time() * 1000)
        mlflow.log_batch(
            run_id,
            params=[Param(k, text) for k, text in texts.items() if k not in too_long],
            metrics=[Metric(k, v, now, step) for k, v, step in _metrics(result, table)],
        )
        if too_long:
            mlflow.log_dict(run_id, too_long, "params_too_long.json")
        for path in artifacts:
            if path.is_dir():
                mlflow.log_artifacts(run_id, str(path), path.name.lstrip("."))
            else:
                mlflow.log_artifact(run_id, str(path))
        mlflow.log_table(run_id, result.trace, "trace.json")
    return experiment, run_id


def _flatten(params: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in params.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _param_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _metrics(result: Any, table: Any) -> Iterable[tuple[str, float, int]]:
    for epoch, errors in enumerate(result.errors, start=1):
        yield "errors", float(errors), epoch
        yield "mse", float(result.mse[epoch - 1]), epoch
        for i, w in enumerate(result.epoch_weights[epoch - 1], start=1):
            yield f"w{i}", float(w), epoch
        yield "b", float(result.epoch_bias[epoch - 1]), epoch
    yield "epochs", float(result.epochs), 0
    yield "converged", float(result.converged), 0
    yield "updates", float(result.updates), 0
    # Every run logs the same names, so that runs compare side by side: NaN when the table has
    # no bound (not separable), 0 when no cycle was found.
    yield "separable", float(table.separable), 0
    yield "update_bound", table.update_bound if table.separable else math.nan, 0
    yield "cycle_length", float(result.cycle_length or 0), 0


def sweep_summary(tracking_uri: str, experiment: str, parent_run_id: str) -> pd.DataFrame:
    """One row per child run of a sweep, in job order: what was run and how it ended."""
    rows = []
    for run in _children(tracking_uri, experiment, parent_run_id):
        p, m = run.data.params, run.data.metrics
        rows.append(
            {
                "job": int(run.data.tags.get(JOB_NUM_TAG, -1)),
                "run_name": run.info.run_name,
                "gate": p.get("gate"),
                "lr": float(p["lr"]) if "lr" in p else None,
                "seed": int(p["seed"]) if "seed" in p else None,
                "epochs": _int_or_none(m.get("epochs")),
                "converged": _int_or_none(m.get("converged")),
                "stop_reason": p.get("stop_reason"),
                "updates": _int_or_none(m.get("updates")),
                "status": run.info.status,
                "error": run.data.tags.get(ERROR_TAG, ""),
                "run_id": run.info.run_id,
            }
        )
    columns = ["job", "run_name", *SUMMARY_COLUMNS, "status", "error", "run_id"]
    frame = pd.DataFrame(rows, columns=columns).sort_values("job", ignore_index=True)
    return frame.astype({c: "Int64" for c in ("seed", "epochs", "converged", "updates")})


def find_sweep(tracking_uri: str, experiment_name: str, parent_run_id: str | None) -> tuple[str, str, str]:
    """The experiment id, parent run id and name of a sweep: the given one, or the latest."""
    try:
        mlflow = client(tracking_uri)
        found = mlflow.get_experiment_by_name(experiment_name)
    except Exception as err:
        raise _unusable(tracking_uri, err) from None
    if found is None:
        raise TrackingError(f"No MLflow experiment {experiment_name!r} in {tracking_uri}")
    if parent_run_id:
        try:
            run = mlflow.get_run(parent_run_id)
        except MlflowException:
            raise TrackingError(f"No run {parent_run_id} in {tracking_uri}") from None
    else:
        latest = mlflow.search_runs(
            [found.experiment_id], f"tags.`{SWEEP_TAG}` LIKE '%'", max_results=1,
            order_by=["attributes.start_time DESC"],
        )
        if not latest:
            raise TrackingError(f"No sweep in experiment {experiment_name!r} of {tracking_uri}")
        run = latest[0]
    return run.info.experiment_id, run.info.run_id, run.info.run_name


def _children(tracking_uri: str, experiment: str, parent_run_id: str) -> Iterable[Any]:
    query = f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{parent_run_id}'"
    token = None
    while True:
        page = client(tracking_uri).search_runs([experiment], query, page_token=token)
        yield from page
        token = page.token
        if not token:
            return


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)


def log_summary(tracking_uri: str, run_id: str, summary: pd.DataFrame, files: Iterable[Path]) -> None:
    """Attach a sweep's summary table to its parent run as an MLflow table, with its files
    (the summary as CSV, its pivot tables, its heatmap)."""
    mlflow = client(tracking_uri)
    for path in files:
        mlflow.log_artifact(run_id, str(path))
    mlflow.log_table(run_id, summary, "summary.json")


def where_to_look(
    tracking_uri: str, experiment: str, run_id: str, what: str = "this run"
) -> list[str]:
    """Console lines pointing at a run in the MLflow UI.

    MLflow 3's UI opens on its GenAI view; workflowType=machine_learning asks for the classic
    "Model training" view, with the runs table and the run pages that go with it.
    """
    remote = urlparse(tracking_uri).scheme in ("http", "https")
    base = tracking_uri.rstrip("/") if remote else LOCAL_UI
    runs = f"{base}/#/experiments/{experiment}/runs"
    view = "?workflowType=machine_learning"
    lines = [] if remote else [f"MLflow UI: mlflow ui --backend-store-uri {tracking_uri}"]
    lines += [f"  {what + ':':<11}{runs}/{run_id}{view}", f"  {'all runs:':<11}{runs}{view}"]
    return lines
