"""What a sweep varies, read off its Hydra config: its axes, whether it searches, its jobs.

The axes are the lists of the command line and of a preset (`hydra.sweeper.params`), or the keys
a search draws, in the order given (runner/axes.py lays the results out along them). The grid is
counted as this project's sweeper counts it (hydra_plugins/perceptron_runner/sweeper.py).
"""

from __future__ import annotations

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig

from hydra_plugins.perceptron_runner.sweeper import grid, sweep_overrides
from runner.axes import Axis
from runner.tracking.names import NOT_PARAMS
from runner.tracking.param_text import parse

GRID_SWEEPERS = ("basic", "cached")  # Hydra's and this project's: every job of the lists' product
MAX_LISTING = 1000  # characters of a sweep param's values; a longer list is given as its override


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
