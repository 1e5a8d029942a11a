"""`python -m runner`: compose the config (Hydra), validate it, train, print, log to MLflow."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from runner import console, perceptron
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
    validate(cfg)
    gate, init = cfg.gate, cfg.init
    weights, bias = perceptron.initial_parameters(
        len(gate.inputs[0]), cfg.seed, init.low, init.high, init.weights, init.bias
    )
    result = perceptron.train(gate.inputs, gate.targets, weights, bias, cfg.lr, cfg.max_epochs)

    # A sweep's console shows one line per job; the job's log file always gets everything.
    detail = logging.DEBUG if in_sweep else logging.INFO
    log.log(detail, console.setup(gate.inputs, gate.targets, weights, bias))
    log.log(detail, "\n" + console.epoch_tables(result.trace) + "\n")
    run_name = f"{gate.name} lr={console.number(cfg.lr)} seed={cfg.seed}"
    summary = console.outcome(
        result.converged, result.epochs, result.updates, result.weights, result.bias
    )
    log.info(f"[{run_name}] {summary}" if in_sweep else summary)

    from runner import tracking  # imported once the config is known to be good

    out_dir = Path(hydra_cfg.runtime.output_dir)
    trace_csv = out_dir / "trace.csv"
    result.trace.to_csv(trace_csv, index=False)
    artifacts = [trace_csv]
    if hydra_cfg.output_subdir is not None:
        artifacts.append(out_dir / hydra_cfg.output_subdir)

    uri, experiment_name = cfg.mlflow.tracking_uri, cfg.mlflow.experiment_name
    tags = {}
    if in_sweep:
        tags[tracking.JOB_NUM_TAG] = str(hydra_cfg.job.num)
        parent = parent_run(hydra_cfg.sweep.dir, uri, experiment_name)
        if parent is not None:
            tags[tracking.MLFLOW_PARENT_RUN_ID] = parent
    experiment, run_id = tracking.record_training(
        uri, experiment_name, run_name, tags, _params(cfg, weights, bias), result, artifacts
    )
    if not in_sweep:
        for line in tracking.where_to_look(uri, experiment, run_id):
            log.info(line)
    return {"epochs": result.epochs, "converged": result.converged, "updates": result.updates}


def _params(cfg: DictConfig, weights: Any, bias: float) -> dict[str, Any]:
    """The resolved config as MLflow params, with the initial weights and bias actually used.

    `gate` is the gate's name and its table is under gate.*; the mlflow section says where the
    run is logged, not what it is, so it is left out.
    """
    params = OmegaConf.to_container(cfg, resolve=True)
    del params["mlflow"]
    gate = params.pop("gate")
    params["init"].update(weights=weights.tolist(), bias=bias)
    gate["inputs"] = [[float(v) for v in row] for row in gate["inputs"]]  # as typed as targets
    return {"gate": gate.pop("name"), **{f"gate.{k}": v for k, v in gate.items()}, **params}


if __name__ == "__main__":
    main()
