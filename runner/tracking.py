"""Writing to MLflow: a training run, a job that failed, a sweep's parent run and its views.

Each run is written complete: its params and metrics in one batched call, then its artifacts.
Param values are written as runner/param_text.py says.
"""

from __future__ import annotations

import functools
import json
import math
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunInfo, RunTag
from mlflow.exceptions import MlflowException
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

from runner import views
from runner.names import DATASET_CONTEXT_TAG, EPOCH_IMAGES_KEY, ERROR_TAG, LOGGED_ARTIFACTS_TAG, STOP_REASON
from runner.param_text import param_text
from runner.store import Store, describe

if TYPE_CHECKING:
    from PIL.Image import Image

    from runner.run import TrainedRun

TRACE_DIGITS = 6  # significant digits of the trace table shown in the UI (trace.csv keeps all)
TRACE_TABLE = "trace.json"
SUMMARY_TABLE = "summary.json"


def write_tables(run: TrainedRun, folder: Path) -> list[Path]:
    """The run's tables as files to log: trace.csv (every digit), gate.csv, and trace.json, the
    trace as a person reads it, which the UI shows as a table (see record_training)."""
    trace_csv, gate_csv, trace_json = folder / "trace.csv", folder / "gate.csv", folder / TRACE_TABLE
    run.result.trace.to_csv(trace_csv, index=False)
    run.truth_table().to_csv(gate_csv, index=False)
    write_table(_readable(run.result.trace), trace_json)
    return [trace_csv, gate_csv, trace_json]


# What MlflowClient.log_table writes, done by hand: log_table also lists the run's artifacts and
# reads the run back to add its tag (17 ms a run here, against 2 ms for the file and the tag set
# when the run is created), and it appends to a table the run has already, which a resumed
# sweep's parent has. tests/test_mlflow_contract.py checks both against log_table's own.
def table_tag(path: str) -> dict[str, str]:
    return {LOGGED_ARTIFACTS_TAG: json.dumps([{"path": path, "type": "table"}])}


TABLE_TAG = table_tag(TRACE_TABLE)


def write_table(table: pd.DataFrame, path: Path) -> None:
    table.to_json(path, orient="split", index=False, date_format="iso")


def record_training(
    store: Store,
    experiment: str,
    name: str,
    tags: Mapping[str, str],
    params: Mapping[str, Any],
    run: TrainedRun,
    artifacts: Iterable[Path],
    gate: Dataset,
    epoch_images: Sequence[tuple[int, Image]] = (),
) -> str:
    """Log one run, complete, in four calls to the store (create, one batch, its gate as an
    input dataset, end) and a copy of its artifacts; returns its id. `epoch_images`, the
    decision line after each epoch, go through MlflowClient.log_image, each with its step.

    `params` is a nested mapping, flattened with dotted keys. A value longer than MLflow allows
    for a param goes, whole, to the artifact params_too_long.json instead of being cut.
    """
    result = run.result
    mlflow = store.client
    with store.running(experiment, name, {**tags, STOP_REASON: result.stop_reason, **TABLE_TAG}) as info:
        run_id = info.run_id
        flat = {**dict(_flatten(params)), STOP_REASON: result.stop_reason}
        texts = {k: param_text(v) for k, v in flat.items()}  # a big table is serialised once
        too_long = {k: flat[k] for k, text in texts.items() if len(text) > MAX_PARAM_VAL_LENGTH}
        now = int(time.time() * 1000)
        mlflow.log_batch(
            run_id,
            params=[Param(k, text) for k, text in texts.items() if k not in too_long],
            metrics=[Metric(k, v, now, step) for k, v, step in _metrics(run)],
        )
        log_gate(store, run_id, gate)
        if too_long:
            mlflow.log_dict(run_id, too_long, "params_too_long.json")
        log_artifacts(store, info, artifacts)
        for step, image in epoch_images:
            mlflow.log_image(run_id, image, key=EPOCH_IMAGES_KEY, step=step)
    return run_id


def log_gate(store: Store, run_id: str, gate: Dataset, tries: int = 3) -> None:
    """The run's truth table as its input dataset. MLflow's store looks a dataset up, then
    inserts it, so jobs that log the same new table at once race on its unique key; the one
    that lost tries again, and then finds it."""
    inputs = [DatasetInput(gate, tags=[InputTag(DATASET_CONTEXT_TAG, "training")])]
    for attempt in range(tries):
        try:
            store.client.log_inputs(run_id, datasets=inputs)
            return
        except MlflowException:
            if attempt == tries - 1:
                raise


@functools.lru_cache(maxsize=64)  # a sweep's few tables: built once each
def _gate_dataset(
    name: str, source: str, columns: tuple[str, ...], rows: tuple[tuple[float, ...], ...]
) -> Dataset:
    import mlflow.data

    table = pd.DataFrame(list(rows), columns=list(columns))
    with warnings.catch_warnings():  # MLflow's own, about itself: that it registers its local
        warnings.simplefilter("ignore")  # source twice, and a pandas call pandas 4 will change
        made = mlflow.data.from_pandas(table, source=source, name=name, targets=columns[-1])
    return Dataset(**made.to_dict())


def gate_dataset(run: TrainedRun, name: str, source: Path) -> Dataset:
    """The run's truth table (X1..Xn, T) as an MLflow dataset named after its gate, from its
    config file: the same table gives the same digest, another table its own."""
    table = run.truth_table()
    rows = tuple(map(tuple, table.to_numpy().tolist()))
    return _gate_dataset(name, str(source), tuple(table.columns), rows)


def log_artifacts(store: Store, run: RunInfo, paths: Iterable[Path]) -> None:
    """Files, and folders under their names without a leading dot, into the run's artifacts:
    what MlflowClient.log_artifact does, without reading the run back for its location (a job's
    three files: 1.3 ms, against 5.1 ms through the client; checked in
    tests/test_mlflow_contract.py)."""
    repository = get_artifact_repository(run.artifact_uri, tracking_uri=store.uri)
    for path in paths:
        if path.is_dir():
            repository.log_artifacts(str(path), path.name.lstrip("."))
        else:
            repository.log_artifact(str(path))


def record_failure(
    store: Store,
    experiment: str,
    name: str,
    tags: Mapping[str, str],
    error: BaseException,
    params: Mapping[str, str],
) -> None:
    """A FAILED run for a job that failed before it had one, with the error as its tag and the
    values its overrides gave as params (as typed: `lr` reads `-1`), so it sits in its cell."""
    run_id = store.start_run(experiment, name, {**tags, ERROR_TAG: describe(error)})
    store.client.log_batch(run_id, params=[Param(k, v[:MAX_PARAM_VAL_LENGTH]) for k, v in params.items()])
    store.end_run(run_id, "FAILED")


def _flatten(params: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in params.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def without_rounding_noise(value: float) -> float:
    """A computed value within rounding of a whole number, as that number (9.000000000000014 → 9)."""
    nearest = round(value) if math.isfinite(value) else value
    return float(nearest) if abs(value - nearest) <= 1e-9 * max(1.0, abs(value)) else value


def _metrics(run: TrainedRun) -> Iterable[tuple[str, float, int]]:
    result = run.result
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
    table = run.separability
    yield "separable", float(table.separable), 0
    yield "update_bound", without_rounding_noise(table.update_bound) if table.separable else math.nan, 0
    yield "cycle_length", float(result.cycle_length or 0), 0
    # lr as a metric too: the UI's line charts can put a metric, not a param, across
    yield views.X_METRIC, float(run.setup.lr), 0


def _readable(trace: pd.DataFrame) -> pd.DataFrame:
    """The trace as a person reads it: floats to TRACE_DIGITS significant digits."""
    floats = trace.select_dtypes("float").columns
    if len(floats) == 0:
        return trace
    rounded = np.char.mod(f"%.{TRACE_DIGITS}g", trace[floats].to_numpy()).astype(float)  # as f"{v:.6g}"
    return trace.assign(**{c: rounded[:, i] for i, c in enumerate(floats)})


def start_sweep(
    store: Store, experiment: str, name: str, tags: Mapping[str, str], params: Mapping[str, str]
) -> str:
    """The parent run of a sweep, with what it sweeps as params; returns its id."""
    run_id = store.start_run(experiment, name, tags)
    store.client.log_batch(run_id, params=[Param(k, v) for k, v in params.items()])
    return run_id


def finish_sweep(
    store: Store,
    run_id: str,
    metrics: Mapping[str, float],
    tags: Mapping[str, str],
    summary: pd.DataFrame,
    files: Iterable[Path],
) -> None:
    """The parent's results: metrics, tags (its description among them), the summary as a table
    in the UI, and its files (CSV, Markdown, pictures). A resumed sweep's replace those of its
    first close, the summary too (one row per job, not its first rows again)."""
    now = int(time.time() * 1000)
    store.client.log_batch(
        run_id,
        metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
        tags=[RunTag(k, v) for k, v in {**tags, **table_tag(SUMMARY_TABLE)}.items()],
    )
    with tempfile.TemporaryDirectory() as scratch:
        table = Path(scratch) / SUMMARY_TABLE
        write_table(summary, table)
        for path in [*files, table]:
            store.client.log_artifact(run_id, str(path))


def save_views(store: Store, experiment: str, named: Mapping[str, tuple[str, dict[str, Any]]]) -> None:
    """The sweep's ready views, as experiment tags the UI opens by their share keys."""
    created = int(time.time() * 1000)
    for key, (name, state) in named.items():
        store.client.set_experiment_tag(
            experiment, views.TAG_PREFIX + key, views.tag_value(name, state, created)
        )
