"""The config's typed schema, and the checks that types alone cannot express.

The schema (registered with Hydra's ConfigStore as `runner_schema`, first in conf/config.yaml's
defaults) makes OmegaConf refuse wrong types while Hydra composes: `lr=abc` or `seed=1.5` stop
there with Hydra's own message, which names the key and the value. `validate` then checks values
(ranges, finiteness, choices, shapes against the gate) and raises `ConfigError`, reported as one
line with a non-zero exit, before anything is trained or logged. Defaults live in conf/*.yaml.

`Any` stands here only for a value the user gave, which may be anything until it is checked.
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from numbers import Real
from pathlib import Path
from typing import Any, List, Optional

import numpy as np
from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException, MissingConfigException
from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from runner.perceptron import ACTIVATIONS, BIAS_INPUTS, DELTAS, ORDERS, RULES, gates
from runner.tracking.errors import UsageError, first_line
from runner.versions import version_base

# A wheel ships the configs as runner/conf; in the source tree (editable install) they are ../conf.
_HERE = Path(__file__).resolve().parent
CONF_DIR = next(p for p in (_HERE / "conf", _HERE.parent / "conf") if p.is_dir())


def compose(overrides: Sequence[str] = (), with_hydra: bool = False) -> DictConfig:
    """The config `python -m runner OVERRIDES...` runs with, composed with Hydra's compose API
    (its `hydra` node too, `with_hydra`), for what is not the app's command: the Python API,
    `python -m runner.report`'s defaults. An error of composing is a UsageError, in one line."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from hydra_plugins.perceptron_runner import register

    register()  # the default sweep preset names the cached sweeper
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), **version_base()):
            return hydra_compose("config", overrides=list(overrides), return_hydra_config=with_hydra)
    except Exception as err:
        said = composition_message(err)
        if said is None:
            raise
        raise UsageError(said) from None


class ConfigError(UsageError):
    """A config value outside what the runner accepts."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        super().__init__(f"Invalid config: {key}={value!r} is not allowed: {allowed}")
        self.key, self.value, self.allowed = key, value, allowed

    def __reduce__(self) -> tuple[Any, ...]:  # a job's error crosses processes (joblib, Ray)
        return type(self), (self.key, self.value, self.allowed)


@dataclass
class GateConfig:
    name: str = MISSING
    n_inputs: Optional[int] = MISSING  # built-in gates; null for a table given as is
    inputs_encoding: Optional[str] = MISSING
    targets_encoding: str = MISSING
    # null: the built-in gate's truth table; else rows of numbers, checked by validate()
    # (OmegaConf cannot type a nested list of floats)
    inputs: Optional[List[Any]] = MISSING
    targets: Optional[List[Any]] = MISSING


@dataclass
class RuleConfig:
    name: str = MISSING
    tolerance: Optional[float] = MISSING  # adaline only


@dataclass
class ActivationConfig:
    name: str = MISSING
    theta: Optional[float] = MISSING  # band only


@dataclass
class ConventionConfig:
    """How a textbook writes the perceptron (conf/convention/): its tables' encoding, where the
    step turns on, the perceptron's δ, and where the bias sits."""

    name: str = MISSING
    encoding: str = MISSING  # the built-in gates' inputs and targets, unless the gate sets them
    strict: bool = MISSING  # the step's Y = 1 only when yin > 0
    delta: str = MISSING  # the perceptron's δ: target or error
    bias_input: Optional[float] = MISSING  # null, -1 (θ) or 1 (W0)


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
    rule: RuleConfig = field(default_factory=RuleConfig)
    activation: ActivationConfig = field(default_factory=ActivationConfig)
    convention: ConventionConfig = field(default_factory=ConventionConfig)
    lr: float = MISSING
    seed: int = MISSING
    max_epochs: int = MISSING
    order: str = MISSING
    max_trace_rows: Optional[int] = MISSING
    plots: bool = MISSING
    epoch_images: Optional[bool] = MISSING  # null: a single run's yes, a sweep job's no
    run_page: Optional[bool] = MISSING  # null: a single run's yes, a sweep job's no
    resume: Optional[str] = MISSING  # a sweep's parent run id, or latest; read by runner/tracking/parent.py
    init: InitConfig = field(default_factory=InitConfig)
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)


ConfigStore.instance().store(name="runner_schema", node=RunnerConfig)


class UnknownKeyError(UsageError):
    """A key the config does not have: the message names the closest ones it has."""

    def __init__(self, key: str) -> None:
        super().__init__(unknown_key(key))
        self.key = key

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.key,)


@functools.cache  # the schema is fixed: read once, not once per key of every job's config
def known_keys() -> tuple[str, ...]:
    """Every key of the config, dotted: lr, gate.n_inputs, init.weights, ..."""

    def walk(node: type, prefix: str) -> list[str]:
        keys = []
        for field_ in fields(node):
            if is_dataclass(field_.default_factory):
                keys += walk(field_.default_factory, f"{prefix}{field_.name}.")
            else:
                keys.append(prefix + field_.name)
        return keys

    return tuple(walk(RunnerConfig, ""))


# The configs that Hydra's plugins register, and the extra of this package that installs each.
PLUGIN_EXTRAS = {
    "hydra/launcher/joblib": ("Hydra's joblib launcher", "joblib"),
    "hydra/launcher/ray": ("Hydra's Ray launcher", "ray"),
    "hydra/launcher/submitit_slurm": ("Hydra's submitit (SLURM) launcher", "slurm"),
    "hydra/launcher/submitit_local": ("Hydra's submitit launcher", "slurm"),
    "hydra/sweeper/optuna": ("Hydra's Optuna sweeper", "optuna"),
}


def composition_message(err: Exception) -> str | None:
    """What Hydra would print for an error of composing the config (a bad value, a key or a
    group choice that is not there), as the command line prints it; None for another error.
    A launcher or sweeper whose extra is not installed gets the line that installs it."""
    said = _missing_extra(err) or unknown_key_in(err)  # not Hydra's hint to add a key with +
    if said is not None:
        return said
    if isinstance(err, HydraException) or isinstance(err.__cause__, OmegaConfBaseException):
        return point_and_reason(err)
    return None


def point_and_reason(err: Exception) -> str:
    """An error of composing, in one line: the override and why (`gate=xorr: there is no 'xorr'
    in gate (the choices: ...)`, `lr=abc: Value 'abc' of type 'str' could not be converted to
    Float`), not Hydra's lines of search path and full keys."""
    if isinstance(err, MissingConfigException) and err.missing_cfg_file and "/" in err.missing_cfg_file:
        group, _, name = err.missing_cfg_file.rpartition("/")
        choices = f" (the choices: {', '.join(err.options)})" if err.options else ""
        return f"{group}={name}: there is no {name!r} in {group}{choices}"
    unknown = unknown_key_in(err)
    if unknown is not None:
        return unknown
    point = first_line(err).removeprefix("Error merging override ")
    cause = err.__cause__
    return f"{point}: {first_line(cause)}" if isinstance(cause, OmegaConfBaseException) else point


def config_error_line(err: OmegaConfBaseException) -> str:
    """An error of reading the composed config (a key removed with `~lr`, `lr=${lr}`), in one line."""
    key = getattr(err, "full_key", None)
    return f"Invalid config: {key + ': ' if key else ''}{first_line(err)}"


def unknown_key_in(err: BaseException) -> str | None:
    """`unknown_key`'s line when `err` is Hydra's refusal to override a key that is not there."""
    cause = err.__cause__
    if isinstance(cause, (ConfigKeyError, ConfigAttributeError)) and str(err).startswith(
        "Could not override"
    ):
        return unknown_key(cause.full_key)
    return None


def _missing_extra(err: BaseException) -> str | None:
    """`... is not installed: pip install ...` when a plugin's config is what Hydra could not find."""
    if not isinstance(err, MissingConfigException) or err.missing_cfg_file not in PLUGIN_EXTRAS:
        return None
    plugin, extra = PLUGIN_EXTRAS[err.missing_cfg_file]
    return (
        f"{plugin} is not installed: pip install -e '.[{extra}]' in this project's folder "
        f"(or pip install 'perceptron-runner[{extra}]'), then run the command again"
    )


def unknown_key(key: str) -> str:
    """`Unknown config key 'lrr': did you mean lr? ...`, with the keys that are there."""
    keys = known_keys()
    close = difflib.get_close_matches(key, keys, n=3, cutoff=0.6)
    if close:
        return f"Unknown config key {key!r}: did you mean {' or '.join(close)}? (--cfg job shows every key)"
    return f"Unknown config key {key!r}: the keys are {', '.join(keys)}"


MAX_SEED = 2**63 - 1
# MLflow's limits on an experiment's name and a dataset's (a gate's), spelled here so that checking
# a config needs no import of mlflow (tests/test_mlflow_contract.py checks them against its own)
MAX_EXPERIMENT_NAME = 500
MAX_GATE_NAME = 500


def read(cfg: DictConfig) -> RunnerConfig:
    """A job's config, read once at its door: Hydra's DictConfig made the schema's dataclass, every
    value resolved and typed, so that the code it is handed reads plain attributes (a DictConfig
    resolves on every access). ConfigError for a key with no value, UnknownKeyError for one the
    schema does not have; OmegaConf's error for an interpolation that does not resolve."""
    try:
        settings = OmegaConf.to_object(cfg)  # raises for a value missing or unresolved
    except Exception:
        _check_keys(cfg)  # a key missing, added or removed is the error to report, as before
        raise
    if not _has_the_schemas_keys(cfg):  # added with +key=..., removed with ~key
        _check_keys(cfg)  # the error that names the key (a walk of every key: 4 ms a job)
    assert isinstance(settings, RunnerConfig)
    return settings


@functools.cache
def _schema_nodes() -> tuple[tuple[tuple[str, ...], frozenset[str]], ...]:
    """Each node of the schema (its path, () for the top) with its keys, a node before those in
    it: read off `known_keys`, the schema's one walk."""
    nodes: dict[tuple[str, ...], set[str]] = {}
    for key in known_keys():
        parts = tuple(key.split("."))
        for depth in range(len(parts)):
            nodes.setdefault(parts[:depth], set()).add(parts[depth])
    return tuple((path, frozenset(keys)) for path, keys in nodes.items())


def _has_the_schemas_keys(cfg: DictConfig) -> bool:
    """Whether each node of the config has the schema's keys, no more and no fewer (a node's
    parent is checked before it, so that the node is there)."""
    for path, keys in _schema_nodes():
        node = functools.reduce(lambda parent, key: parent[key], path, cfg)
        if not isinstance(node, DictConfig) or set(node.keys()) != keys:
            return False
    return True


def _check_keys(cfg: DictConfig) -> None:
    for key in sorted(OmegaConf.missing_keys(cfg)):
        raise ConfigError(key, "???", f"no value: {key} has no default, give it, e.g. {key}=...")
    for key in _extra_keys(cfg, ""):  # added with +key=..., which the schema lets through
        raise UnknownKeyError(key)
    for key in known_keys():  # one removed (~lr) raises OmegaConf's error, which names it
        functools.reduce(getattr, key.split("."), cfg)


def validate(cfg: RunnerConfig | DictConfig) -> tuple[np.ndarray, np.ndarray]:
    """Raise ConfigError for the first value the runner cannot use; return the truth table."""
    if isinstance(cfg, DictConfig):  # not read yet (config.read): its keys checked first
        _check_keys(cfg)
    _check(cfg.lr > 0 and math.isfinite(cfg.lr), "lr", cfg.lr, "a finite number > 0")
    _check(cfg.max_epochs >= 1, "max_epochs", cfg.max_epochs, "a whole number >= 1")
    # MLflow keeps a seed as a param and pandas reads it back as a 64-bit whole number
    _check(0 <= cfg.seed <= MAX_SEED, "seed", cfg.seed, f"a whole number from 0 to {MAX_SEED}")
    _check(cfg.order in ORDERS, "order", cfg.order, _one_of(ORDERS))
    _check(
        cfg.max_trace_rows is None or cfg.max_trace_rows >= 0,
        "max_trace_rows",
        cfg.max_trace_rows,
        "null (keep every row) or a whole number >= 0",
    )
    _validate_convention(cfg.convention)  # before the gate, whose encodings are the convention's
    inputs, targets = _validate_gate(cfg.gate)
    _validate_rule(cfg.rule)
    _validate_activation(cfg.activation, cfg.gate.targets_encoding)

    init = cfg.init
    n_inputs = inputs.shape[1]
    if init.weights is not None:
        weights = list(init.weights)
        _check(
            len(weights) == n_inputs and all(map(math.isfinite, weights)),
            "init.weights",
            weights,
            f"null (random) or a list of {n_inputs} finite numbers, one per input of gate '{cfg.gate.name}'",
        )
    _check(
        init.bias is None or math.isfinite(init.bias),
        "init.bias",
        init.bias,
        "null (random) or a finite number",
    )
    for key in ("low", "high"):
        _check(math.isfinite(getattr(init, key)), f"init.{key}", getattr(init, key), "a finite number")
    _check(init.low <= init.high, "init.high", init.high, f"a number >= init.low ({init.low})")
    _check(
        math.isfinite(init.high - init.low),
        "init.high",
        init.high,
        f"a number within the float range of init.low ({init.low}): high − low must be finite",
    )
    name = cfg.mlflow.experiment_name
    _check(
        bool(name.strip()) and len(name) <= MAX_EXPERIMENT_NAME,
        "mlflow.experiment_name",
        _shortened(name),
        f"a non-empty name of at most {MAX_EXPERIMENT_NAME} characters",
    )
    return inputs, targets


def _shortened(text: str, most: int = 60) -> str:
    """A long value as an error shows it: its start, and how long it is."""
    return text if len(text) <= most else f"{text[:most]}… ({len(text)} characters)"


def _validate_gate(gate: DictConfig) -> tuple[np.ndarray, np.ndarray]:
    """Check the gate's settings and return its truth table."""
    encodings = tuple(gates.ENCODINGS)
    _check(  # it names the gate's dataset in MLflow
        0 < len(gate.name) <= MAX_GATE_NAME,
        "gate.name",
        _shortened(gate.name),
        f"a name of 1 to {MAX_GATE_NAME} characters",
    )
    _check(
        gate.targets_encoding in encodings,
        "gate.targets_encoding",
        gate.targets_encoding,
        _one_of(encodings),
    )
    if gate.inputs is None and gate.targets is None:
        return _built_in_table(gate, encodings)
    for key in ("inputs", "targets"):
        _check(
            getattr(gate, key) is not None,
            f"gate.{key}",
            None,
            "a list: give gate.inputs and gate.targets together",
        )
    rows = [list(row) if _is_list(row) else row for row in gate.inputs]
    _check(len(rows) > 0, "gate.inputs", rows, "at least one row")
    _check(
        all(_is_list(row) and len(row) == len(rows[0]) > 0 for row in rows),
        "gate.inputs",
        rows,
        "rows of numbers, all of the same non-zero length",
    )
    _check(
        all(_is_number(v) for row in rows for v in row),
        "gate.inputs",
        rows,
        "rows of finite numbers",
    )
    with np.errstate(over="ignore"):  # a pattern's length squared must stay a number, or yin cannot
        lengths = np.linalg.norm(np.array(rows, dtype=float), axis=1)
    _check(
        bool(np.isfinite(lengths * lengths).all()),
        "gate.inputs",
        rows,
        "rows whose squared length is finite (each value well below 1e154)",
    )
    width = len(rows[0])
    _check(
        gate.n_inputs in (None, width),
        "gate.n_inputs",
        gate.n_inputs,
        f"null or {width}, the width of the rows of gate.inputs",
    )
    if gate.inputs_encoding is not None:
        _check(
            gate.inputs_encoding in encodings
            and all(v in gates.ENCODINGS[gate.inputs_encoding] for row in rows for v in row),
            "gate.inputs_encoding",
            gate.inputs_encoding,
            "null (inputs taken as given), or the encoding of every value of gate.inputs",
        )
    targets = list(gate.targets)
    levels = gates.ENCODINGS[gate.targets_encoding]
    _check(
        len(targets) == len(rows),
        "gate.targets",
        targets,
        f"one target per row of gate.inputs ({len(rows)})",
    )
    _check(
        all(_is_number(v) and v in levels for v in targets),
        "gate.targets",
        targets,
        f"{gate.targets_encoding} values, {levels[0]} or {levels[1]} "
        f"(gate.targets_encoding={gate.targets_encoding})",
    )
    return np.array(rows, dtype=float), np.array(targets, dtype=float)


def _built_in_table(gate: DictConfig, encodings: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    functions = tuple(gates.FUNCTIONS)
    _check(
        gate.name in functions,
        "gate.name",
        gate.name,
        f"{_one_of(functions)} (a built-in gate), or give the table as gate.inputs and gate.targets",
    )
    _check(
        gate.n_inputs is not None and 1 <= gate.n_inputs <= gates.MAX_INPUTS,
        "gate.n_inputs",
        gate.n_inputs,
        f"a whole number from 1 to {gates.MAX_INPUTS}",
    )
    _check(
        gate.inputs_encoding in encodings,
        "gate.inputs_encoding",
        gate.inputs_encoding,
        _one_of(encodings),
    )
    return (
        gates.inputs(gate.n_inputs, gate.inputs_encoding).astype(float),
        gates.targets(gate.name, gate.n_inputs, gate.targets_encoding).astype(float),
    )


def _validate_rule(rule: DictConfig) -> None:
    _check(rule.name in RULES, "rule.name", rule.name, _one_of(RULES))
    if rule.name == "adaline":
        _check(
            rule.tolerance is not None and rule.tolerance > 0 and math.isfinite(rule.tolerance),
            "rule.tolerance",
            rule.tolerance,
            "a finite number > 0",
        )
    else:
        _check(
            rule.tolerance is None,
            "rule.tolerance",
            rule.tolerance,
            f"null: only adaline has a tolerance (rule={rule.name})",
        )


def _validate_activation(activation: DictConfig, targets_encoding: str) -> None:
    _check(activation.name in ACTIVATIONS, "activation.name", activation.name, _one_of(ACTIVATIONS))
    if activation.name == "band":
        theta = activation.theta
        _check(
            theta is not None and theta >= 0 and math.isfinite(theta),
            "activation.theta",
            theta,
            "a finite number >= 0",
        )
        _check(
            targets_encoding == "bipolar",
            "activation.name",
            "band",
            "step with binary targets (the band's 0 output would be both 'undecided' and a "
            "target); band needs gate.targets_encoding=bipolar",
        )
    else:
        _check(
            activation.theta is None,
            "activation.theta",
            activation.theta,
            "null: only the band activation has a threshold (activation=band activation.theta=...)",
        )


def _validate_convention(convention: ConventionConfig | DictConfig) -> None:
    encodings = tuple(gates.ENCODINGS)
    _check(convention.encoding in encodings, "convention.encoding", convention.encoding, _one_of(encodings))
    _check(convention.delta in DELTAS, "convention.delta", convention.delta, _one_of(DELTAS))
    _check(
        convention.bias_input is None or convention.bias_input in BIAS_INPUTS,
        "convention.bias_input",
        convention.bias_input,
        "null (the bias a weight of its own), -1 (θ, the weight of an input fixed at -1) or 1 "
        "(W0, the weight of an input fixed at +1)",
    )


def _extra_keys(node: DictConfig, prefix: str) -> list[str]:
    known = set(known_keys())
    found = []
    for key in node:
        path = prefix + str(key)
        if isinstance(node[key], DictConfig) and key in GROUPS:
            found += _extra_keys(node[key], path + ".")
        elif path not in known:
            found.append(path)
    return found


GROUPS = ("gate", "rule", "activation", "convention", "init", "mlflow")  # the config's nodes


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple, ListConfig))


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _one_of(choices: tuple[str, ...]) -> str:
    return "one of " + ", ".join(choices)


def _check(ok: bool, key: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(key, value, allowed)
