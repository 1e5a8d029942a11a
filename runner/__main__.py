"""`python -m runner`: compose the config (Hydra), validate it, train, print, log to MLflow."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
import numpy as np
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from runner import console, perceptron, separability
from runner.config import validate
from runner.errors import UsageError
from runner.sweep import parent_run, progress

log = logging.getLogger("runner")  # not __name__: run as `-m runner` that is "__main__"

# A wheel ships the configs as runner/conf; in the source tree (editable install) they are ../conf.
_HERE = Path(__file__).resolve().parent
CONF_DIR = next(p for p in (_HERE / "conf", _HERE.parent / "conf") if p.is_dir())


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> float:
    hydra_cfg = HydraConfig.get()
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        try:
            trained = _train(cfg, in_sweep)
        except Exception as err:
            if in_sweep:
                _record_failure(cfg, hydra_cfg, err)
            raise
        return _record(cfg, hydra_cfg, in_sweep, *trained)
    except UsageError as err:
        if in_sweep:
            raise  # this job fails, the sweep goes on, and Hydra reports it at the end
        raise SystemExit(str(err)) from None  # one line on stderr, exit status 1


def _train(cfg: DictConfig, in_sweep: bool) -> tuple[Any, ...]:
    """Validate, train and print; nothing is logged to MLflow yet."""
    inputs, targets = validate(cfg)
    init, rule, activation = cfg.init, cfg.rule, cfg.activation
    weights, bias = perceptron.initial_parameters(
        inputs.shape[1], cfg.seed, init.low, init.high, init.weights, init.bias
    )
    result = perceptron.train(
        inputs,
        targets,
        weights,
        bias,
        cfg.lr,
        cfg.max_epochs,
        rule=rule.name,
        activation=activation.name,
        theta=activation.theta or 0.0,
        binary_targets=cfg.gate.targets_encoding == "binary",
        tolerance=rule.tolerance or 0.0,
        order=cfg.order,
        seed=cfg.seed,
        max_trace_rows=cfg.max_trace_rows,
    )
    table = separability.analyse(inputs, targets)

    # A sweep's console shows one line per job; the job's log file always gets everything.
    detail = logging.DEBUG if in_sweep else logging.INFO
    log.log(detail, console.setup(inputs, targets, weights, bias))
    log.log(detail, "\n" + console.epoch_tables(result) + "\n")
    if not in_sweep:  # a sweep's job says it once logged, with the sweep's progress
        log.info(console.outcome(result))
    log.log(detail, console.separability(table))
    return inputs, targets, weights, bias, result, table


def _record(
    cfg: DictConfig,
    hydra_cfg: Any,
    in_sweep: bool,
    inputs: np.ndarray,
    targets: np.ndarray,
    weights: np.ndarray,
    bias: float,
    result: Any,
    table: Any,
) -> float:
    """Log the run to MLflow, and say where to look; returns the run's objective."""
    from runner import tracking  # imported once the config is known to be good

    out_dir = Path(hydra_cfg.runtime.output_dir)
    trace_csv = out_dir / "trace.csv"
    result.trace.to_csv(trace_csv, index=False)
    artifacts = [trace_csv]
    if hydra_cfg.output_subdir is not None:
        artifacts.append(out_dir / hydra_cfg.output_subdir)
    if cfg.plots:
        artifacts.append(_plot(out_dir / "plots", inputs, targets, weights, bias, result, cfg))

    uri, tags = _destination(cfg, hydra_cfg, in_sweep)
    params = _params(cfg, inputs, targets, weights, bias)
    name = _run_name(cfg)
    experiment, run_id = tracking.record_training(
        uri, cfg.mlflow.experiment_name, name, tags, params, result, table, artifacts
    )
    if in_sweep:
        log.info(f"{progress(_sweep_dir(hydra_cfg))} {name}: {console.outcome(result)}")
    else:
        for line in tracking.where_to_look(cfg.mlflow.tracking_uri, experiment, run_id):
            log.info(line)
    return objective(result, cfg.max_epochs)


def _plot(
    folder: Path,
    inputs: np.ndarray,
    targets: np.ndarray,
    weights: np.ndarray,
    bias: float,
    result: Any,
    cfg: DictConfig,
) -> Path:
    """The run's PNGs: errors per epoch, and for a 2-input table its decision lines."""
    from runner import plots  # matplotlib is imported only by runs that draw

    folder.mkdir(exist_ok=True)
    plots.errors_per_epoch(result.errors, folder / "errors.png")
    if inputs.shape[1] == 2:
        theta = cfg.activation.theta or 0.0
        plots.decision_lines(inputs, targets, (weights, bias), result.epoch_weights,
                             result.epoch_bias, theta, folder / "decision_lines.png")
    return folder


def objective(result: Any, max_epochs: int) -> float:
    """What the app returns to Hydra, for a sweeper that searches (Optuna) to minimise: the
    epochs to converge, or max_epochs + 1 for a run that did not converge."""
    return float(result.epochs if result.converged else max_epochs + 1)


def _record_failure(cfg: DictConfig, hydra_cfg: Any, error: Exception) -> None:
    """In a sweep, a job that failed before its run was logged still gets a FAILED run, under
    the sweep's parent, that says why; so the sweep's summary shows every job."""
    from runner import tracking

    try:
        name = _run_name(cfg)
    except Exception:  # the config may be too broken to name the run after it
        name = " ".join(hydra_cfg.overrides.task) or "job"
    try:
        uri, tags = _destination(cfg, hydra_cfg, in_sweep=True)
        tracking.record_failure(uri, cfg.mlflow.experiment_name, name, tags, error)
    except Exception as unlogged:  # the job's own error is the one to report
        log.warning("This job's failure could not be logged to MLflow: %s", unlogged)
    log.info(f"{progress(_sweep_dir(hydra_cfg))} {name}: failed: {error}")


def _destination(cfg: DictConfig, hydra_cfg: Any, in_sweep: bool) -> tuple[str, dict[str, str]]:
    """The store to log to (a relative sqlite path made absolute), and the run's sweep tags."""
    from runner import tracking

    uri = tracking.absolute(cfg.mlflow.tracking_uri, hydra_cfg.runtime.cwd)
    tags = {}
    if in_sweep:
        tags[tracking.JOB_NUM_TAG] = str(hydra_cfg.job.num)
        parent = parent_run(_sweep_dir(hydra_cfg), uri, cfg.mlflow.experiment_name)
        if parent is not None:
            tags[tracking.MLFLOW_PARENT_RUN_ID] = parent
    return uri, tags


def _sweep_dir(hydra_cfg: Any) -> Path:
    return Path(hydra_cfg.runtime.cwd, hydra_cfg.sweep.dir)


def _run_name(cfg: DictConfig) -> str:
    """What the run is, in a few words: the defaults (2 inputs, perceptron, step) go unsaid."""
    gate, rule, activation = cfg.gate, cfg.rule, cfg.activation
    words = [gate.name]
    if gate.n_inputs not in (None, 3 if gate.name == "majority" else 2):
        words.append(f"n={gate.n_inputs}")
    if rule.name != "perceptron":
        words.append(rule.name)
    if activation.name == "band":
        words.append(f"band θ={console.number(activation.theta)}")
    if cfg.order == "shuffle":
        words.append("shuffled")
    return " ".join([*words, f"lr={console.number(cfg.lr)}", f"seed={cfg.seed}"])


def _params(
    cfg: DictConfig, inputs: np.ndarray, targets: np.ndarray, weights: np.ndarray, bias: float
) -> dict[str, Any]:
    """The resolved config as MLflow params, with the table and initial values actually used.

    A group's choice is logged under the group's name (`gate`, `rule`, `activation`) and its
    other keys under `<group>.<key>`. The mlflow section says where the run is logged, not
    what it is, so it is left out.
    """
    params = OmegaConf.to_container(cfg, resolve=True)
    del params["mlflow"]
    params["gate"].update(inputs=inputs.tolist(), targets=targets.tolist())
    params["init"].update(weights=weights.tolist(), bias=bias)
    for group in ("gate", "rule", "activation"):
        node = params.pop(group)
        params[group] = node.pop("name")
        params.update({f"{group}.{key}": value for key, value in node.items()})
    return params


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _quiet_interrupt(kind: type, value: BaseException, traceback: Any) -> None:
    """Ctrl-C or SIGTERM ends the command with one line, not a traceback. (Python still records
    the interrupt, so a sweep's parent run ends KILLED: see runner/sweep.py.)"""
    if issubclass(kind, KeyboardInterrupt):
        print(f"Interrupted ({value or 'SIGINT'})", file=sys.stderr)
    else:
        sys.__excepthook__(kind, value, traceback)


def cli() -> None:
    """Hydra's app, with every error reported as its message, never as a Python traceback.

    Hydra prints some errors with a traceback (a few of its own, from composing the config, and
    any exception of ours it does not expect). With HYDRA_FULL_ERROR=1 Hydra raises them instead,
    so they are caught and printed here; a user who sets HYDRA_FULL_ERROR=1 gets the traceback.
    """
    wants_traceback = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        main()
    except Exception as err:
        if wants_traceback:
            raise
        raise SystemExit(_message(err)) from None
    finally:
        if not wants_traceback:
            del os.environ["HYDRA_FULL_ERROR"]


def _message(err: Exception) -> str:
    """What Hydra would print for its errors; the error alone for a UsageError; for anything
    else, the error with a hint to get its traceback."""
    if isinstance(err, UsageError):
        return str(err)
    if isinstance(err, HydraException) or isinstance(err.__cause__, OmegaConfBaseException):
        cause = err.__cause__
        return str(err) + (f"\n{cause}" if isinstance(cause, OmegaConfBaseException) else "")
    given = " ".join(sys.argv[1:])
    return (
        f"Error: {type(err).__name__}: {err} (overrides: {given}; HYDRA_FULL_ERROR=1 shows the "
        "traceback)"
    )


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupt)  # a SIGTERM ends runs KILLED, as Ctrl-C does
    sys.excepthook = _quiet_interrupt
    cli()
