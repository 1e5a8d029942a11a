"""What one run is, made from its config as config.read typed it (a RunnerConfig): the table,
where training started, what it gave.

`train(cfg)` is the one way from a config to a `TrainedRun`: validate, draw the initial values, train,
decide separability. `name` and `params` say what the run is, for MLflow, and `fingerprint` what
it trains. The config is read here and nowhere further down: the core (perceptron, gates,
separability) gets plain values.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Collection, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from runner import perceptron
from runner.config import CONF_DIR, ConfigError, RunnerConfig, validate
from runner.console import number
from runner.helper import INLINE, Helper
from runner.perceptron.separability import Separability, analyse
from runner.tracking import output_folder, sqlite_store
from runner.tracking.names import NOT_PARAMS


@dataclass(frozen=True)
class TrainedRun:
    inputs: np.ndarray  # the truth table's patterns, one row each
    targets: np.ndarray
    weights: np.ndarray  # the initial weights and bias, drawn or given
    bias: float
    setup: perceptron.Setup  # how it was trained: lr, rule, activation, ...
    result: perceptron.TrainResult
    analysis: Future[Separability]  # done already, or by the run's helper
    convention: str  # the convention's name (conf/convention/); `setup` says what it set

    @property
    def separability(self) -> Separability:
        """Whether the table is separable, and what the convergence theorem promises."""
        return self.analysis.result()

    def truth_table(self) -> pd.DataFrame:
        """The patterns and targets as one table: X1..Xn, T."""
        columns = [f"X{i}" for i in range(1, self.inputs.shape[1] + 1)]
        return pd.DataFrame(self.inputs, columns=columns).assign(T=self.targets)

    @property
    def objective(self) -> float:
        """What a sweeper that searches (Optuna) minimises: the epochs to converge, or one more
        than the epochs allowed for a run that did not converge."""
        r = self.result
        return float(r.epochs if r.converged else self.setup.max_epochs + 1)


def train(cfg: RunnerConfig, helper: Helper = INLINE) -> TrainedRun:
    """Validate the config (ConfigError names the first bad key), then train; the table's
    analysis is done in line, or by the run's `helper` (runner/helper.py)."""
    inputs, targets = validate(cfg)
    init, rule, activation, convention = cfg.init, cfg.rule, cfg.activation, cfg.convention
    weights, start = perceptron.initial_parameters(
        inputs.shape[1], cfg.seed, init.low, init.high, init.weights, init.bias
    )
    setup = perceptron.Setup(
        lr=cfg.lr,
        max_epochs=cfg.max_epochs,
        rule=rule.name,
        activation=activation.name,
        theta=activation.theta or 0.0,
        binary_targets=cfg.gate.targets_encoding == "binary",
        tolerance=rule.tolerance or 0.0,
        order=cfg.order,
        seed=cfg.seed,
        max_trace_rows=cfg.max_trace_rows,
        strict=convention.strict,
        delta=convention.delta,
        bias_input=convention.bias_input,
    )
    bias = setup.shown_bias(start)  # init.bias is the bias as the trace shows it (θ, W0 or b): b
    result = perceptron.train(inputs, targets, weights, bias, setup)
    analysis = helper.submit(analyse, inputs, targets)
    return TrainedRun(inputs, targets, weights, bias, setup, result, analysis, convention.name)


def refuse_single(cfg: RunnerConfig, base_dir: Path, logged: bool = True) -> None:
    """What keeps a single run (the command line without -m, or the Python API) from being
    logged, before it trains: a sweep to resume, which it has none of; a local store it cannot
    write."""
    if cfg.resume is not None:
        raise ConfigError("resume", cfg.resume, "null: resume continues a sweep, so it goes with -m")
    if logged:
        sqlite_store.refuse_unwritable(sqlite_store.absolute(cfg.mlflow.tracking_uri, base_dir))


def own_folder(output_dir: Path, in_sweep: bool) -> AbstractContextManager[None]:
    """A single run's folder held while it runs, for one given to two commands at once
    (`hydra.run.dir=...`); a sweep's is held by the sweep."""
    if in_sweep:
        return nullcontext()
    return output_folder.held(output_dir, "hydra.run.dir", "run")


def gate_source(hydra: DictConfig) -> Path:
    """The config file of the gate chosen, its dataset's source: `gate=or` is conf/gate/or.yaml,
    or the file of that name in a folder added to Hydra's search path (--config-dir)."""
    choice = hydra.runtime.choices.gate
    for source in hydra.runtime.config_sources:
        if source.schema == "file" and Path(source.path, "gate", f"{choice}.yaml").is_file():
            return Path(source.path, "gate", f"{choice}.yaml")
    return CONF_DIR / "gate" / f"{choice}.yaml"


def epoch_images(cfg: RunnerConfig | DictConfig, in_sweep: bool) -> bool:
    """Whether to log the decision line epoch by epoch: as `epoch_images` says, or when it is
    null, for a single run and not for a sweep's jobs (about 15 ms an epoch); never without plots."""
    wanted = cfg.epoch_images if cfg.epoch_images is not None else not in_sweep
    return bool(cfg.plots and wanted)


# Keys the name says in its own words, and keys that change how a run is shown or where it goes,
# not what it is: a run's name never spells them as `key=value`
NAMED_IN_WORDS = {"gate", "gate.n_inputs", "rule", "activation", "activation.theta", "order", "lr", "seed"}
SHOWN_ONLY = ("plots", "epoch_images", "run_page", "max_trace_rows")  # how a run is shown, not what it is
NOT_WHAT_IT_IS = {*SHOWN_ONLY, "resume", "sweep"}
# What a run trains: its fingerprint's keys, all of them (tests/test_config.py places every key)
TRAINS = ("gate", "rule", "activation", "convention", "init", "lr", "seed", "max_epochs", "order")
CORE = ("strict", "delta", "bias_input")  # the convention's keys that are the core's Setup's


def wants_page(cfg: RunnerConfig, in_sweep: bool) -> bool:
    """Whether to write the run's page (run.html): as `run_page` says, or when it is null, for a
    single run and not for a sweep's jobs."""
    return bool(cfg.run_page if cfg.run_page is not None else not in_sweep)


def name(
    cfg: RunnerConfig | DictConfig, overrides: Sequence[str], varying: Collection[str] | None = None
) -> str:
    """What the run is, in a few words: its gate, lr and seed, whichever of the gate's width, the
    rule and the activation its overrides (`hydra.overrides.task`) set, and a shuffled order;
    then every other value the overrides set, as typed (`init.weights=[0,0]`), so that two runs
    that differ in a value the user set never share a name: in a sweep, only those of the keys it
    varies (`varying`), as a value all its runs share tells none apart. What comes from conf/ as
    it is goes unsaid."""
    given = {o.lstrip("+~").split("=", 1)[0] for o in overrides}
    gate, rule, activation = cfg.gate, cfg.rule, cfg.activation
    words = [gate.name]
    if "gate.n_inputs" in given:
        words.append(f"n={gate.n_inputs}")
    if "rule" in given:
        words.append(rule.name)
    if given & {"activation", "activation.theta"}:
        theta = f" θ={number(activation.theta)}" if activation.theta is not None else ""
        words.append(activation.name + theta)
    if cfg.order == "shuffle":
        words.append("shuffled")
    words += [f"lr={number(cfg.lr)}", f"seed={cfg.seed}"]
    for override in overrides:
        key = override.lstrip("+~").split("=", 1)[0]
        top = key.split(".", 1)[0]
        said = key not in NAMED_IN_WORDS and key not in NOT_WHAT_IT_IS and top not in NOT_PARAMS
        if said and (varying is None or key in varying):
            words.append("".join(override.lstrip("+").split()))
    return " ".join(words)


def params(cfg: RunnerConfig, run: TrainedRun) -> dict[str, Any]:
    """The resolved config as MLflow params, with the table and initial values actually used.

    A group's choice is logged under the group's name (`gate`, `rule`, `activation`) and its
    other keys under `<group>.<key>`; NOT_PARAMS are left out.
    """
    values = _what_it_is(cfg)
    values["gate"].update(inputs=run.inputs.tolist(), targets=run.targets.tolist())
    values["init"].update(weights=run.weights.tolist(), bias=run.setup.shown_bias(run.bias))
    for group in ("gate", "rule", "activation", "convention"):
        node = values.pop(group)
        values[group] = node.pop("name")
        values.update({f"{group}.{key}": value for key, value in node.items()})
    return values


def _what_it_is(cfg: RunnerConfig) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(cfg).items() if k not in NOT_PARAMS}


def fingerprint(cfg: RunnerConfig) -> str:
    """What makes two jobs the same job: a digest of what it trains (the gate's table, the rule,
    the activation, the initial values, the rate, the seed, the order, the limit), not of how it
    is shown, where it is logged, or any other key. A resumed sweep runs a job again only if no
    FINISHED run of its sweep has its fingerprint."""
    values = dataclasses.asdict(cfg)
    trains = {key: values[key] for key in TRAINS}
    # the convention's settings that differ from the core's: a sweep run before conventions were
    # config (all at the core's defaults then) keeps its fingerprints; the encoding is the gate's
    core = perceptron.Setup()
    trains["convention"] = {
        k: v for k, v in trains["convention"].items() if k in CORE and v != getattr(core, k)
    }
    if not trains["convention"]:
        del trains["convention"]
    return hashlib.sha256(json.dumps(trains, sort_keys=True).encode()).hexdigest()[:16]
