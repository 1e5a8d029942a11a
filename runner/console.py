"""What a run prints, as the tutorial did: the data, the starting point, each epoch's trace
table, and one summary line. Functions of plain values that return text; the entry point
decides where the text goes (Python logging, so it also lands in the Hydra job's log file).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd


def number(value: float) -> str:
    """A number as people write it: 1 rather than 1.0, 0.1 rather than 0.1000000000000000055."""
    return f"{value:g}"


def vector(values: Sequence[float]) -> str:
    return "(" + ", ".join(number(v) for v in values) + ")"


def setup(
    inputs: Sequence[Sequence[float]],
    targets: Sequence[float],
    weights: Sequence[float],
    bias: float,
) -> str:
    patterns = ", ".join(vector(row) for row in inputs)
    return "\n".join(
        [
            f"Input vectors X:  {patterns}",
            f"Target vector T:  {vector(targets)}",
            f"Initial weights:  W = {vector(weights)}, b = {number(bias)}",
        ]
    )


def epoch_tables(trace: pd.DataFrame) -> str:
    """The trace, one table per epoch."""
    return "\n\n".join(
        f"Epoch {epoch}\n" + rows.to_string(index=False, float_format=number)
        for epoch, rows in trace.groupby("epoch", sort=False)
    )


def outcome(
    converged: bool,
    epochs: int,
    updates: int,
    weights: np.ndarray,
    bias: float,
) -> str:
    final = f"final W = {vector(weights)}, b = {number(bias)}"
    if converged:
        return f"Converged after {epochs} epochs with {updates} updates: {final}"
    return (
        f"Not converged after {epochs} epochs (max_epochs reached) with {updates} updates: "
        f"{final}"
    )
