"""The textbooks' conventions as config (issue 31, item 2): the same "AND, α = 0.5, zero weights"
under each preset, against a trace worked by hand under the rules its source states:

  fausett    Fundamentals of Neural Networks: bipolar, Y = 1 if yin ≥ 0, ΔW = α·t·x on a mistake
  raschka    Python Machine Learning: 0/1, ŷ = 1 if yin ≥ 0 else 0, ΔW = η·(t − ŷ)·x on every pattern
  mitchell   Machine Learning (1997): bipolar, o = 1 only if yin > 0, Δw = η·(t − o)·x
  threshold  lecture notes: raschka's, with θ the weight of an input X0 fixed at −1 (yin = W·x − θ)
  bias_input lecture notes: raschka's, with W0 the weight of an input X0 fixed at +1

Each row is (epoch, X1, X2, T, yin, Y, W1, W2, bias, ΔW1, ΔW2, Δbias): the weights after the row.
"""

from __future__ import annotations

import html

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from runner import api, check, config, worksheet
from runner.pages import run_page

AND_FROM_ZERO = ["gate=and", "lr=0.5", "init.weights=[0,0]", "init.bias=0"]
COLUMNS = ["epoch", "X1", "X2", "T", "yin", "Y", "W1", "W2", "b", "delW1", "delW2", "delb"]

FAUSETT = [  # the first pattern is a mistake (yin = 0 gives Y = 1); then every pattern is right
    (1, -1, -1, -1, 0, 1, 0.5, 0.5, -0.5, 0.5, 0.5, -0.5),
    (1, -1, 1, -1, -0.5, -1, 0.5, 0.5, -0.5, 0, 0, 0),
    (1, 1, -1, -1, -0.5, -1, 0.5, 0.5, -0.5, 0, 0, 0),
    (1, 1, 1, 1, 0.5, 1, 0.5, 0.5, -0.5, 0, 0, 0),
    (2, -1, -1, -1, -1.5, -1, 0.5, 0.5, -0.5, 0, 0, 0),
    (2, -1, 1, -1, -0.5, -1, 0.5, 0.5, -0.5, 0, 0, 0),
    (2, 1, -1, -1, -0.5, -1, 0.5, 0.5, -0.5, 0, 0, 0),
    (2, 1, 1, 1, 0.5, 1, 0.5, 0.5, -0.5, 0, 0, 0),
]

MITCHELL = [  # yin = 0 gives o = -1: right for the first three, a mistake for (1, 1), δ = 2
    (1, -1, -1, -1, 0, -1, 0, 0, 0, 0, 0, 0),
    (1, -1, 1, -1, 0, -1, 0, 0, 0, 0, 0, 0),
    (1, 1, -1, -1, 0, -1, 0, 0, 0, 0, 0, 0),
    (1, 1, 1, 1, 0, -1, 1, 1, 1, 1, 1, 1),
    (2, -1, -1, -1, -1, -1, 1, 1, 1, 0, 0, 0),
    (2, -1, 1, -1, 1, 1, 2, 0, 0, 1, -1, -1),
    (2, 1, -1, -1, 2, 1, 1, 1, -1, -1, 1, -1),
    (2, 1, 1, 1, 1, 1, 1, 1, -1, 0, 0, 0),
    (3, -1, -1, -1, -3, -1, 1, 1, -1, 0, 0, 0),
    (3, -1, 1, -1, -1, -1, 1, 1, -1, 0, 0, 0),
    (3, 1, -1, -1, -1, -1, 1, 1, -1, 0, 0, 0),
    (3, 1, 1, 1, 1, 1, 1, 1, -1, 0, 0, 0),
]

RASCHKA = [  # 0/1 tables: 11 updates over 5 epochs, the 6th clean
    (1, 0, 0, 0, 0, 1, 0, 0, -0.5, 0, 0, -0.5),
    (1, 0, 1, 0, -0.5, 0, 0, 0, -0.5, 0, 0, 0),
    (1, 1, 0, 0, -0.5, 0, 0, 0, -0.5, 0, 0, 0),
    (1, 1, 1, 1, -0.5, 0, 0.5, 0.5, 0, 0.5, 0.5, 0.5),
    (2, 0, 0, 0, 0, 1, 0.5, 0.5, -0.5, 0, 0, -0.5),
    (2, 0, 1, 0, 0, 1, 0.5, 0, -1, 0, -0.5, -0.5),
    (2, 1, 0, 0, -0.5, 0, 0.5, 0, -1, 0, 0, 0),
    (2, 1, 1, 1, -0.5, 0, 1, 0.5, -0.5, 0.5, 0.5, 0.5),
    (3, 0, 0, 0, -0.5, 0, 1, 0.5, -0.5, 0, 0, 0),
    (3, 0, 1, 0, 0, 1, 1, 0, -1, 0, -0.5, -0.5),
    (3, 1, 0, 0, 0, 1, 0.5, 0, -1.5, -0.5, 0, -0.5),
    (3, 1, 1, 1, -1, 0, 1, 0.5, -1, 0.5, 0.5, 0.5),
    (4, 0, 0, 0, -1, 0, 1, 0.5, -1, 0, 0, 0),
    (4, 0, 1, 0, -0.5, 0, 1, 0.5, -1, 0, 0, 0),
    (4, 1, 0, 0, 0, 1, 0.5, 0.5, -1.5, -0.5, 0, -0.5),
    (4, 1, 1, 1, -0.5, 0, 1, 1, -1, 0.5, 0.5, 0.5),
    (5, 0, 0, 0, -1, 0, 1, 1, -1, 0, 0, 0),
    (5, 0, 1, 0, 0, 1, 1, 0.5, -1.5, 0, -0.5, -0.5),
    (5, 1, 0, 0, -0.5, 0, 1, 0.5, -1.5, 0, 0, 0),
    (5, 1, 1, 1, 0, 1, 1, 0.5, -1.5, 0, 0, 0),
    (6, 0, 0, 0, -1.5, 0, 1, 0.5, -1.5, 0, 0, 0),
    (6, 0, 1, 0, -1, 0, 1, 0.5, -1.5, 0, 0, 0),
    (6, 1, 0, 0, -0.5, 0, 1, 0.5, -1.5, 0, 0, 0),
    (6, 1, 1, 1, 0, 1, 1, 0.5, -1.5, 0, 0, 0),
]

THRESHOLD_EPOCH_1 = [  # (epoch, X0, X1, X2, T, yin, Y, θ, W1, W2, Δθ, ΔW1, ΔW2): yin = W·x − θ
    (1, -1, 0, 0, 0, 0, 1, 0.5, 0, 0, 0.5, 0, 0),  # Y = 1 ≠ 0: Δθ = 0.5·(0 − 1)·(−1)
    (1, -1, 0, 1, 0, -0.5, 0, 0.5, 0, 0, 0, 0, 0),
    (1, -1, 1, 0, 0, -0.5, 0, 0.5, 0, 0, 0, 0, 0),
    (1, -1, 1, 1, 1, -0.5, 0, 0, 0.5, 0.5, -0.5, 0.5, 0.5),
]

BIAS_INPUT_EPOCH_1 = [  # (epoch, X0, X1, X2, T, yin, Y, W0, W1, W2, ΔW0, ΔW1, ΔW2): yin = W0 + W·x
    (1, 1, 0, 0, 0, 0, 1, -0.5, 0, 0, -0.5, 0, 0),
    (1, 1, 0, 1, 0, -0.5, 0, -0.5, 0, 0, 0, 0, 0),
    (1, 1, 1, 0, 0, -0.5, 0, -0.5, 0, 0, 0, 0, 0),
    (1, 1, 1, 1, 1, -0.5, 0, 0, 0.5, 0.5, 0.5, 0.5, 0.5),
]


@pytest.mark.parametrize(
    "preset, worked", [("fausett", FAUSETT), ("raschka", RASCHKA), ("mitchell", MITCHELL)]
)
def test_each_textbook_preset_gives_the_trace_worked_by_hand(preset, worked):
    trace = api.train(*AND_FROM_ZERO, f"convention={preset}").trace
    pd.testing.assert_frame_equal(
        trace.astype(float), pd.DataFrame(worked, columns=COLUMNS, dtype=float), check_exact=True
    )


@pytest.mark.parametrize(
    "preset, weight, worked",
    [("threshold", "theta", THRESHOLD_EPOCH_1), ("bias_input", "W0", BIAS_INPUT_EPOCH_1)],
)
def test_a_bias_folded_into_an_input_is_shown_as_that_input_and_its_weight(preset, weight, worked):
    training = api.train(*AND_FROM_ZERO, f"convention={preset}")
    columns = [
        "epoch",
        "X0",
        "X1",
        "X2",
        "T",
        "yin",
        "Y",
        weight,
        "W1",
        "W2",
        f"del{weight}",
        "delW1",
        "delW2",
    ]
    assert list(training.trace.columns) == columns
    pd.testing.assert_frame_equal(
        training.trace.head(4).astype(float), pd.DataFrame(worked, columns=columns, dtype=float)
    )
    # raschka's run, with the bias written as the folded weight: θ = −b, W0 = b
    raschka = api.train(*AND_FROM_ZERO, "convention=raschka").trace
    sign = -1 if weight == "theta" else 1
    assert (training.trace[weight] == sign * raschka["b"]).all()
    assert (training.trace[["W1", "W2", "yin", "Y"]] == raschka[["W1", "W2", "yin", "Y"]]).all().all()
    symbol = "θ" if weight == "theta" else "W0"
    assert training.text().splitlines()[2] == f"Initial weights:  W = (0, 0), {symbol} = 0"
    assert f"final W = (1, 0.5), {symbol} = {sign * -1.5:g}" in training.text()


def test_the_initial_bias_is_the_folded_weight_as_the_trace_shows_it():
    first = api.train("gate=and", "lr=0.5", "init.weights=[0,0]", "init.bias=2", "convention=threshold").trace
    assert first.loc[0, "yin"] == -2 and first.loc[0, "Y"] == 0  # yin = W·x − θ with θ = 2


def test_a_convention_key_can_be_set_alone_and_a_bad_one_names_what_is_allowed():
    strict = api.train(*AND_FROM_ZERO, "convention.strict=true").trace  # fausett's, but Y = 1 only if yin > 0
    assert strict.loc[0, "Y"] == -1 and strict.loc[3, "Y"] == -1 and strict.loc[3, "delb"] == 0.5
    with pytest.raises(
        config.ConfigError, match=r"convention.delta='sometimes' is not allowed: one of target, error"
    ):
        api.train("convention.delta=sometimes")
    with pytest.raises(config.ConfigError, match=r"convention.bias_input=2.0 is not allowed: null"):
        api.train("convention.bias_input=2")
    # a gate's own encoding wins over the convention's
    table = api.train("convention=raschka", "gate.inputs_encoding=bipolar").trained.inputs
    assert table.min() == -1


def test_the_run_says_which_convention_ran(tmp_path):
    store = f"sqlite:///{tmp_path}/mlflow.db"
    training = api.train(*AND_FROM_ZERO, "convention=threshold", f"mlflow.tracking_uri={store}", log=True)
    params = MlflowClient(store).get_run(training.run_id).data.params
    assert params["convention"] == "threshold"
    assert (params["convention.bias_input"], params["convention.delta"]) == ("-1.0", "error")
    metrics = MlflowClient(store).get_run(training.run_id).data.metrics
    assert metrics["theta"] == 1.5 and "b" not in metrics  # the bias as the trace shows it
    assert training.name == "and lr=0.5 seed=0 init.weights=[0,0] init.bias=0 convention=threshold"
    page = html.unescape(run_page.page(training.trained, training.name))
    assert (
        "convention=threshold: perceptron rule (ΔW = α·(T − Y)·x and Δθ = α·(T − Y)·(-1), on every "
        "pattern), step activation (Y = 1 if yin ≥ 0), α = 0.5, from W = (0, 0), θ = 0"
    ) in page
    assert (
        "x = (0, 0), T = 0: yin = 0, so Y = 1. Y ≠ T, an error: ΔW = α·(T − Y)·x = 0.5·(-1)·(0, 0) = "
        "(0, 0), Δθ = α·(T − Y)·(-1) = 0.5, so W = (0, 0), θ = 0.5."
    ) in page


def test_the_checker_names_the_convention_a_trace_follows(tmp_path, capsys):
    api.train(*AND_FROM_ZERO, "convention=mitchell").trace.to_csv(tmp_path / "t.csv", index=False)
    assert check.main([str(tmp_path / "t.csv"), *AND_FROM_ZERO]) == 1
    last = capsys.readouterr().out.splitlines()[-1]
    says = f"{' '.join(AND_FROM_ZERO)} convention=mitchell"
    assert (
        last == f"The whole trace follows other settings: python -m runner.check {tmp_path / 't.csv'} {says}"
    )
    assert check.main([str(tmp_path / "t.csv"), *says.split()]) == 0


def test_a_convention_of_ones_own_works_in_the_worksheet_and_the_check(tmp_path, capsys):
    """A teacher's own book, from a folder of theirs (--config-dir), as a gate of one's own."""
    (tmp_path / "mine" / "convention").mkdir(parents=True)
    (tmp_path / "mine" / "convention" / "widrow.yaml").write_text(
        "name: widrow\nencoding: bipolar\nstrict: true\ndelta: target\nbias_input: 1\n"
    )
    given = ["--config-dir", str(tmp_path / "mine"), "convention=widrow", *AND_FROM_ZERO]
    assert worksheet.main([str(tmp_path / "sheet"), *given]) == 0
    assert check.main([str(tmp_path / "sheet" / "key.csv"), *given]) == 0
    assert "All 156 cells of" in capsys.readouterr().out
    with pytest.raises(
        config.ConfigError, match=r"^Invalid config: convention.encoding='ternary' is not allowed"
    ):
        api.train("convention.encoding=ternary")  # named as the key typed, not the gate's that follows it
