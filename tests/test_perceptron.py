"""The learning core on its own: plain values in, plain values out."""

import numpy as np
import pandas as pd
import pytest

from runner import perceptron

OR_INPUTS = [[-1, -1], [-1, 1], [1, -1], [1, 1]]
OR_TARGETS = [-1, 1, 1, 1]
XOR_TARGETS = [-1, 1, 1, -1]


def test_core_imports_neither_hydra_nor_mlflow():
    """The whole learning core: the training loop, the truth tables, separability."""
    import subprocess
    import sys

    code = (
        "import sys, runner.perceptron.learning, runner.perceptron.gates, runner.perceptron.separability; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('hydra', 'mlflow', 'omegaconf')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_worked_or_trace_row_by_row():
    result = perceptron.train(OR_INPUTS, OR_TARGETS, [0, 0], 0, perceptron.Setup(lr=1, max_epochs=100))
    expected = pd.DataFrame(
        [
            # epoch X1 X2  T yin  Y W1 W2  b dW1 dW2 db
            [1, -1, -1, -1, 0, 1, 1, 1, -1, 1, 1, -1],
            [1, -1, 1, 1, -1, -1, 0, 2, 0, -1, 1, 1],
            [1, 1, -1, 1, -2, -1, 1, 1, 1, 1, -1, 1],
            [1, 1, 1, 1, 3, 1, 1, 1, 1, 0, 0, 0],
            [2, -1, -1, -1, -1, -1, 1, 1, 1, 0, 0, 0],
            [2, -1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
            [2, 1, -1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
            [2, 1, 1, 1, 3, 1, 1, 1, 1, 0, 0, 0],
        ],
        columns="epoch X1 X2 T yin Y W1 W2 b delW1 delW2 delb".split(),
    )
    pd.testing.assert_frame_equal(result.trace, expected)
    assert (result.epochs, result.updates, result.converged) == (2, 3, True)
    assert result.weights.tolist() == [1, 1] and result.bias == 1
    assert result.errors.tolist() == [3, 0]
    assert result.epoch_weights.tolist() == [[1, 1], [1, 1]]
    assert result.epoch_bias.tolist() == [1, 1]


def test_a_run_that_never_converges_ends_cleanly_at_max_epochs():
    # XOR in an order that is not the table's, so no cycle is detected
    result = perceptron.train(
        OR_INPUTS, XOR_TARGETS, [0, 0], 0, perceptron.Setup(lr=1, max_epochs=7, order="shuffle")
    )
    assert not result.converged
    assert (result.epochs, result.stop_reason) == (7, "max_epochs")
    assert len(result.trace) == 7 * 4
    assert all(result.errors > 0)


@pytest.mark.parametrize("lr", [0.1, 0.3, 0.7])
def test_from_zero_weights_lr_only_scales_the_trajectory(lr):
    """Exact arithmetic of the updates: no rounding of lr changes a decision."""
    base = perceptron.train(OR_INPUTS, [1, -1, -1, -1], [0, 0], 0, perceptron.Setup(lr=1, max_epochs=50))
    scaled = perceptron.train(OR_INPUTS, [1, -1, -1, -1], [0, 0], 0, perceptron.Setup(lr=lr, max_epochs=50))
    assert scaled.trace["Y"].tolist() == base.trace["Y"].tolist()
    assert (scaled.epochs, scaled.updates) == (base.epochs, base.updates)
    np.testing.assert_allclose(scaled.weights, lr * base.weights)


def test_every_row_follows_the_update_rule():
    rng = np.random.default_rng(5)
    x = rng.choice([-1.0, 1.0], size=(8, 3))
    t = rng.choice([-1.0, 1.0], size=8)
    w0, b0 = rng.uniform(-1, 1, 3), 0.25
    result = perceptron.train(x, t, w0, b0, perceptron.Setup(lr=0.5, max_epochs=6))
    tr = result.trace
    ws, dws = tr[["W1", "W2", "W3"]].to_numpy(), tr[["delW1", "delW2", "delW3"]].to_numpy()
    before_w = np.vstack([w0, ws[:-1]])
    before_b = np.concatenate([[b0], tr["b"].to_numpy()[:-1]])
    xs = tr[["X1", "X2", "X3"]].to_numpy()
    np.testing.assert_allclose(tr["yin"], before_b + (xs * before_w).sum(axis=1))
    np.testing.assert_allclose(ws, before_w + dws)
    np.testing.assert_allclose(tr["b"], before_b + tr["delb"])
    wrong = np.where(tr["yin"] >= 0, 1, -1) != tr["T"]
    np.testing.assert_allclose(dws[wrong], 0.5 * tr["T"].to_numpy()[wrong, None] * xs[wrong])
    assert (dws[~wrong] == 0).all()
    assert result.updates == wrong.sum()
    assert tr["epoch"].tolist() == [e for e in range(1, result.epochs + 1) for _ in range(8)]


def test_initial_parameters_are_drawn_from_the_seed():
    w, b = perceptron.initial_parameters(2, seed=3, low=-0.5, high=0.5)
    w2, b2 = perceptron.initial_parameters(2, seed=3, low=-0.5, high=0.5)
    assert w.tolist() == w2.tolist() and b == b2
    assert ((-0.5 <= w) & (w < 0.5)).all() and -0.5 <= b < 0.5
    other, _ = perceptron.initial_parameters(2, seed=4, low=-0.5, high=0.5)
    assert other.tolist() != w.tolist()


def test_given_weights_keep_the_bias_drawn_for_the_seed():
    _, b = perceptron.initial_parameters(2, seed=3, low=-1, high=1)
    w, b_fixed_w = perceptron.initial_parameters(2, seed=3, low=-1, high=1, weights=[0, 0])
    assert w.tolist() == [0, 0] and b_fixed_w == b
    _, b_given = perceptron.initial_parameters(2, seed=3, low=-1, high=1, bias=0.25)
    assert b_given == 0.25


def test_the_outcome_counts_in_words():
    """One epoch, one update: singular."""
    from runner import console

    result = perceptron.train(OR_INPUTS, OR_TARGETS, [1, 1], 0.5, perceptron.Setup(lr=1, max_epochs=10))
    assert (result.epochs, result.updates) == (1, 0)
    assert console.outcome(result) == "Converged after 1 epoch with 0 updates: final W = (1, 1), b = 0.5"
    weights, bias = perceptron.initial_parameters(2, seed=0, low=-0.5, high=0.5)  # nand lr=1 seed=0
    result = perceptron.train(OR_INPUTS, [1, 1, 1, -1], weights, bias, perceptron.Setup(lr=1, max_epochs=10))
    assert console.outcome(result).startswith("Converged after 2 epochs with 1 update: ")
