"""What a sweep varies, read off its Hydra config: its axes, whether it searches, its jobs.

An axis is a key the sweep lists values for (`a=1,2`, a preset's `hydra.sweeper.params`) or a
key a search draws, named as the runs' params are: a config group's choice by the group, any
other key by its dotted path. The axes keep the order given. The grid is counted as the
project's sweeper counts it (hydra_plugins/perceptron_runner/sweeper.py, Hydra's basic
sweeper's grid).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from hydra_plugins.perceptron_runner.sweeper import grid, sweep_overrides
from runner.tracking.names import NOT_PARAMS
from runner.tracking.param_text import parse

GRID_SWEEPERS = ("basic", "cached")  # Hydra's and the project's: every job of the lists' product
MAX_LISTING = 1000  # characters of a sweep param's values; a longer list is given as its override


@dataclass(frozen=True)
class Axis:
    key: str  # the param's name: a group (`optimizer`), a dotted key (`model.width`)
    values: tuple[str, ...]  # as the sweep lists them ("0.1", "1"); empty for a search
    numeric: bool
    spec: str = ""  # what the sweep said, when that is not a list: a search's distribution

    @property
    def listing(self) -> str:
        """The values as one line, for the parent run's `sweep.<key>` param."""
        return self.spec or ",".join(self.values)


def sweep_name(preset: str, axes: Sequence[Axis], jobs: int | None, clock: str, search: bool) -> str:
    """`grid: a×b×seed, 48 runs, 21:04:17`: what was swept and when, so that two sweeps of the
    same command are told apart."""
    what = "×".join(a.key for a in axes) or "one point"
    unit = "trial" if search else "run"
    runs = f"{jobs} {unit}{'' if jobs == 1 else 's'}" if jobs is not None else f"? {unit}s"
    return f"{preset}: {what}, {runs}, {clock}"


def point(config: DictConfig, choices: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """A job's values on the sweep's axes (`keys`), as plain values: a group's choice by its
    name, any other key's value as composed (a list stays a list). A key that does not resolve
    (a job's broken config) is left out."""
    values = {}
    for key in keys:
        if key in choices:
            values[key] = choices[key]
            continue
        try:
            found = OmegaConf.select(config, key, default=None)
            values[key] = OmegaConf.to_container(found, resolve=True) if OmegaConf.is_config(found) else found
        except Exception:
            pass
    return values


def is_search(config: DictConfig) -> bool:
    """Whether the sweeper searches (Optuna) rather than runs a grid."""
    return config.hydra.runtime.choices.get("hydra/sweeper") not in GRID_SWEEPERS


def planned_jobs(config: DictConfig) -> int | None:
    """How many jobs the sweep will run: the grid's, as its sweeper computes it, or a sweeper's
    `n_trials` (Optuna); None if unknown."""
    if is_search(config):
        return config.hydra.sweeper.get("n_trials")
    try:
        return len(grid(OverridesParser.create().parse_overrides(_arguments(config))))
    except Exception:  # Hydra reports a bad sweep itself, when the sweeper parses it
        return None


def _arguments(config: DictConfig) -> list[str]:
    """A sweep's overrides as its sweeper reads them: the preset's params, then the command line."""
    return sweep_overrides(config.hydra.sweeper.get("params"), config.hydra.overrides.task)


def sweep_axes(config: DictConfig) -> list[Axis]:
    """What the sweep varies, in the order it was given; a key listed twice keeps its last list
    (the command line's over the preset's), and keys that are no params (`hydra.*`, `mlflow.*`)
    are no axes."""
    groups = set(config.hydra.runtime.choices)
    found: dict[str, Axis] = {}
    try:
        overrides = OverridesParser.create().parse_overrides(_arguments(config))
    except Exception:
        return []
    search = is_search(config)
    for override in overrides:
        key = override.key_or_group
        if key.split(".")[0] in NOT_PARAMS:
            continue
        spec = override.input_line.split("=", 1)[1]  # as given: range(0,50), interval(0, 1)
        if search and key in (config.hydra.sweeper.get("params") or {}):  # drawn, not listed
            found[key] = Axis(key, (), not spec.startswith("choice"), spec)
        elif override.is_sweep_override():
            values = tuple(override.sweep_string_iterator())
            listing = ",".join(values)
            spec = spec if len(listing) > MAX_LISTING else ""
            numeric = key not in groups and all(isinstance(parse(v), (int, float)) for v in values)
            found[key] = Axis(key, () if spec else values, numeric, spec)
    return list(found.values())
