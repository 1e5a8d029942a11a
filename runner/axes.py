"""What a sweep varied, and how its results are laid out because of it. Plain Python.

A sweep's axes are the keys it lists values for (`gate=or,and`, `lr=0.1,1`, a preset's
`hydra.sweeper.params`, or the keys an Optuna search draws), named as the runs' params are: a
config group's choice by the group (`gate`, `rule`), any other key by its dotted path (`lr`,
`init.low`). Everything a sweep reports is laid out along them: the pivot tables, the heatmap,
the parent run's name and params, and the MLflow UI's ready view (runner/views.py).
runner/sweep_axes.py reads them off the sweep's Hydra config.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runner.console import count

SEED = "seed"
# Which numeric axis goes across, and which categorical one goes down, when several vary.
PREFERRED_NUMERIC = ("lr",)
PREFERRED_CATEGORICAL = ("gate", "rule", "activation")


@dataclass(frozen=True)
class Axis:
    key: str  # the param's name: gate, lr, init.low
    values: tuple[str, ...]  # as the sweep lists them ("0.1", "1"); empty for a search
    numeric: bool
    spec: str = ""  # what the sweep said, when that is not a list: a search's distribution

    @property
    def listing(self) -> str:
        """The values as one line, for the parent run's `sweep.<key>` param."""
        return self.spec or ",".join(self.values)


@dataclass(frozen=True)
class Layout:
    """How a sweep's cells are pivoted: `rows` down, `columns` across, one panel per value of each
    axis in `panels`; a cell's runs differ by their seed alone. None where there is no such axis."""

    rows: str | None
    columns: str | None
    panels: tuple[str, ...]
    seeds: bool  # whether the seed varied: then a cell holds one run per seed

    @property
    def cell_keys(self) -> list[str]:
        """Every axis but the seed: the runs of one cell share a value on each."""
        return [*self.panels, *(k for k in (self.rows, self.columns) if k)]


def layout(axes: Sequence[Axis]) -> Layout:
    """Rows: the main categorical axis (gate before rule before activation, else the first one);
    columns: the main numeric axis (lr first); panels: every other axis but the seed."""
    others = [a for a in axes if a.key != SEED]
    seeds = any(a.key == SEED for a in axes)
    numeric = _main([a for a in others if a.numeric], PREFERRED_NUMERIC)
    categorical = _main([a for a in others if not a.numeric], PREFERRED_CATEGORICAL)
    rest = [a for a in others if a not in (numeric, categorical)]
    rows, columns = categorical, numeric
    if rows is None and rest:
        rows = rest.pop(0)
    if columns is None and rest:
        columns = rest.pop(0)
    if rows is None:  # a single numeric axis: down rather than across
        rows, columns = columns, None
    return Layout(
        rows=rows.key if rows else None,
        columns=columns.key if columns else None,
        panels=tuple(a.key for a in rest),
        seeds=seeds,
    )


def _main(axes: list[Axis], preferred: tuple[str, ...]) -> Axis | None:
    for key in preferred:
        for axis in axes:
            if axis.key == key:
                return axis
    return axes[0] if axes else None


def sweep_name(preset: str, axes: Sequence[Axis], jobs: int | None, clock: str, search: bool) -> str:
    """`grid: gate×lr×seed, 48 runs, 21:04:17`: what was swept and when, so that two sweeps of
    the same command are told apart."""
    what = "×".join(a.key for a in axes) or "one point"
    unit = "trial" if search else "run"
    runs = count(jobs, unit) if jobs is not None else f"? {unit}s"
    return f"{preset}: {what}, {runs}, {clock}"
