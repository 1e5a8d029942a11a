"""`python -m runner`: compose the config (Hydra), validate it, train, print, log to MLflow."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
import numpy as np
from omegaconf import DictConfig, OmegaConf

from runner import console, perceptron, separability
from runner.config import validate
from runner.errors import UsageError
from runner.sweep import parent_run

log = logging.getLogger("runner")  # not __name__: run as `-m runner` that is "__main__"

# A wheel ships the configs as runner/conf; in the source tree (editable install) they are ../conf.
_HERE = Path(__file__).resolve().parent
CONF_DIR = next(p for p in (_HERE / "conf", _HERE.parent / "conf") if p.is_dir())


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")
def main(cfg: DictConfig) -> dict[str, Any]:
    hydra_cfg = HydraConfig.get()
    in_sweep = hydra_cfg.mode == RunMode.MULTIRUN
    try:
        return _run(cfg, hydra_cfg, in_sweep)
    except UsageError as err:
        if in_sweep:
            raise  # this job fails, the sweep goes on, and Hydra reports it at the end
        raise SystemExit(str(err)) from None  # one line on stderr, exit status 1


def _run(cfg: DictConfig, hydra_cfg: Any, in_sweep: bool) -> dict[str, Any]:
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
    )
    table = separability.analyse(inputs, targets)

    # A sweep's console shows one line per job; the job's log file always gets everything.
    detail = logging.DEBUG if in_sweep else logging.INFO
    log.log(detail, console.setup(inputs, targets, weights, bias))
    log.log(detail, "\n" + console.epoch_tables(result.trace) + "\n")
    run_name = _run_name(cfg)
    summary = console.outcome(result)
    log.info(f"[{run_name}] {summary}" if in_sweep else summary)
    log.log(detail, console.separability(table))

    from runner import tracking  # imported once the config is known to be good

    out_dir = Path(hydra_cfg.runtime.output_dir)
    trace_csv = out_dir / "trace.csv"
    result.trace.to_csv(trace_csv, index=False)
    artifacts = [trace_csv]
    if hydra_cfg.output_subdir is not None:
        artifacts.append(out_dir / hydra_cfg.output_subdir)

    shown_uri, experiment_name = cfg.mlflow.tracking_uri, cfg.mlflow.experiment_name
    uri = tracking.absolute(shown_uri, hydra_cfg.runtime.cwd)
    tags = {}
    if in_sweep:
        tags[tracking.JOB_NUM_TAG] = str(hydra_cfg.job.num)
        sweep_dir = Path(hydra_cfg.runtime.cwd, hydra_cfg.sweep.dir)
        parent = parent_run(sweep_dir, uri, experiment_name)
        if parent is not None:
            tags[tracking.MLFLOW_PARENT_RUN_ID] = parent
    params = _params(cfg, inputs, targets, weights, bias)
    experiment, run_id = tracking.record_training(
        uri, experiment_name, run_name, tags, params, result, table, artifacts
    )
    if not in_sweep:
        for line in tracking.where_to_look(shown_uri, experiment, run_id):
            log.info(line)
    return {"epochs": result.epochs, "converged": result.converged, "updates": result.updates}


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


if __name__ == "__main__":
    main()
