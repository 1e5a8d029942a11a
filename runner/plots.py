"""The pictures logged with runs and sweeps, drawn headless with matplotlib.

Figures are made with `matplotlib.figure.Figure` and saved through its Agg canvas, without pyplot:
no display, no global figure state to leak between the jobs a launcher runs in one process.
Each function takes plain values and writes one PNG.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from PIL import Image

from runner import pivots
from runner.axes import Layout
from runner.console import number
from runner.perceptron import Setup, TrainResult, mistakes_of
from runner.tracking.axes import Axis

MAX_LINES = 40  # decision lines drawn at most; a long run shows every k-th epoch, and the last
MAX_STEPS = 50  # a run's pictures epoch by epoch, at most: the start, the last, evenly between
DPI = 100
PNG = {"compress_level": 1}  # fast to write; these are small pictures


class _Frame:
    """A figure drawn in full once, without its moving parts; each picture then copies that
    picture back and draws only the moving parts over it (matplotlib's blitting). Drawing the
    axes, ticks and text is most of a small picture's cost, and a sweep's runs share them.
    A PNG is saved in 256 colours, those of the frame's first picture in this process: a plot has
    some 300, most of them shades of anti-aliasing, and Pillow compresses a palette's picture
    without filtering it row by row (1 ms against 4, for a third of the bytes). A few pixels take
    a nearby colour (where a faint line crosses a marker: docs/benchmarks.md says how many)."""

    def __init__(self, fig: Figure, moving: Sequence[Artist]) -> None:
        self.fig, self.moving = fig, moving
        self.palette: Image.Image | None = None  # a pixel in the colours of its first picture
        canvas = FigureCanvasAgg(fig)
        for artist in moving:
            artist.set_visible(False)
        canvas.draw()
        self.background = canvas.copy_from_bbox(fig.bbox)
        for artist in moving:
            artist.set_visible(True)

    def image(self) -> Image.Image:
        canvas = self.fig.canvas
        canvas.restore_region(self.background)
        for artist in self.moving:
            self.fig.draw_artist(artist)
        width, height = canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        return image.convert("RGB")  # opaque: a quarter less to compress

    def save(self, path: Path) -> None:
        picture = self.image()
        if self.palette is None:
            self.palette = Image.new("P", (1, 1))
            self.palette.putpalette(picture.quantize(colors=256).getpalette())
        picture.quantize(palette=self.palette, dither=Image.Dither.NONE).save(path, **PNG)


def run_pictures(
    folder: Path,
    inputs: np.ndarray,
    targets: np.ndarray,
    weights: np.ndarray,
    bias: float,
    result: TrainResult,
    setup: Setup,
    stepped: bool,
) -> tuple[Path, list[tuple[int, Image.Image]]]:
    """The run's PNGs in `folder`: errors per epoch, and for a 2-input table its decision lines;
    and, `stepped`, a 2-input table's decision line epoch by epoch (epoch_images), as pictures
    to log with their steps and as an animation for slides (decision_lines.gif)."""
    folder.mkdir(exist_ok=True)
    errors_per_epoch(result.errors, len(targets), folder / "errors.png")
    if inputs.shape[1] != 2:
        return folder, []
    lines = ((weights, bias), result.epoch_weights, result.epoch_bias)
    decision_lines(inputs, targets, *lines, setup.theta, folder / "decision_lines.png")
    if not stepped:
        return folder, []
    frames = epoch_images(inputs, targets, *lines, setup, epoch_steps(result.epochs))
    animate([picture for _, picture in frames], folder / "decision_lines.gif")
    return folder, frames


GIF_FRAME_MS = 800  # an epoch's frame; the last is held three times as long, before the loop


def animate(frames: list[Image.Image], path: Path) -> None:
    """The decision line through the epochs as an animated GIF, a frame an epoch, looping: the
    frames already drawn, written by Pillow (matplotlib's own animation writer is Pillow too)."""
    first, *rest = [frame.convert("RGB").quantize(colors=64) for frame in frames]
    durations = [GIF_FRAME_MS] * len(rest) + [3 * GIF_FRAME_MS]
    first.save(path, save_all=True, append_images=rest, duration=durations, loop=0, optimize=True)


@functools.lru_cache(maxsize=8)  # about 1 MB each: the few tables of a sweep
def _decision_frame(
    inputs: tuple[tuple[float, ...], ...], positive: tuple[bool, ...], low: float, high: float, band: bool
) -> tuple[_Frame, dict[str, Artist]]:
    fig = Figure(figsize=(6.0, 4.2), dpi=DPI)
    ax = fig.add_axes((0.1, 0.11, 0.6, 0.8))  # a fixed layout: one draw, not a second to fit
    points, targets = np.array(inputs), np.array(positive)
    ax.scatter(*points[targets].T, marker="o", s=70, color="tab:blue", label="target +", zorder=3)
    ax.scatter(*points[~targets].T, marker="x", s=70, color="tab:red", label="target −", zorder=3)
    parts = {
        "initial": LineCollection([], colors="grey", linestyles="--", label="initial"),
        "epochs": LineCollection([], colors="black", label="after each epoch"),
        "last": LineCollection([], colors="black", linewidths=2, label="after the last"),
    }
    if band:
        parts["band"] = LineCollection([], colors="black", linestyles=":", label="band ±θ")
    for part in parts.values():
        ax.add_collection(part)
    ax.set(xlim=(low, high), ylim=(low, high), xlabel="x1", ylabel="x2", aspect="equal")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small", frameon=False)
    # the title says how many epochs: a text of the figure's, where the axes' title would be
    parts["title"] = fig.text(0.4, 0.93, "", ha="center", va="bottom", fontsize="large")
    return _Frame(fig, list(parts.values())), parts


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
    low, high = float(inputs.min()) - 0.6, float(inputs.max()) + 0.6
    epochs = len(epoch_bias)
    frame, parts = _decision_frame(
        tuple(map(tuple, inputs.tolist())), tuple((targets > 0).tolist()), low, high, theta > 0 and epochs > 0
    )
    shown = sorted({*range(0, epochs, max(1, -(-epochs // MAX_LINES))), epochs - 1}) if epochs else []
    parts["initial"].set_segments(_segments([initial], 0.0, low, high))
    lines = [(epoch_weights[i], epoch_bias[i]) for i in shown]
    strengths = [0.15 + 0.85 * (i + 1) / epochs for i in shown]
    earlier = [(line, a) for line, a in zip(lines[:-1], strengths) if _segments([line], 0.0, low, high)]
    parts["epochs"].set_segments(_segments([line for line, _ in earlier], 0.0, low, high))
    parts["epochs"].set_color([(0.0, 0.0, 0.0, a) for _, a in earlier])
    parts["last"].set_segments(_segments(lines[-1:], 0.0, low, high))
    if "band" in parts:
        parts["band"].set_segments(
            [*_segments(lines[-1:], -theta, low, high), *_segments(lines[-1:], theta, low, high)]
        )
    parts["title"].set_text(f"Decision line, epoch by epoch ({epochs})")
    frame.save(path)


@functools.lru_cache(maxsize=8)
def _step_frame(
    inputs: tuple[tuple[float, ...], ...], positive: tuple[bool, ...], low: float, high: float, band: bool
) -> tuple[_Frame, dict[str, Artist]]:
    fig = Figure(figsize=(5.2, 3.8), dpi=DPI)
    ax = fig.add_axes((0.13, 0.12, 0.53, 0.76))
    points, targets = np.array(inputs), np.array(positive)
    ax.scatter(*points[targets].T, marker="o", s=70, color="tab:blue", label="target +", zorder=3)
    ax.scatter(*points[~targets].T, marker="x", s=70, color="tab:red", label="target −", zorder=3)
    parts: dict[str, Artist] = {
        "before": LineCollection([], colors="grey", linestyles="--", label="the epoch before"),
        "now": LineCollection([], colors="black", linewidths=2, label="after this epoch"),
    }
    if band:
        parts["band"] = LineCollection([], colors="black", linestyles=":", label="band ±θ")
    for part in parts.values():
        ax.add_collection(part)
    (parts["wrong"],) = ax.plot(
        [],
        [],
        "o",
        markersize=16,
        markerfacecolor="none",
        markeredgecolor="tab:orange",
        markeredgewidth=2,
        label="misclassified",
        zorder=2,
    )
    ax.set(xlim=(low, high), ylim=(low, high), xlabel="x1", ylabel="x2", aspect="equal")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small", frameon=False)
    parts["title"] = fig.text(0.38, 0.92, "", ha="center", va="bottom", fontsize="medium")
    return _Frame(fig, list(parts.values())), parts


def epoch_steps(epochs: int, most: int = MAX_STEPS) -> list[int]:
    """The epochs pictured one by one: 0 (the start) to the last, every one, or `most` of them
    evenly spread, the first and the last among them."""
    if epochs + 1 <= most:
        return list(range(epochs + 1))
    return sorted({round(k * epochs / (most - 1)) for k in range(most)})


def epoch_images(
    inputs: np.ndarray,
    targets: np.ndarray,
    initial: tuple[np.ndarray, float],
    epoch_weights: np.ndarray,
    epoch_bias: np.ndarray,
    setup: Setup,
    steps: Sequence[int],
) -> list[tuple[int, Image.Image]]:
    """A 2-input table's decision line at each of `steps` (0: the initial weights; k: after
    epoch k), the line of the step before dashed, the patterns it misclassifies ringed: the
    pictures MLflow's step slider goes through."""
    low, high, theta = float(inputs.min()) - 0.6, float(inputs.max()) + 0.6, setup.theta
    frame, parts = _step_frame(
        tuple(map(tuple, inputs.tolist())), tuple((targets > 0).tolist()), low, high, theta > 0
    )
    lines = [initial, *zip(epoch_weights, epoch_bias)]
    wrong_at = mistakes_of(setup.activation, theta, setup.strict)
    images = []
    for at, step in enumerate(steps):
        weights, bias = lines[step]
        wrong = wrong_at(inputs @ np.asarray(weights, dtype=float) + bias, targets)
        before = lines[steps[at - 1]] if at else None
        parts["now"].set_segments(_segments([lines[step]], 0.0, low, high))
        parts["before"].set_segments(_segments([before], 0.0, low, high) if before is not None else [])
        if "band" in parts:
            parts["band"].set_segments(
                [*_segments([lines[step]], -theta, low, high), *_segments([lines[step]], theta, low, high)]
            )
        parts["wrong"].set_data(inputs[wrong, 0], inputs[wrong, 1])
        when = "the start" if step == 0 else f"epoch {step} of {len(epoch_bias)}"
        parts["title"].set_text(f"{when}: {int(wrong.sum())} of {len(targets)} misclassified")
        images.append((step, frame.image()))
    return images


def _segments(lines, level: float, low: float, high: float) -> list[list[tuple[float, float]]]:
    """Across the plot, the points where w1·x1 + w2·x2 + b = level, for each (w, b); none for
    w = 0."""
    segments = []
    for (w1, w2), bias in lines:
        if w2 != 0:
            segments.append([(low, (level - bias - w1 * low) / w2), (high, (level - bias - w1 * high) / w2)])
        elif w1 != 0:
            segments.append([((level - bias) / w1, low), ((level - bias) / w1, high)])
    return segments


@functools.lru_cache(maxsize=8)  # 0.6 MB each: a sweep's runs take a few epoch counts
def _errors_frame(last_epoch: int, patterns: int) -> tuple[_Frame, Line2D]:
    fig = Figure(figsize=(4.8, 3.2), dpi=DPI)
    ax = fig.add_axes((0.13, 0.16, 0.82, 0.74))
    (line,) = ax.plot([], [], color="tab:red")
    ax.set(
        xlabel="epoch",
        ylabel="errors",
        title="Misclassified patterns per epoch",
        xlim=(0.5, last_epoch + 0.5),
        ylim=(-0.05 * patterns, patterns * 1.05),
    )
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    return _Frame(fig, [line]), line


def errors_per_epoch(errors: Sequence[int], patterns: int, path: Path) -> None:
    """Misclassified patterns in each epoch, out of the table's `patterns`. The epoch axis ends
    at a round number, so that a sweep's pictures share a few frames."""
    frame, line = _errors_frame(_round_up(len(errors)), patterns)
    line.set_data(np.arange(1, len(errors) + 1), errors)
    line.set_marker("o" if len(errors) <= 50 else "")
    frame.save(path)


def _round_up(count: int) -> int:
    """The next of 5, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, ... at or above count."""
    if count <= 5:
        return 5
    step = 10
    while True:
        for k in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8):
            if count <= k * step:
                return int(k * step)
        step *= 10


def heatmap(
    panels: Sequence[tuple[str, pd.DataFrame, pd.DataFrame, pd.DataFrame]],
    layout: Layout,
    title: str,
    path: Path,
) -> None:
    """A sweep's cells coloured by mean epochs, one panel per (name, means, labels, shares); each
    cell labelled with its mean (± sd) and the share of its runs that converged. Only a cell whose
    every run converged has a colour: one where a run did not is grey and hatched, never coloured
    as fast. One colour scale for all panels."""
    rows = max(p[1].shape[0] for p in panels)
    cols = max(p[1].shape[1] for p in panels)
    across = min(len(panels), 3)
    down = -(-len(panels) // across)
    fig = Figure(figsize=(across * (1.2 + 1.3 * cols) + 1.2, down * (1.0 + 0.6 * rows) + 0.8), dpi=DPI)
    coloured = [p[1].where(p[3] == 1) for p in panels]
    low, high = pivots.colour_scale(pd.concat([c.stack() for c in coloured]).dropna())
    axes = fig.subplots(down, across, squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, (name, mean, labels, share), colours in zip(axes.flat, panels, coloured):
        ax.set_facecolor("0.85")  # where no colour is drawn: a cell with a run that did not converge
        image = ax.imshow(
            colours.to_numpy(dtype=float),
            cmap="viridis_r",
            aspect="auto",
            vmin=low,
            vmax=high,
        )
        ax.set_xticks(range(mean.shape[1]), [number(c) for c in mean.columns])
        ax.set_yticks(range(mean.shape[0]), [number(r) for r in mean.index])
        ax.set(xlabel=layout.columns or "", ylabel=layout.rows or "", title=name)
        for r in range(mean.shape[0]):
            for c in range(mean.shape[1]):
                if pd.isna(share.iat[r, c]):  # no run in this cell
                    continue
                value = colours.iat[r, c]
                ax.text(
                    c,
                    r,
                    f"{labels.iat[r, c]}\n{share.iat[r, c]:.0%} converged",
                    ha="center",
                    va="center",
                    fontsize="small",  # dark text on the light end of the map and on grey
                    color="white" if pd.notna(value) and image.norm(value) >= 0.5 else "black",
                )
                if share.iat[r, c] < 1:
                    ax.add_patch(
                        Rectangle(
                            (c - 0.5, r - 0.5), 1, 1, fill=False, hatch="///", edgecolor="grey", linewidth=0
                        )
                    )
    fig.colorbar(image, ax=axes, label="mean epochs to converge", shrink=0.8)
    fig.suptitle(f"{title}, and share converged (grey, hatched: not every run converged)")
    fig.savefig(path, bbox_inches="tight", pil_kwargs=PNG)


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


def against_axis(lines: dict[str, pd.Series], key: str, path: Path) -> None:
    """A grid's answer along one numeric axis: the mean epochs of each cell whose every run
    converged, against that axis's values, a line per value of the others (`lines`, by name);
    a cell with a run that did not converge leaves a gap, never a fast point."""
    fig = Figure(figsize=(6.4, 3.8), dpi=DPI)
    ax = fig.add_subplot(1, 1, 1)
    for name, values in lines.items():
        never = values.isna().all()
        label = f"{name} (never converged in every run)" if never else name
        ax.plot(values.index.astype(float), values.to_numpy(dtype=float), marker="o", label=label)
    numbers = sorted({float(v) for values in lines.values() for v in values.index})
    if numbers and min(numbers) > 0 and max(numbers) / min(numbers) >= 100:
        ax.set_xscale("log")
    ax.set(xlabel=key, ylabel="mean epochs to converge")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if len(lines) > 1:
        ax.legend(fontsize="small", ncols=min(len(lines), 4))
    fig.suptitle(f"Epochs against {key}: cells whose every run converged")
    fig.tight_layout()
    fig.savefig(path, pil_kwargs=PNG)


def importance(shares: dict[str, float], path: Path) -> None:
    """Which setting mattered: each swept axis's share of the spread of epochs (η²), as bars,
    the largest on top."""
    keys = list(shares)
    fig = Figure(figsize=(5.0, 0.9 + 0.45 * len(keys)), dpi=DPI)
    ax = fig.add_subplot(1, 1, 1)
    values = [100 * shares[k] for k in keys]
    bars = ax.barh(range(len(keys)), values, color="tab:blue")
    ax.bar_label(bars, labels=[f"{v:.0f} %" for v in values], padding=3)
    ax.set_yticks(range(len(keys)), keys)
    ax.invert_yaxis()
    ax.set(xlim=(0, 110), xlabel="share of the spread of epochs explained (η², %)")
    ax.set_title("Which setting mattered", fontsize="medium")
    fig.tight_layout()
    fig.savefig(path, pil_kwargs=PNG)
