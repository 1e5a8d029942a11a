"""The learning core: a single-layer perceptron trained from scratch with numpy.

Plain values in, plain values out. Nothing here knows about Hydra or MLflow, reads a config
or a clock, or prints: the entry point decides what to do with a `TrainResult`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd


def bipolar_step(yin: float) -> float:
    """The tutorial's activation: +1 if yin >= 0 else -1."""
    return 1.0 if yin >= 0 else -1.0


def initial_parameters(
    n_inputs: int,
    seed: int,
    low: float,
    high: float,
    weights: Sequence[float] | None = None,
    bias: float | None = None,
) -> tuple[np.ndarray, float]:
    """The starting weights and bias: the given ones, or uniform draws from [low, high).

    All n_inputs + 1 values are always drawn from one Generator seeded by `seed`, then the given
    ones replace their draws, so fixing the weights never changes the bias drawn for a seed.
    """
    drawn = np.random.default_rng(seed).uniform(low, high, size=n_inputs + 1)
    w = np.array(weights, dtype=float) if weights is not None else drawn[:n_inputs]
    b = float(bias) if bias is not None else float(drawn[n_inputs])
    return w, b


@dataclass(frozen=True)
class TrainResult:
    """What one training run produced; every array is indexed by epoch (epoch k is row k-1)."""

    trace: pd.DataFrame  # one row per pattern per epoch; columns from `trace_columns`
    errors: np.ndarray  # patterns with Y != t, per epoch
    epoch_weights: np.ndarray  # weights at the end of each epoch, shape (epochs, n_inputs)
    epoch_bias: np.ndarray  # bias at the end of each epoch
    updates: int  # rows in which the weights changed
    converged: bool  # the last epoch was clean

    @property
    def epochs(self) -> int:
        return len(self.errors)

    @property
    def weights(self) -> np.ndarray:
        return self.epoch_weights[-1]

    @property
    def bias(self) -> float:
        return float(self.epoch_bias[-1])


def trace_columns(n_inputs: int) -> list[str]:
    xs = [f"X{i}" for i in range(1, n_inputs + 1)]
    ws = [f"W{i}" for i in range(1, n_inputs + 1)]
    dws = [f"delW{i}" for i in range(1, n_inputs + 1)]
    return ["epoch", *xs, "T", "yin", "Y", *ws, "b", *dws, "delb"]


def train(
    inputs: Sequence[Sequence[float]],
    targets: Sequence[float],
    weights: Sequence[float],
    bias: float,
    lr: float,
    max_epochs: int,
) -> TrainResult:
    """Train with the perceptron rule, pattern by pattern in table order.

    For each pattern: yin = b + x.w, Y = bipolar_step(yin); if Y != t then dW = lr*t*x and
    db = lr*t, else nothing changes. Stops after the first clean epoch or after max_epochs.

    The weights are kept as w0 + lr*k, where k sums the t*x of every update. With integer
    patterns k is exact, so from zero weights the sign of yin never depends on how lr rounds
    (lr=0.1 takes exactly the steps lr=1 takes, as the theory says it must).
    """
    x = np.asarray(inputs, dtype=float)
    t = np.asarray(targets, dtype=float)
    w0 = np.asarray(weights, dtype=float)
    b0 = float(bias)
    n_rows, n = x.shape
    k, kb = np.zeros(n), 0.0
    # yin = b0 + x.w0 + lr*(kb + x.k): the part that does not change is computed once.
    yin0 = x @ w0 + b0

    epochs, errors, epoch_w, epoch_b = [], [], [], []
    updates = 0
    for epoch in range(1, max_epochs + 1):
        rows = np.zeros((n_rows, 3 * n + 6))
        rows[:, 0] = epoch
        rows[:, 1 : n + 1] = x
        rows[:, n + 1] = t
        mistakes = 0
        for i in range(n_rows):
            yin = yin0[i] + lr * (kb + x[i] @ k)
            y = bipolar_step(yin)
            row = rows[i]
            if y != t[i]:
                mistakes += 1
                k += t[i] * x[i]
                kb += t[i]
                row[2 * n + 5 : 3 * n + 5] = lr * t[i] * x[i]
                row[3 * n + 5] = lr * t[i]
            row[n + 2] = yin
            row[n + 3] = y
            row[n + 4 : 2 * n + 4] = w0 + lr * k
            row[2 * n + 4] = b0 + lr * kb
        # a row with a mistake always changes the weights (t*x has no zero in the bias input)
        updates += mistakes
        epochs.append(rows)
        errors.append(mistakes)
        epoch_w.append(w0 + lr * k)
        epoch_b.append(b0 + lr * kb)
        if mistakes == 0:
            break

    return TrainResult(
        trace=_trace_frame(np.concatenate(epochs), n),
        errors=np.array(errors),
        epoch_weights=np.array(epoch_w),
        epoch_bias=np.array(epoch_b),
        updates=updates,
        converged=errors[-1] == 0,
    )


def _trace_frame(rows: np.ndarray, n_inputs: int) -> pd.DataFrame:
    """The trace as a DataFrame; columns whose values are all whole numbers become integers."""
    whole = (rows == np.round(rows)).all(axis=0)
    return pd.DataFrame(
        {
            name: column.astype(np.int64) if is_whole else column
            for name, column, is_whole in zip(trace_columns(n_inputs), rows.T, whole)
        }
    )
