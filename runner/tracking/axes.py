"""What a sweep is, read off its Hydra config: what it varies (its axes), whether it searches,
its jobs, its overrides (`SweepSpec`); as its parent run's name, params and tags.

An axis is a key the sweep lists values for (`a=1,2`, a preset's `hydra.sweeper.params`) or a
key a search draws, named as the runs' params are: a config group's choice by the group, any
other key by its dotted path. The axes keep the order given. The grid is counted as the
project's sweeper counts it (hydra_plugins/perceptron_runner/sweeper.py, Hydra's basic
sweeper's grid).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig

from hydra_plugins.perceptron_runner.sweeper import grid, sweep_overrides
from runner.tracking.credentials import redacted
from runner.tracking.names import (
    AXES_PARAM,
    AXIS_PARAM,
    JOBS_PARAM,
    LAUNCHER_PARAM,
    MAX_TAG,
    NOT_PARAMS,
    OVERRIDES_TAG,
    SEARCH_PARAM,
    SWEEP_TAG,
    SWEEPER_PARAM,
)
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


@dataclass(frozen=True)
class SweepSpec:
    """A sweep as its command gave it."""

    axes: tuple[Axis, ...]
    search: bool  # a sweeper that searches (Optuna), not a grid
    jobs: int | None  # planned, when known
    overrides: tuple[str, ...]  # the command line's, resume= aside: what made the sweep
    preset: str  # the `sweep` group's choice, if the app has one; "sweep" when none or command_line
    launcher: str
    sweeper: str

    @classmethod
    def of(cls, config: DictConfig) -> SweepSpec:
        choices = config.hydra.runtime.choices
        preset = choices.get("sweep") or "command_line"
        return cls(
            axes=tuple(sweep_axes(config)),
            search=is_search(config),
            jobs=planned_jobs(config),
            overrides=tuple(o for o in config.hydra.overrides.task if o.split("=")[0] != "resume"),
            preset="sweep" if preset == "command_line" else preset,
            launcher=str(choices.get("hydra/launcher")),
            sweeper=str(choices.get("hydra/sweeper")),
        )

    @property
    def shown_overrides(self) -> list[str]:
        """The overrides with no store's user or password."""
        return [redacted(o) for o in self.overrides]

    def name(self, clock: str) -> str:
        return sweep_name(self.preset, self.axes, self.jobs, clock, self.search)

    def params(self) -> dict[str, str]:
        """The parent's params: what the sweep varied, for a person to read and compare."""
        return {
            AXES_PARAM: ",".join(a.key for a in self.axes),
            **{AXIS_PARAM + a.key: a.listing for a in self.axes},
            JOBS_PARAM: str(self.jobs),
            LAUNCHER_PARAM: self.launcher,
            SWEEPER_PARAM: self.sweeper,
            SEARCH_PARAM: json.dumps(self.search),
        }

    def tags(self) -> dict[str, str]:
        """The parent's overrides as text, and what code reads back of the sweep (readback.py) as
        JSON: its axes with their values whole (`[0,0]` one value, not two), its overrides,
        whether it searches, its jobs. No JSON should it not fit in a tag: the params are read
        back then."""
        shown = self.shown_overrides
        axes = [dataclasses.asdict(a) for a in self.axes]
        text = json.dumps({"axes": axes, "overrides": shown, "search": self.search, "jobs": self.jobs})
        return {OVERRIDES_TAG: " ".join(shown), **({SWEEP_TAG: text} if len(text) <= MAX_TAG else {})}


def sweep_name(preset: str, axes: Sequence[Axis], jobs: int | None, clock: str, search: bool) -> str:
    """`grid: a×b×seed, 48 runs, 21:04:17`: what was swept and when, so that two sweeps of the
    same command are told apart."""
    what = "×".join(a.key for a in axes) or "one point"
    unit = "trial" if search else "run"
    runs = f"{jobs} {unit}{'' if jobs == 1 else 's'}" if jobs is not None else f"? {unit}s"
    return f"{preset}: {what}, {runs}, {clock}"


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
        if key.split(".")[0] in NOT_PARAMS or override.is_delete():
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
