"""How a sweep's results are laid out along what it varied. Plain Python.

A sweep's axes (runner/tracking/axes.py reads them off its Hydra config: `gate=or,and`,
`lr=0.1,1`, a preset's lists, the keys a search draws) are laid out here the perceptron's way:
the gate down, the learning rate across, the seed averaged over. The pivot tables, the heatmap,
the sweep's page and the MLflow UI's ready views (runner/views.py) all follow the layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from runner.tracking.axes import Axis

SEED = "seed"
# Which numeric axis goes across, and which categorical one goes down, when several vary.
PREFERRED_NUMERIC = ("lr",)
PREFERRED_CATEGORICAL = ("gate", "rule", "activation")


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
