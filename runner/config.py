"""The config's typed schema, and the checks that types alone cannot express.

The schema (registered with Hydra's ConfigStore as `runner_schema`, first in conf/config.yaml's
defaults) makes OmegaConf refuse wrong types while Hydra composes: `lr=abc` or `seed=1.5` stop
there with Hydra's own message, which names the key and the value. `validate` then checks values
(ranges, finiteness, shapes against the gate) and raises `ConfigError`, reported as one line with
a non-zero exit, before anything is trained or logged. Defaults live in conf/*.yaml.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

from runner.errors import UsageError


class ConfigError(UsageError):
    """A config value outside what the runner accepts."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        super().__init__(f"Invalid config: {key}={value!r} is not allowed: {allowed}")


@dataclass
class GateConfig:
    name: str = MISSING
    # rows of numbers; checked by validate() (OmegaConf cannot type a nested list of floats)
    inputs: List[Any] = MISSING
    targets: List[float] = MISSING


@dataclass
class InitConfig:
    weights: Optional[List[float]] = MISSING
    bias: Optional[float] = MISSING
    low: float = MISSING
    high: float = MISSING


@dataclass
class MlflowConfig:
    tracking_uri: str = MISSING
    experiment_name: str = MISSING


@dataclass
class RunnerConfig:
    gate: GateConfig = field(default_factory=GateConfig)
    lr: float = MISSING
    seed: int = MISSING
    max_epochs: int = MISSING
    init: InitConfig = field(default_factory=InitConfig)
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)


ConfigStore.instance().store(name="runner_schema", node=RunnerConfig)


def validate(cfg: Any) -> None:
    """Raise ConfigError for the first value the runner cannot use."""
    _check(cfg.lr > 0 and math.isfinite(cfg.lr), "lr", cfg.lr, "a finite number > 0")
    _check(cfg.max_epochs >= 1, "max_epochs", cfg.max_epochs, "a whole number >= 1")
    _check(cfg.seed >= 0, "seed", cfg.seed, "a whole number >= 0")
    n_inputs = _validate_gate(cfg.gate)

    init = cfg.init
    if init.weights is not None:
        weights = list(init.weights)
        _check(
            len(weights) == n_inputs and all(map(math.isfinite, weights)),
            "init.weights",
            weights,
            f"null (random) or a list of {n_inputs} finite numbers, one per input of gate "
            f"'{cfg.gate.name}'",
        )
    _check(
        init.bias is None or math.isfinite(init.bias),
        "init.bias",
        init.bias,
        "null (random) or a finite number",
    )
    for key in ("low", "high"):
        _check(math.isfinite(init[key]), f"init.{key}", init[key], "a finite number")
    _check(init.low <= init.high, "init.high", init.high, f"a number >= init.low ({init.low})")
    _check(
        bool(cfg.mlflow.experiment_name.strip()),
        "mlflow.experiment_name",
        cfg.mlflow.experiment_name,
        "a non-empty name",
    )


def _validate_gate(gate: Any) -> int:
    """Check the truth table and return its number of inputs."""
    inputs = [list(row) for row in gate.inputs]
    targets = list(gate.targets)
    _check(len(inputs) > 0, "gate.inputs", inputs, "at least one row")
    n_inputs = len(inputs[0])
    _check(
        n_inputs > 0 and all(len(row) == n_inputs for row in inputs),
        "gate.inputs",
        inputs,
        "rows of equal, non-zero length",
    )
    _check(
        all(math.isfinite(v) for row in inputs for v in row),
        "gate.inputs",
        inputs,
        "finite numbers",
    )
    _check(
        len(targets) == len(inputs),
        "gate.targets",
        targets,
        f"one target per input row ({len(inputs)})",
    )
    _check(all(v in (-1, 1) for v in targets), "gate.targets", targets, "bipolar values, -1 or 1")
    return n_inputs


def _check(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(key, value, allowed)
