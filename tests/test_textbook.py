"""The textbook's rules, activations and published worked examples, on the core alone."""

import numpy as np
import pytest
from scipy.optimize import minimize

from runner import perceptron
from runner.perceptron import gates, separability

BIPOLAR = [[-1, -1], [-1, 1], [1, -1], [1, 1]]
AND = [-1, -1, -1, 1]
XOR = [-1, 1, 1, -1]


def test_fausett_perceptron_for_and_with_band_activation():
    """Fausett, Fundamentals of Neural Networks: binary inputs, bipolar targets, θ = 0.2."""
    result = perceptron.train(
        [[1, 1], [1, 0], [0, 1], [0, 0]],
        [1, -1, -1, -1],
        [0, 0],
        0,
        perceptron.Setup(lr=1, max_epochs=100, activation="band", theta=0.2),
    )
    assert (result.epochs, result.updates, result.stop_reason) == (10, 22, "converged")
    assert result.errors[-1] == 0 and (result.errors[:-1] > 0).all()
    assert result.weights.tolist() == [2, 3] and result.bias == -4


def test_band_output_zero_is_a_mistake():
    # from zero weights every yin of the first pattern is 0: inside the band, so Y = 0 != t
    result = perceptron.train(
        [[1, 1]], [1], [0, 0], 0, perceptron.Setup(lr=1, max_epochs=5, activation="band", theta=0.5)
    )
    first = result.trace.iloc[0]
    assert (first["yin"], first["Y"], first["delb"]) == (0, 0, 1)
    step = perceptron.activation_function("band", theta=0.5)
    assert [step(v) for v in (0.6, 0.5, 0, -0.5, -0.6)] == [1, 0, 0, 0, -1]


def test_hebb_net_for_and():
    result = perceptron.train(BIPOLAR, AND, [0, 0], 0, perceptron.Setup(lr=1, max_epochs=100, rule="hebb"))
    assert result.weights.tolist() == [2, 2] and result.bias == -2
    assert (result.epochs, result.updates, result.stop_reason) == (1, 4, "single_pass")
    assert result.converged  # the learned weights classify all four patterns


def test_hebb_that_does_not_classify_everything_says_so():
    result = perceptron.train(BIPOLAR, XOR, [0, 0], 0, perceptron.Setup(lr=1, max_epochs=100, rule="hebb"))
    assert result.stop_reason == "single_pass" and not result.converged


def test_adaline_approaches_the_least_squares_solution():
    result = perceptron.train(
        BIPOLAR, AND, [0, 0], 0, perceptron.Setup(lr=0.005, max_epochs=5000, rule="adaline", tolerance=1e-7)
    )
    assert result.stop_reason == "tolerance"
    np.testing.assert_allclose([*result.weights, result.bias], [0.5, 0.5, -0.5], atol=0.01)
    assert result.converged
    # the mean squared error falls towards the least-squares optimum, 0.25 for bipolar AND
    assert result.mse[0] > result.mse[-1] and result.mse[-1] == pytest.approx(0.25, abs=0.01)


def test_adaline_stops_at_max_epochs_when_the_tolerance_is_not_reached():
    result = perceptron.train(
        BIPOLAR, AND, [0, 0], 0, perceptron.Setup(lr=0.005, max_epochs=3, rule="adaline", tolerance=1e-7)
    )
    assert (result.epochs, result.stop_reason) == (3, "max_epochs")


def test_adaline_with_a_large_rate_diverges_and_says_so():
    result = perceptron.train(
        BIPOLAR, AND, [0, 0], 0, perceptron.Setup(lr=2, max_epochs=10_000, rule="adaline", tolerance=1e-3)
    )
    assert result.stop_reason == "diverged" and not result.converged


def test_perceptron_with_binary_targets_uses_t_minus_y():
    inputs = gates.inputs(2, "binary")
    result = perceptron.train(
        inputs, [0, 0, 0, 1], [0, 0], 0, perceptron.Setup(lr=1, max_epochs=100, binary_targets=True)
    )
    assert result.converged
    assert set(result.trace["Y"]) <= {0, 1}
    wrong = result.trace["Y"] != result.trace["T"]
    np.testing.assert_array_equal(result.trace["delb"][wrong], (result.trace["T"] - result.trace["Y"])[wrong])


def test_xor_cycles_and_is_stopped_in_a_handful_of_epochs():
    w, b = perceptron.initial_parameters(2, seed=0, low=-0.5, high=0.5)
    result = perceptron.train(BIPOLAR, XOR, w, b, perceptron.Setup(lr=1, max_epochs=100))
    assert result.stop_reason == "cycle" and not result.converged
    assert result.epochs <= 5 and result.cycle_length >= 1
    # the state that starts the next epoch is one seen cycle_length epochs before
    ends = np.column_stack([result.epoch_weights, result.epoch_bias])
    starts = np.vstack([np.append(w, b), ends])
    np.testing.assert_allclose(starts[-1], starts[-1 - result.cycle_length])


@pytest.mark.parametrize("n", [2, 3, 4])
def test_parity_of_any_width_cycles(n):
    result = perceptron.train(
        gates.inputs(n, "bipolar"),
        gates.targets("xor", n, "bipolar"),
        np.zeros(n),
        0,
        perceptron.Setup(lr=1, max_epochs=1000),
    )
    assert result.stop_reason == "cycle" and result.epochs < 1000


def test_no_cycle_detection_for_shuffled_order_or_fractional_tables():
    shuffled = perceptron.train(
        BIPOLAR, XOR, [0, 0], 0, perceptron.Setup(lr=1, max_epochs=30, order="shuffle", seed=1)
    )
    assert (shuffled.stop_reason, shuffled.epochs) == ("max_epochs", 30)
    fractional = perceptron.train(
        [[0.5, -1], [-1, 0.5], [1, 1], [-0.5, -0.5]], XOR, [0, 0], 0, perceptron.Setup(1, 30)
    )
    assert fractional.stop_reason in ("max_epochs", "converged")


def test_shuffle_presents_every_row_once_per_epoch_in_a_seeded_order():
    table, targets = gates.inputs(3, "bipolar"), gates.targets("xor", 3, "bipolar")

    def run(seed):
        return perceptron.train(
            table, targets, np.zeros(3), 0, perceptron.Setup(1, 6, order="shuffle", seed=seed)
        )

    result = run(5)
    rows = [tuple(r) for r in table.tolist()]
    orders = []
    for _, epoch in result.trace.groupby("epoch"):
        seen = [tuple(r) for r in epoch[["X1", "X2", "X3"]].to_numpy().tolist()]
        assert sorted(seen) == sorted(rows)
        orders.append(seen)
    assert len({tuple(o) for o in orders}) > 1  # a new order each epoch
    assert run(5).trace.equals(result.trace)
    assert not run(6).trace.equals(result.trace)


def test_updates_never_exceed_the_bound_for_or_and_and():
    for targets in ([-1, 1, 1, 1], AND):
        table = separability.analyse(BIPOLAR, targets)
        assert table.separable and table.update_bound == pytest.approx(9, abs=1e-6)
        result = perceptron.train(BIPOLAR, targets, [0, 0], 0, perceptron.Setup(lr=1, max_epochs=100))
        assert result.updates <= table.update_bound


def test_xor_and_xnor_are_not_separable():
    for name in ("xor", "xnor"):
        for n in (2, 3, 5):
            assert not separability.analyse(
                gates.inputs(n, "bipolar"), gates.targets(name, n, "bipolar")
            ).separable


@pytest.mark.parametrize("seed", range(5))
def test_margin_matches_an_independent_optimiser_on_random_separable_tables(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 5))
    x = rng.integers(-3, 4, size=(12, n)).astype(float)
    plane = rng.normal(size=n + 1)
    score = x @ plane[:n] + plane[n]
    keep = np.abs(score) > 0.1
    x, t = x[keep], np.where(score[keep] > 0, 1.0, -1.0)
    table = separability.analyse(x, t)
    assert table.separable
    # max γ subject to t·(w·x̃) >= γ and |w| <= 1, solved by SLSQP
    aug = np.hstack([x, np.ones((len(x), 1))]) * t[:, None]
    found = minimize(
        lambda v: -v[-1],
        np.append(plane / np.linalg.norm(plane), 0.0),
        method="SLSQP",
        constraints=[
            {"type": "ineq", "fun": lambda v: aug @ v[:-1] - v[-1]},
            {"type": "ineq", "fun": lambda v: 1 - v[:-1] @ v[:-1]},
        ],
        options={"ftol": 1e-12, "maxiter": 500},
    )
    assert table.margin == pytest.approx(found.x[-1], abs=1e-6)
    radius = np.linalg.norm(np.hstack([x, np.ones((len(x), 1))]), axis=1).max()
    assert table.update_bound == pytest.approx((radius / table.margin) ** 2)
    result = perceptron.train(x, t, np.zeros(n), 0, perceptron.Setup(lr=1, max_epochs=10_000))
    assert result.converged and result.updates <= table.update_bound


def test_gate_tables_count_in_binary_first_input_most_significant():
    assert gates.inputs(2, "bipolar").tolist() == BIPOLAR
    assert gates.inputs(3, "binary")[:3].tolist() == [[0, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert gates.inputs(1, "bipolar").tolist() == [[-1], [1]]
    assert gates.targets("majority", 3, "bipolar").tolist() == [-1, -1, -1, 1, -1, 1, 1, 1]
    assert gates.targets("majority", 4, "binary").tolist() == [
        1 if bin(i).count("1") > 2 else 0 for i in range(16)
    ]
    assert gates.targets("xor", 3, "binary").tolist() == [bin(i).count("1") % 2 for i in range(8)]
    assert gates.targets("nand", 2, "binary").tolist() == [1, 1, 1, 0]
    with pytest.raises(ValueError):
        gates.inputs(17, "bipolar")
