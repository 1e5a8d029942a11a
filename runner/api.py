"""From Python and from a notebook: a run composed from the same configs and overrides as the
command line (Hydra's compose API), trained, its trace a DataFrame, logged to MLflow if asked;
and a sweep's runs read back.

    from runner import api

    run = api.train("gate=or", "lr=1", "init.weights=[0,0]", "init.bias=0")
    run.trace                  # the epoch-by-epoch trace table, a pandas DataFrame
    run.result.converged       # and all else the run computed (runner.perceptron.TrainResult)
    print(run.text())          # what `python -m runner ...` prints for it
    run.pictures("pictures")   # its PNGs: errors per epoch, the decision lines
    run.epoch_images()         # the decision line after each epoch, as (epoch, picture)
    api.train("gate=or", "lr=1", log=True).run_id   # logged as the command line logs it
    api.sweep_runs()           # the latest sweep's runs, one row each

Bad input raises what the command line prints, as one line: a runner.tracking.errors.UsageError
(runner.config.ConfigError for a value out of range), with no traceback from inside Hydra.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, open_dict
from PIL.Image import Image

from runner import config, console, run
from runner.names import SUMMARY_COLUMNS


def compose(*overrides: str) -> DictConfig:
    """The config `python -m runner OVERRIDES...` runs with (its `hydra` node left out)."""
    return _composed(overrides)[0]


def _composed(overrides: tuple[str, ...]) -> tuple[DictConfig, Path]:
    """The config, and the gate's config file (run.gate_source)."""
    cfg = config.compose(overrides, with_hydra=True)
    source = run.gate_source(cfg.hydra)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg, source


@dataclass(frozen=True)
class Training:
    """One run trained from Python: its config, what it computed, and its MLflow run if logged."""

    config: DictConfig
    trained: run.TrainedRun
    name: str  # as the command line names its MLflow run: `or lr=1 seed=0`
    gate_source: Path  # the gate's config file
    run_id: str | None = None

    @property
    def trace(self) -> pd.DataFrame:
        """One row per pattern presented: epoch, inputs, target, net input, output, weights, changes."""
        return self.result.trace

    @property
    def result(self) -> run.perceptron.TrainResult:
        return self.trained.result

    def text(self) -> str:
        """What the command line prints for this run: the data, the trace, the outcome."""
        t = self.trained
        setup, epochs = (
            console.setup(t.inputs, t.targets, t.weights, t.bias, t.setup.bias_input),
            console.epoch_tables(t.result),
        )
        return f"{setup}\n\n{epochs}\n\n{console.outcome(t.result)}\n{console.separability(t.separability)}"

    def pictures(self, folder: str | Path) -> list[Path]:
        """The run's PNGs in `folder`: errors.png, and decision_lines.png for a 2-input table."""

        drawn, _ = self._pictures(Path(folder), stepped=False)
        return sorted(drawn.glob("*.png"))

    def epoch_images(self) -> list[tuple[int, Image]]:
        """A 2-input table's decision line at the start (0) and after each epoch, as the run's
        page in MLflow steps through them: (epoch, picture) pairs; none for a wider table."""
        from runner import plots

        t = self.trained
        if t.inputs.shape[1] != 2:
            return []
        lines = ((t.weights, t.bias), t.result.epoch_weights, t.result.epoch_bias)
        return plots.epoch_images(t.inputs, t.targets, *lines, t.setup, plots.epoch_steps(t.result.epochs))

    def _pictures(self, folder: Path, stepped: bool) -> tuple[Path, list]:
        from runner import record

        t = self.trained
        return record.pictures(folder, t.inputs, t.targets, t.weights, t.bias, t.result, t.setup, stepped)


def train(*overrides: str, log: bool = False) -> Training:
    """Compose the config from `overrides` (as on the command line), train, and with `log=True`
    log the run to the config's MLflow store and experiment, as the command line does."""
    cfg, source = _composed(overrides)
    settings = config.read(cfg)
    run.refuse_single(settings, Path.cwd(), logged=log)
    training = Training(cfg, run.train(settings), run.name(settings, overrides), source)
    if not log:
        return training
    return dataclasses.replace(training, run_id=_log(training, overrides))


def _log(training: Training, overrides: tuple[str, ...]) -> str:
    """The run logged as the command line logs it (record.log), its config kept as a Hydra job
    keeps it."""
    from runner import record  # mlflow, only for a run that is logged
    from runner.tracking.store import open_store

    cfg, trained = training.config, training.trained
    store = open_store(cfg.mlflow.tracking_uri, Path.cwd())
    experiment = store.experiment_id(cfg.mlflow.experiment_name)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files, images = [record.hydra_files(folder, cfg, overrides)], []
        if cfg.plots:
            pictures, images = training._pictures(folder / "plots", run.epoch_images(cfg, in_sweep=False))
            files.append(pictures)
        args = (
            config.read(cfg),
            trained,
            training.name,
            {},
            folder,
            training.gate_source,
            files,
            images,
            False,
        )
        return record.log(store, experiment, *args)[0]


def sweep_runs(*overrides: str, parent: str | None = None) -> pd.DataFrame:
    """A sweep's runs, one row each, as its parent's summary lists them: the latest sweep in the
    app's store and experiment (as `overrides` set them, e.g. "mlflow.tracking_uri=..."), or
    the sweep whose parent run id is `parent`."""
    from runner.tracking import readback

    where = compose(*overrides).mlflow
    return readback.read_sweep(
        where.tracking_uri, Path.cwd(), where.experiment_name, parent, SUMMARY_COLUMNS
    )[1]
