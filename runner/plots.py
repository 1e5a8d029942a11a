"""The pictures logged with runs and sweeps, drawn headless with matplotlib.

Figures are made with `matplotlib.figure.Figure` and saved through its Agg canvas, without pyplot:
no display, no global figure state to leak between the jobs a launcher runs in one process.
Each function takes plain values and writes one PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from runner.axes import Axis, Layout

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
        _line(
            ax,
            epoch_weights[i],
            epoch_bias[i],
            0.0,
            low,
            high,
            color="black",
            alpha=strength,
            linewidth=2 if final else 1,
            label=f"after epoch {epochs}" if final else None,
        )
    if theta > 0 and epochs:
        for edge in (-theta, theta):
            _line(
                ax,
                epoch_weights[-1],
                epoch_bias[-1],
                edge,
                low,
                high,
                color="black",
                linestyle=":",
                label="band ±θ" if edge > 0 else None,
            )
    ax.set(
        xlim=(low, high),
        ylim=(low, high),
        xlabel="x1",
        ylabel="x2",
        aspect="equal",
        title=f"Decision line, epoch by epoch ({epochs})",
    )
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
    ax.set(
        xlabel="epoch",
        ylabel="errors",
        title="Misclassified patterns per epoch",
        ylim=(-0.05 * max(max(errors, default=1), 1), None),
    )
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    fig.savefig(path, pil_kwargs=PNG)


def heatmap(
    panels: Sequence[tuple[str, pd.DataFrame, pd.DataFrame, pd.DataFrame]],
    layout: Layout,
    title: str,
    path: Path,
) -> None:
    """A sweep's cells coloured by mean epochs, one panel per (name, means, labels, shares); each
    cell labelled with its mean (± sd) and the share of its runs that converged, hatched where
    not every run converged. One colour scale for all panels."""
    rows = max(p[1].shape[0] for p in panels)
    cols = max(p[1].shape[1] for p in panels)
    across = min(len(panels), 3)
    down = -(-len(panels) // across)
    fig = Figure(figsize=(across * (1.2 + 1.3 * cols) + 1.2, down * (1.0 + 0.6 * rows) + 0.8), dpi=DPI)
    values = pd.concat([p[1].stack() for p in panels])
    low, high = float(values.min()), float(values.max())
    axes = fig.subplots(down, across, squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, (name, mean, labels, share) in zip(axes.flat, panels):
        image = ax.imshow(
            mean.to_numpy(dtype=float), cmap="viridis_r", aspect="auto", vmin=low, vmax=max(high, low + 1e-9)
        )
        ax.set_xticks(range(mean.shape[1]), [_tick(c) for c in mean.columns])
        ax.set_yticks(range(mean.shape[0]), [_tick(r) for r in mean.index])
        ax.set(xlabel=layout.columns or "", ylabel=layout.rows or "", title=name)
        for r in range(mean.shape[0]):
            for c in range(mean.shape[1]):
                value = mean.iat[r, c]
                if pd.isna(value):
                    continue
                ax.text(
                    c,
                    r,
                    f"{labels.iat[r, c]}\n{share.iat[r, c]:.0%} converged",
                    ha="center",
                    va="center",
                    fontsize="small",  # dark text on the light end of the map
                    color="black" if image.norm(value) < 0.5 else "white",
                )
                if share.iat[r, c] < 1:
                    ax.add_patch(
                        Rectangle(
                            (c - 0.5, r - 0.5), 1, 1, fill=False, hatch="///", edgecolor="grey", linewidth=0
                        )
                    )
    fig.colorbar(image, ax=axes, label="mean epochs", shrink=0.8)
    fig.suptitle(f"{title}, and share converged (hatched: not every run converged)")
    fig.savefig(path, bbox_inches="tight", pil_kwargs=PNG)


def _tick(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def objective(done: pd.DataFrame, axes: Sequence[Axis], path: Path) -> None:
    """A search's trials: the epochs each took against each searched value (log scale where the
    search drew on one), converged trials filled, the others hollow."""
    fig = Figure(figsize=(4.2 * max(len(axes), 1), 3.6), dpi=DPI)
    converged = done["converged"] == 1
    for i, axis in enumerate(axes, start=1):
        ax = fig.add_subplot(1, max(len(axes), 1), i)
        x = done[axis.key].astype(float)
        ax.scatter(x[converged], done["epochs"][converged], color="tab:blue", label="converged")
        ax.scatter(
            x[~converged],
            done["epochs"][~converged],
            facecolors="none",
            edgecolors="tab:red",
            label="not converged",
        )
        if "log" in axis.spec:
            ax.set_xscale("log")
        ax.set(xlabel=axis.key, ylabel="epochs" if i == 1 else None)
        ax.grid(alpha=0.3)
    if axes:
        fig.axes[0].legend(fontsize="small")
    fig.suptitle("Epochs of each trial against the searched values")
    fig.tight_layout()
    fig.savefig(path, pil_kwargs=PNG)
