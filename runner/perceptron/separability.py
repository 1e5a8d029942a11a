"""Is a truth table linearly separable, and what does the perceptron convergence theorem promise?

Separability and the max-margin separator come from one least-distance problem, solved exactly
by Lawson & Hanson's reduction to non-negative least squares (scipy's NNLS, an active-set method):
the smallest w with t·(w·x̃) >= 1 for every pattern x̃ = (x, 1), if there is one. There is one
exactly when the table is separable; its margin is γ = 1/|w|, and from zero weights the perceptron
makes at most (R/γ)² updates, R the largest |x̃| (Novikoff's theorem).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Separability:
    separable: bool
    radius: float  # R: the largest norm of a pattern with its bias input
    margin: float | None  # γ: the margin of the max-margin separator (through the bias input)
    update_bound: float | None  # (R/γ)²: most updates the perceptron can make from zero


def analyse(inputs: Sequence[Sequence[float]], targets: Sequence[float]) -> Separability:
    """Targets may be bipolar or binary: the higher level is one class, the lower the other."""
    from scipy.optimize import nnls  # a third of a second to import: only where a run is analysed

    t = np.asarray(targets, dtype=float)
    x = np.hstack([np.asarray(inputs, dtype=float), np.ones((len(t), 1))])
    radius = float(np.linalg.norm(x, axis=1).max())
    signs = np.where(t == t.max(), 1.0, -1.0)
    g = signs[:, None] * x  # want g @ w >= 1
    # Lawson & Hanson, Solving Least Squares Problems, ch. 23: min |w| subject to g w >= h
    # is solved by u = NNLS([gᵀ; hᵀ], [0..0, 1]) and w = -r[:-1] / r[-1] with r the residual;
    # a zero residual means no w exists.
    e = np.vstack([g.T, np.ones(len(t))])
    f = np.zeros(len(e))
    f[-1] = 1.0
    u, _ = nnls(e, f, maxiter=50 * len(e) + 10 * len(t))
    r = e @ u - f
    if abs(r[-1]) < 1e-9:
        return Separability(False, radius, None, None)
    w = -r[:-1] / r[-1]
    margin = float((g @ w).min() / np.linalg.norm(w))
    return Separability(True, radius, margin, float((radius / margin) ** 2))


def smallest_conflict(
    inputs: Sequence[Sequence[float]], targets: Sequence[float], most: int = 12
) -> tuple[int, ...]:
    """The fewest patterns (their indices) that no line puts on their sides, for a table that is
    not separable: XOR's four, or three points in a row with the middle one apart. Empty when the
    table is separable, or has more than `most` patterns (too many subsets to try)."""
    from itertools import combinations

    t = np.asarray(targets, dtype=float)
    if len(t) > most or analyse(inputs, t).separable:
        return ()
    x = np.asarray(inputs, dtype=float)
    for size in range(2, len(t) + 1):
        for subset in combinations(range(len(t)), size):
            chosen = list(subset)
            if len(set(t[chosen])) > 1 and not analyse(x[chosen], t[chosen]).separable:
                return subset
    return tuple(range(len(t)))
