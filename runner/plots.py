"""The pictures logged with runs and sweeps, drawn headless with matplotlib.

Figures are made with `matplotlib.figure.Figure` and saved through its Agg canvas, without pyplot:
no display, no global figure state to leak between the jobs a launcher runs in one process.
Each function takes plain values and writes one PNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

MAX_LINES = 40  # decision lines drawn at most; a long run shows every k-th epoch, and the last
DPI = 100
PNG = {"compress_level": 1}  # fast to write; these are small pictures


def decision_lines(
    inputs: np.ndarray,
    targets: np.ndarray,
    initial: tuple[np.ndarray, float],
    epoch_weights: np.ndarray,
    epoch_bias: np.ndarray,
    theta: float,
    path: Path,
) -> None:
    """A 2-input table's patterns, and the line w1·x1 + w2·x2 + b = 0 at the start (dashed) and
    after each epoch, faint to strong; with the band activation, the final band ±θ as well."""
    fig = Figure(figsize=(6.0, 4.2), dpi=DPI)
    ax = fig.add_axes((0.1, 0.11, 0.6, 0.8))  # a fixed layout: one draw, not a second to fit
    low, high = inputs.min() - 0.6, inputs.max() + 0.6
    positive = targets > 0  # +1 of bipolar targets, 1 of binary ones
    ax.scatter(*inputs[positive].T, marker="o", s=70, color="tab:blue", label="target +", zorder=3)
    ax.scatter(*inputs[~positive].T, marker="x", s=70, color="tab:red", label="target −", zorder=3)

    epochs = len(epoch_bias)
    shown = sorted({*range(0, epochs, max(1, -(-epochs // MAX_LINES))), epochs - 1})
    _line(ax, *initial, 0.0, low, high, color="grey", linestyle="--", label="initial")
    for i in shown:
        strength = 0.15 + 0.85 * (i + 1) / epochs
        final = i == epochs - 1
        _line(ax, epoch_weights[i], epoch_bias[i], 0.0, low, high, color="black",
              alpha=strength, linewidth=2 if final else 1, label=f"after epoch {epochs}" if final else None)
    if theta > 0 and epochs:
        for edge in (-theta, theta):
            _line(ax, epoch_weights[-1], epoch_bias[-1], edge, low, high, color="black",
                  linestyle=":", label="band ±θ" if edge > 0 else None)
    ax.set(xlim=(low, high), ylim=(low, high), xlabel="x1", ylabel="x2", aspect="equal",
           title=f"Decision line, epoch by epoch ({epochs})")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small", frameon=False)
    fig.savefig(path, pil_kwargs=PNG)


def _line(ax, weights, bias, level, low, high, **style) -> None:
    """The points where w1·x1 + w2·x2 + b = level, across the plot; nothing if w = 0."""
    w1, w2 = weights
    if w2 != 0:
        xs = np.array([low, high])
        ax.plot(xs, (level - bias - w1 * xs) / w2, **style)
    elif w1 != 0:
        ax.axvline((level - bias) / w1, **style)


def errors_per_epoch(errors: Sequence[int], path: Path) -> None:
    """Misclassified patterns in each epoch."""
    fig = Figure(figsize=(4.8, 3.2), dpi=DPI)
    ax = fig.add_axes((0.13, 0.16, 0.82, 0.74))
    epochs = np.arange(1, len(errors) + 1)
    ax.plot(epochs, errors, marker="o" if len(errors) <= 50 else None, color="tab:red")
    ax.set(xlabel="epoch", ylabel="errors", title="Misclassified patterns per epoch",
           ylim=(-0.05 * max(max(errors, default=1), 1), None))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    fig.savefig(path, pil_kwargs=PNG)


def heatmap(mean: pd.DataFrame, labels: pd.DataFrame, share: pd.DataFrame, path: Path) -> None:
    """A sweep's gate × lr grid coloured by mean epochs, each cell labelled with its mean ± sd
    and the share of its runs that converged."""
    rows, cols = mean.shape
    fig = Figure(figsize=(1.6 + 1.3 * cols, 1.2 + 0.6 * rows), dpi=DPI)
    ax = fig.add_subplot()
    image = ax.imshow(mean.to_numpy(dtype=float), cmap="viridis_r", aspect="auto")
    fig.colorbar(image, ax=ax, label="mean epochs")
    ax.set_xticks(range(cols), [f"{c:g}" for c in mean.columns])
    ax.set_yticks(range(rows), list(mean.index))
    ax.set(xlabel="lr", ylabel="gate")
    ax.set_title("Epochs, mean ± sd over seeds, and share converged\n(hatched: not every run "
                 "converged)", fontsize="small")
    for r in range(rows):
        for c in range(cols):
            value = mean.iat[r, c]
            if pd.isna(value):
                continue
            ax.text(c, r, f"{labels.iat[r, c]}\n{share.iat[r, c]:.0%} converged", ha="center",
                    va="center", fontsize="x-small",  # dark text on the light end of the map
                    color="black" if image.norm(value) < 0.5 else "white")
            if share.iat[r, c] < 1:
                ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, hatch="///",
                                       edgecolor="grey", linewidth=0))
    fig.savefig(path, bbox_inches="tight", pil_kwargs=PNG)
