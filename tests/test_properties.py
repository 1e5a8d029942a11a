"""Property-based tests (hypothesis): the core on random tables, and the entry point on hostile input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_in_process
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlflow import MlflowClient

from runner import perceptron
from runner.perceptron import separability


@st.composite
def separable_tables(draw):
    """Integer patterns labelled by a random hyperplane that passes no pattern."""
    n = draw(st.integers(1, 5))
    rows = draw(st.integers(1, 16))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, size=(rows, n)).astype(float)
    plane = rng.normal(size=n + 1)
    score = x @ plane[:n] + plane[n]
    keep = np.abs(score) > 1e-3
    if not keep.any():
        x, score = x[:1], np.array([1.0])
        keep = np.array([True])
    return x[keep], np.where(score[keep] > 0, 1.0, -1.0)


@settings(max_examples=150, deadline=None)
@given(separable_tables(), st.sampled_from([0.1, 0.5, 1.0, 3.0]))
def test_separable_tables_converge_within_the_bound(table, lr):
    x, t = table
    bound = separability.analyse(x, t)
    assert bound.separable
    result = perceptron.train(x, t, np.zeros(x.shape[1]), 0.0, perceptron.Setup(lr, max_epochs=100_000))
    assert result.converged and result.stop_reason == "converged"
    assert result.updates <= bound.update_bound + 1e-6


@settings(max_examples=150, deadline=None)
@given(
    separable_tables(),
    st.sampled_from(["perceptron", "hebb", "adaline"]),
    st.sampled_from(["step", "band"]),
    st.sampled_from(["table", "shuffle"]),
    st.integers(0, 1000),
)
def test_every_trace_row_follows_from_the_one_before(table, rule, activation, order, seed):
    x, t = table
    n = x.shape[1]
    w0, b0 = perceptron.initial_parameters(n, seed, -1, 1)
    result = perceptron.train(
        x,
        t,
        w0,
        b0,
        perceptron.Setup(
            0.1,
            max_epochs=20,
            rule=rule,
            activation=activation,
            theta=0.2,
            tolerance=1e-3,
            order=order,
            seed=seed,
        ),
    )
    tr = result.trace
    xs = tr[[f"X{i}" for i in range(1, n + 1)]].to_numpy(float)
    ws = tr[[f"W{i}" for i in range(1, n + 1)]].to_numpy(float)
    dws = tr[[f"delW{i}" for i in range(1, n + 1)]].to_numpy(float)
    before_w = np.vstack([w0, ws[:-1]])
    before_b = np.concatenate([[b0], tr["b"].to_numpy(float)[:-1]])
    np.testing.assert_allclose(ws, before_w + dws, atol=1e-9)
    np.testing.assert_allclose(tr["b"], before_b + tr["delb"], atol=1e-9)
    np.testing.assert_allclose(tr["yin"], before_b + (xs * before_w).sum(axis=1), atol=1e-9)
    # every epoch presents each row of the table exactly once, in table order unless shuffled
    table_rows = sorted(map(tuple, np.column_stack([x, t]).tolist()))
    for _, rows in tr.groupby("epoch"):
        seen = rows[[*(f"X{i}" for i in range(1, n + 1)), "T"]].to_numpy(float)
        assert sorted(map(tuple, seen.tolist())) == table_rows
        if order == "table":
            np.testing.assert_array_equal(seen, np.column_stack([x, t]))
    assert len(result.errors) == result.epochs == tr["epoch"].max()


# --- hostile input through the real entry point -------------------------------------------

KEYS = [
    "lr",
    "seed",
    "max_epochs",
    "order",
    "max_trace_rows",
    "plots",
    "epoch_images",
    "init.weights",
    "init.bias",
    "init.low",
    "init.high",
    "gate",
    "gate.name",
    "gate.n_inputs",
    "gate.inputs_encoding",
    "gate.targets_encoding",
    "gate.inputs",
    "gate.targets",
    "rule",
    "rule.tolerance",
    "activation",
    "activation.theta",
    "mlflow.experiment_name",
    "+unknown",
    "lrr",
]


def quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


scalars = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.integers(-3, 20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        [
            "null",
            "true",
            "false",
            "nan",
            "-inf",
            "1e308",
            "table",
            "shuffle",
            "binary",
            "bipolar",
            "or",
            "xor",
            "custom",
            "band",
            "adaline",
            "???",
            "",
        ]
    ),
    st.text(max_size=40).map(quoted),
    st.text(min_size=2000, max_size=3000, alphabet="ab€ ").map(quoted),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4).map(lambda xs: "[" + ",".join(xs) + "]"),
    max_leaves=12,
)


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.tuples(st.sampled_from(KEYS), values), min_size=1, max_size=3))
def test_any_value_for_any_key_runs_or_stops_with_a_clear_error(tmp_path, monkeypatch, overrides):
    """Never a traceback, never a RUNNING run, never a hang; nothing is evaluated as code."""
    args = [f"{key}={value}" for key, value in overrides]
    status, said = run_in_process(
        *args,
        "max_epochs=20" if "max_epochs" not in dict(overrides) else "",
        cwd=tmp_path,
        monkeypatch=monkeypatch,
    )
    assert status in (0, 1), (args, status, said)
    assert "Traceback" not in said, (args, said)
    if status:
        assert said.strip(), args  # it said why
    db = tmp_path / "outputs" / "mlflow.db"
    if db.exists():
        client = MlflowClient(tracking_uri=f"sqlite:///{db}")
        for experiment in client.search_experiments():
            for run in client.search_runs([experiment.experiment_id]):
                assert run.info.status != "RUNNING", args
