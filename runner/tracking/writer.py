"""Writing to MLflow: a run from its record, a job that failed, a sweep's parent and its views.

A `RunRecord` is everything a run is made of (params, metrics with their steps, tags, files, an
input dataset, images by step); `write` is the one way it reaches the store, in the fewest calls
MLflow's public client allows: the run created with its tags, one batch of params and metrics,
its dataset, its files copied in one go, its images, its end. Param values are written as
param_text.py says.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunInfo, RunTag
from mlflow.exceptions import MlflowException
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository
from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

from runner.tracking.names import DATASET_CONTEXT_TAG, ERROR_TAG, FAILED, LOGGED_ARTIFACTS_TAG
from runner.tracking.param_text import param_text
from runner.tracking.store import Store, describe

if TYPE_CHECKING:
    from PIL.Image import Image

SUMMARY_TABLE = "summary.json"


@dataclass(frozen=True)
class RunRecord:
    """One run, complete, as it is to be logged."""

    name: str
    params: Mapping[str, Any]  # nested mappings are flattened with dotted keys
    metrics: Sequence[tuple[str, float, int]]  # (key, value, step)
    tags: Mapping[str, str] = field(default_factory=dict)
    files: Sequence[Path] = ()  # files, and folders logged under their names without a leading dot
    dataset: Dataset | None = None  # its input, in the context "training"
    images: Mapping[str, Sequence[tuple[int, Image]]] = field(default_factory=dict)  # key: (step, image)


def write(store: Store, experiment: str, record: RunRecord) -> str:
    """Log the run, complete, and end it; returns its id. A param longer than MLflow allows goes,
    whole, to the artifact params_too_long.json instead of being cut. An error or a Ctrl-C on
    the way ends it FAILED or KILLED (Store.running)."""
    mlflow = store.client
    with store.running(experiment, record.name, record.tags) as info:
        run_id = info.run_id
        flat = dict(_flatten(record.params))
        texts = {k: param_text(v) for k, v in flat.items()}  # a big table is serialised once
        too_long = {k: flat[k] for k, text in texts.items() if len(text) > MAX_PARAM_VAL_LENGTH}
        now = int(time.time() * 1000)
        mlflow.log_batch(
            run_id,
            params=[Param(k, text) for k, text in texts.items() if k not in too_long],
            metrics=[Metric(k, v, now, step) for k, v, step in record.metrics],
        )
        if record.dataset is not None:
            log_dataset(store, run_id, record.dataset)
        if too_long:
            mlflow.log_dict(run_id, too_long, "params_too_long.json")
        log_artifacts(store, info, record.files)
        for key, images in record.images.items():
            for step, image in images:
                mlflow.log_image(run_id, image, key=key, step=step)
    return run_id


# What MlflowClient.log_table writes, done by hand: log_table also lists the run's artifacts and
# reads the run back to add its tag (17 ms a run here, against 2 ms for the file and the tag set
# when the run is created), and it appends to a table the run has already, which a resumed
# sweep's parent has. tests/test_mlflow_contract.py checks both against log_table's own.
def table_tag(path: str) -> dict[str, str]:
    return {LOGGED_ARTIFACTS_TAG: json.dumps([{"path": path, "type": "table"}])}


def write_table(table: pd.DataFrame, path: Path) -> None:
    table.to_json(path, orient="split", index=False, date_format="iso")


def log_dataset(store: Store, run_id: str, dataset: Dataset, tries: int = 3) -> None:
    """The run's input dataset. MLflow's store looks a dataset up, then inserts it, so jobs that
    log the same new dataset at once race on its unique key; the one that lost tries again, and
    then finds it."""
    inputs = [DatasetInput(dataset, tags=[InputTag(DATASET_CONTEXT_TAG, "training")])]
    for attempt in range(tries):
        try:
            store.client.log_inputs(run_id, datasets=inputs)
            return
        except MlflowException:
            if attempt == tries - 1:
                raise


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
    values its overrides gave as params (as typed: `x=-1` reads `-1`), so it sits in its cell."""
    run_id = store.start_run(experiment, name, {**tags, ERROR_TAG: describe(error)})
    store.client.log_batch(run_id, params=[Param(k, v[:MAX_PARAM_VAL_LENGTH]) for k, v in params.items()])
    store.end_run(run_id, FAILED)


def _flatten(params: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in params.items():
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


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


def save_experiment_tags(store: Store, experiment: str, tags: Mapping[str, str]) -> None:
    """Tags of the experiment (a sweep's ready views, which the UI opens by their share keys)."""
    for key, value in tags.items():
        store.client.set_experiment_tag(experiment, key, value)
