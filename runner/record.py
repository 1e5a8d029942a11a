"""A trained run as a run record (runner/tracking/writer.py): its params, its metrics epoch by
epoch, its tables as files, its gate as an input dataset, its decision line by epoch.

The command line (runner/job.py) and the Python API (runner/api.py) both log a run with `log`,
so a run logged either way is the same run.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from runner.config import RunnerConfig
from runner.names import EPOCH_IMAGES_KEY, EPOCHS_TO_CONVERGE, STOP_REASON, X_METRIC
from runner.pages import run_page
from runner.run import TrainedRun, wants_page
from runner.run import params as run_params
from runner.tracking import writer
from runner.tracking.credentials import redacted
from runner.tracking.store import Store
from runner.tracking.writer import RunRecord, table_tag, write_table

if TYPE_CHECKING:
    from mlflow.entities import Dataset
    from PIL.Image import Image

TRACE_DIGITS = 6  # significant digits of the trace table shown in the UI (trace.csv keeps all)
TRACE_TABLE = "trace.json"
TABLE_TAG = table_tag(TRACE_TABLE)


def log(
    store: Store,
    experiment: str,
    cfg: RunnerConfig,
    run: TrainedRun,
    name: str,
    tags: Mapping[str, str],
    folder: Path,
    gate_source: Path,
    files: Sequence[Path],
    epoch_images: Sequence[tuple[int, Image]],
    in_sweep: bool,
) -> tuple[str, str | None]:
    """Log the run to `experiment` (its page too, if it wants one: run.wants_page); returns its id,
    and its page's file name if it has one."""
    page = wants_page(cfg, in_sweep)
    made = training_record(cfg, run, name, tags, folder, gate_source, files, epoch_images, page)
    return writer.write(store, experiment, made), run_page.FILE if page else None


def pictures(*args: object) -> tuple[Path, list]:
    """The run's PNGs and its decision line by epoch (plots.run_pictures's arguments): matplotlib
    imported only for a run that draws them. (A sweep imported it whole at its start, in the
    callback: runner/sweeps.py.)"""
    from runner import plots

    return plots.run_pictures(*args)


def hydra_files(folder: Path, cfg: DictConfig, overrides: Sequence[str]) -> Path:
    """The run's config and overrides as a Hydra job keeps them (`.hydra/`), for a run made with
    no Hydra job (the Python API), credentials left out; returns the folder."""
    from omegaconf import OmegaConf

    saved = folder / ".hydra"
    saved.mkdir()
    (saved / "config.yaml").write_text(redacted(OmegaConf.to_yaml(cfg)))
    (saved / "overrides.yaml").write_text(redacted(OmegaConf.to_yaml(list(overrides))))
    return saved


def training_record(
    cfg: RunnerConfig,
    run: TrainedRun,
    name: str,
    tags: Mapping[str, str],
    folder: Path,
    gate_source: Path,
    files: Sequence[Path] = (),
    epoch_images: Sequence[tuple[int, Image]] = (),
    page: bool = False,
) -> RunRecord:
    """The run as it is logged: its config's values (runner/run.py's params) with how training
    ended, its metrics, `tags` with trace.json shown as a table, its tables written in `folder`
    and then `files`, its gate from its config file `gate_source`, and its decision line after
    each epoch as images stepped by epoch; with `page`, its page (runner/pages/run_page.py) first."""
    stop = run.result.stop_reason
    if page:
        path = folder / run_page.FILE
        path.write_text(run_page.page(run, name), encoding="utf-8")
        files = [path, *files]
    return RunRecord(
        name=name,
        params={**run_params(cfg, run), STOP_REASON: stop},
        metrics=list(_metrics(run)),
        tags={**tags, STOP_REASON: stop, **TABLE_TAG},
        files=[*write_tables(run, folder), *files],
        dataset=gate_dataset(run, cfg.gate.name, gate_source),
        images={EPOCH_IMAGES_KEY: epoch_images} if epoch_images else {},
    )


def write_tables(run: TrainedRun, folder: Path) -> list[Path]:
    """The run's tables as files to log: trace.csv (every digit), gate.csv, and trace.json, the
    trace as a person reads it, which the UI shows as a table (TABLE_TAG)."""
    trace_csv, gate_csv, trace_json = folder / "trace.csv", folder / "gate.csv", folder / TRACE_TABLE
    run.result.trace.to_csv(trace_csv, index=False)
    run.truth_table().to_csv(gate_csv, index=False)
    write_table(_readable(run.result.trace), trace_json)
    return [trace_csv, gate_csv, trace_json]


@functools.lru_cache(maxsize=64)  # a sweep's few tables: built once each
def _gate_dataset(
    name: str, source: str, columns: tuple[str, ...], rows: tuple[tuple[float, ...], ...]
) -> Dataset:
    import mlflow.data
    from mlflow.entities import Dataset

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
        # the bias as the trace shows it: b, or θ (theta) and W0 when it is an input's weight
        bias = float(run.setup.shown_bias(result.epoch_bias[epoch - 1]))
        yield run.setup.bias_name, bias, epoch
    yield "epochs", float(result.epochs), 0
    yield "converged", float(result.converged), 0
    if result.converged:
        yield EPOCHS_TO_CONVERGE, float(result.epochs), 0
    yield "updates", float(result.updates), 0
    # Every run logs the same names, so that runs compare side by side: NaN when the table has
    # no bound (not separable), 0 when no cycle was found.
    table = run.separability
    yield "separable", float(table.separable), 0
    yield "update_bound", without_rounding_noise(table.update_bound) if table.separable else math.nan, 0
    yield "cycle_length", float(result.cycle_length or 0), 0
    # lr as a metric too: the UI's line charts can put a metric, not a param, across
    yield X_METRIC, float(run.setup.lr), 0


def _readable(trace: pd.DataFrame) -> pd.DataFrame:
    """The trace as a person reads it: floats to TRACE_DIGITS significant digits."""
    floats = trace.select_dtypes("float").columns
    if len(floats) == 0:
        return trace
    rounded = np.char.mod(f"%.{TRACE_DIGITS}g", trace[floats].to_numpy()).astype(float)  # as f"{v:.6g}"
    return trace.assign(**{c: rounded[:, i] for i, c in enumerate(floats)})
