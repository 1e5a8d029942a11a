"""The pictures: drawn headless from plain values, whatever the weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.image import imread
from PIL import Image

from runner import perceptron, pivots, plots
from runner.axes import Layout
from runner.perceptron import gates


def test_decision_lines_and_errors_of_a_real_run(tmp_path):
    inputs, targets = gates.inputs(2, "bipolar"), gates.targets("and", 2, "bipolar")
    weights, bias = np.zeros(2), 0.0  # the initial line does not exist: nothing to draw for it
    result = perceptron.train(inputs, targets, weights, bias, perceptron.Setup(1.0, 100))
    plots.decision_lines(
        inputs, targets, (weights, bias), result.epoch_weights, result.epoch_bias, 0.2, tmp_path / "lines.png"
    )
    plots.errors_per_epoch(result.errors, 4, tmp_path / "errors.png")
    for name in ("lines.png", "errors.png"):
        height, width, _ = imread(tmp_path / name).shape
        assert 250 < height < 600 and 400 < width < 800


def test_a_saved_picture_is_the_drawn_one_in_its_frames_colours(tmp_path):
    """A frame's PNGs are saved in the palette of its first picture (runner/plots.py's _Frame):
    a later run's picture differs from what was drawn in a few pixels at most."""
    plots._decision_frame.cache_clear()  # this test's own frame, whatever ran before
    inputs, targets = gates.inputs(2, "bipolar"), gates.targets("or", 2, "bipolar")
    for k, (weights, lr) in enumerate((([0.3, -0.2], 1.0), ([-0.4, 0.45], 0.05))):
        result = perceptron.train(inputs, targets, np.array(weights), 0.1, perceptron.Setup(lr, 100))
        lines = (np.array(weights), 0.1), result.epoch_weights, result.epoch_bias
        plots.decision_lines(inputs, targets, *lines, 0.0, tmp_path / f"lines{k}.png")
    frame, _ = plots._decision_frame(
        tuple(map(tuple, inputs.tolist())), tuple((targets > 0).tolist()), -1.6, 1.6, False
    )
    drawn = np.asarray(frame.image(), dtype=int)  # the last picture, as drawn
    with Image.open(tmp_path / "lines0.png") as first, Image.open(tmp_path / "lines1.png") as saved:
        assert saved.mode == "P" and saved.getpalette() == first.getpalette()
        off = np.abs(np.asarray(saved.convert("RGB"), dtype=int) - drawn).max(axis=2)
    assert (off > 24).sum() < 100  # of 252,000: where a faint line crosses a marker


def test_a_vertical_line_and_a_long_run(tmp_path):
    """w2 = 0 makes a vertical line; 5,000 epochs draw at most MAX_LINES lines."""
    inputs, targets = gates.inputs(2, "binary"), gates.targets("or", 2, "binary")
    epoch_weights = np.tile([1.0, 0.0], (5000, 1))
    plots.decision_lines(
        inputs,
        targets,
        (np.array([0.0, 0.0]), 0.0),
        epoch_weights,
        np.full(5000, -0.5),
        0.0,
        tmp_path / "lines.png",
    )
    plots.errors_per_epoch([1] * 5000, 4, tmp_path / "errors.png")
    assert (tmp_path / "lines.png").stat().st_size > 0 and (tmp_path / "errors.png").stat().st_size > 0


def test_heatmap_has_a_cell_per_gate_and_lr(tmp_path):
    mean = pd.DataFrame({0.1: [3.0, 5.0], 1.0: [2.0, np.nan]}, index=["and", "xor"])
    labels = mean.round(1).astype(str) + " ± 0.0"
    share = pd.DataFrame({0.1: [1.0, 0.0], 1.0: [1.0, np.nan]}, index=["and", "xor"])
    plots.heatmap(
        [("", mean, labels, share)], Layout("gate", "lr", (), True), "epochs", tmp_path / "heat.png"
    )
    assert imread(tmp_path / "heat.png").shape[2] == 4


def test_heatmap_panels_share_one_scale(tmp_path):
    """sweep=textbook's shape: a panel per rule × activation, gates down, one column."""
    mean = pd.DataFrame({"all": [3.0, 5.0]}, index=pd.Index(["and", "or"], name="gate"))
    panels = [
        (f"rule={r}", mean * k, mean.astype(str), mean * 0 + 1) for k, r in ((1, "hebb"), (2, "adaline"))
    ]
    plots.heatmap(panels, Layout("gate", None, ("rule",), False), "epochs", tmp_path / "heat.png")
    height, width, _ = imread(tmp_path / "heat.png").shape
    assert width > height


def test_a_heatmap_whose_cells_are_all_as_fast_has_a_readable_scale():
    """Every run converged after 3 epochs: the colour scale spans 2.5 to 3.5, and its colour bar
    reads 2.6 … 3.4, not 3 with 1e-9 offsets."""
    assert pivots.colour_scale(pd.Series([3.0, 3.0, 3.0])) == (2.5, 3.5)
    assert pivots.colour_scale(pd.Series([2.0, 3.5])) == (2.0, 3.5)
    assert pivots.colour_scale(pd.Series([], dtype=float)) == (0.0, 1.0)
