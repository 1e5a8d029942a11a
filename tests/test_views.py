"""A sweep's axes, its layout, which setting mattered and its MLflow UI views, as plain values
(no MLflow, no Hydra)."""

from __future__ import annotations

import pandas as pd
import pytest

from runner import pivots, views
from runner.axes import Layout, layout
from runner.tracking.axes import Axis, sweep_name
from runner.tracking.param_text import parse

GATE = Axis("gate", ("or", "and"), False)
LR = Axis("lr", ("0.1", "1"), True)
SEED = Axis("seed", ("0", "1", "2"), True)
RULE = Axis("rule", ("perceptron", "hebb"), False)
ACTIVATION = Axis("activation", ("step", "band"), False)


@pytest.mark.parametrize(
    "axes, expected",
    [
        ([GATE, LR, SEED], Layout("gate", "lr", (), True)),
        ([SEED, LR, GATE], Layout("gate", "lr", (), True)),  # gate down and lr across, whatever the order
        ([RULE, ACTIVATION, GATE], Layout("gate", "rule", ("activation",), False)),  # sweep=textbook
        ([GATE, RULE, LR, SEED], Layout("gate", "lr", ("rule",), True)),
        ([LR, SEED], Layout("lr", None, (), True)),
        ([SEED], Layout(None, None, (), True)),
        ([], Layout(None, None, (), False)),
    ],
)
def test_layout_puts_the_main_categorical_axis_down_and_the_main_numeric_across(axes, expected):
    assert layout(axes) == expected


def test_a_cell_is_every_axis_but_the_seed():
    assert layout([GATE, RULE, LR, SEED]).cell_keys == ["rule", "gate", "lr"]


def test_names_say_what_was_swept():
    assert (
        sweep_name("grid", [GATE, LR, SEED], 48, "21:04:17", False) == "grid: gate×lr×seed, 48 runs, 21:04:17"
    )
    assert sweep_name("sweep", [LR], 1, "09:00:00", False) == "sweep: lr, 1 run, 09:00:00"
    assert sweep_name("optuna", [LR], 20, "09:00:00", True) == "optuna: lr, 20 trials, 09:00:00"


def test_param_texts_parse_back_to_what_was_logged():
    assert [parse(t) for t in ("3", "1.0", "0.1", "or", None)] == [3, 1.0, 0.1, "or", None]


def test_the_table_view_groups_cells_and_lists_every_run():
    shape = layout([GATE, LR, SEED])
    cells = [("or", 0.1), ("or", 1.0), ("and", 0.1), ("and", 1.0)]
    states = views.sweep_views("p1", [GATE, LR, SEED], shape, cells, runs=12, search=False)
    table, charts = states["p1"], states["p1-charts"]
    assert table["searchFilter"] == "tags.`mlflow.parentRunId` = 'p1'"
    assert table["runsHiddenMode"] == "SHOW_ALL"
    assert set(table["groupsExpanded"]) == {
        "param.gate.or,param.lr.0.1",
        "param.gate.or,param.lr.1.0",
        "param.gate.and,param.lr.0.1",
        "param.gate.and,param.lr.1.0",
    }
    # the charts: a line per gate across lr, averaged over the seeds at each lr
    assert charts["groupBy"]["groupByKeys"] == [{"mode": "param", "groupByData": "gate"}]
    assert set(charts["groupsExpanded"]) == {"param.gate.or", "param.gate.and"}
    assert all(c["runsCountToCompare"] == 13 for c in charts["compareRunCharts"])
    assert "IMAGE" not in {c["type"] for c in charts["compareRunCharts"]}  # the jobs logged none


def test_epoch_images_get_a_card_only_where_the_charts_show_runs_not_groups():
    """MLflow's image cards show runs' images, none of a group: a grouped grid gets no such card
    (it would say "No images found"), a search, whose trials are not grouped, does."""
    shape = layout([GATE, LR])
    cells = [("or", 0.1), ("or", 1.0)]
    grid = views.sweep_views("p1", [GATE, LR], shape, cells, runs=2, search=False, images=True)["p1-charts"]
    assert "IMAGE" not in {c["type"] for c in grid["compareRunCharts"]}
    axes = [Axis("lr", (), True, "interval(0.01, 10)")]
    found = views.sweep_views("p3", axes, layout(axes), [], runs=5, search=True, images=True)["p3-charts"]
    (card,) = [c for c in found["compareRunCharts"] if c["type"] == "IMAGE"]
    assert (card["imageKeys"], card["step"]) == (["decision_line"], 0)  # the slider starts at the start


def test_the_views_fit_a_laptop_and_count_the_sweeps_runs_alone():
    """Results and stop_reason before the swept params; the charts full width, two cards a row
    while every legend fits; sorted by name, not by start time (which makes the UI fetch the
    parent run too: one run more, and an "Unassigned" group in every chart)."""
    states = views.sweep_views("p1", [GATE, LR, SEED], layout([GATE, LR, SEED]), [("or", 0.1)], 12, False)
    table, charts = states["p1"], states["p1-charts"]
    assert table["selectedColumns"][:5] == [
        "metrics.`epochs`",
        "metrics.`converged`",
        "metrics.`updates`",
        "params.`stop_reason`",
        "params.`gate`",
    ]
    assert table["columnOrder"][:3] == ["attributes.`Run Name`", "runDateAndNestInfo", "metrics.`epochs`"]
    assert sum(table["columnWidths"][c] for c in table["columnOrder"][:6]) <= 700
    assert {s["orderByKey"] for s in states.values()} == {"tags.`mlflow.runName`"}
    assert charts["runListHidden"] and "runListHidden" not in table
    (section,) = charts["compareRunSections"]
    # one card a row: the line chart's legend names carry its metric, `nand (epochs_to_converge)`
    assert (section["columns"], section["name"]) == (1, "The sweep's answer (mean over seed)")


def test_the_textbook_sweep_charts_each_rule_and_activation_averaged_over_the_gates():
    axes = [RULE, ACTIVATION, GATE]
    shape = layout(axes)  # gate down, rule across, a panel per activation
    cells = [(a, g, r) for a in ("step", "band") for g in ("or", "and") for r in ("perceptron", "hebb")]
    states = views.sweep_views("p5", axes, shape, cells, runs=8, search=False)
    table, charts = states["p5"], states["p5-charts"]
    assert table["groupBy"] is None  # one run a cell: nothing to average
    keys = [k["groupByData"] for k in charts["groupBy"]["groupByKeys"]]
    assert keys == ["activation", "rule"]
    assert len(charts["groupsExpanded"]) == 4
    assert charts["compareRunSections"][0]["name"] == "The sweep's answer (mean over gate)"
    kinds = [(c["type"], c.get("metricKey")) for c in charts["compareRunCharts"]]
    assert kinds == [
        ("BAR", "epochs_to_converge"),
        ("LINE", "errors"),
        ("BAR", "converged"),
    ]  # no empty scatter


def test_a_sweep_of_seeds_alone_is_one_open_group():
    states = views.sweep_views("p2", [SEED], layout([SEED]), [], runs=3, search=False)
    assert states["p2"]["groupsExpanded"] == {"tag.mlflow.parentRunId.p2": True}


def test_a_search_sorts_best_first_and_plots_each_searched_value():
    axes = [
        Axis("lr", (), True, "tag(log, interval(0.01, 10))"),
        Axis("init.low", (), True, "interval(-2, 0)"),
    ]
    states = views.sweep_views("p3", axes, layout(axes), [], runs=20, search=True)
    table = states["p3"]
    assert (table["orderByKey"], table["orderByAsc"]) == ("metrics.`epochs`", True)
    assert table["groupBy"] is None and states["p3-charts"]["groupBy"] is None  # a trial each
    scatters = [c["xaxis"]["key"] for c in table["compareRunCharts"] if c["type"] == "SCATTER"]
    assert scatters == ["lr", "init.low"]


def test_a_sweep_bigger_than_the_ui_loads_is_cut_on_its_first_fitting_axis():
    per_cell = [(("or", 0.1), 60), (("or", 1.0), 60), (("and", 0.1), 60), (("and", 1.0), 60)]
    assert views.parts(["gate", "lr"], per_cell) is None  # 120 runs a gate: too many
    small = [(cell, 40) for cell, _ in per_cell]
    assert views.parts(["gate", "lr"], small) == ("gate", ["and", "or"])
    assert views.parts(["gate", "lr"], small[:2]) is None  # 80 runs: the UI loads them all
    states = views.sweep_views(
        "p4",
        [GATE, LR, SEED],
        layout([GATE, LR, SEED]),
        [c for c, _ in small],
        160,
        False,
        part=(0, "gate", "and"),
    )
    assert states["p4-0"]["searchFilter"] == "tags.`mlflow.parentRunId` = 'p4' AND params.`gate` = 'and'"
    assert set(states["p4-0"]["groupsExpanded"]) == {
        "param.gate.and,param.lr.0.1",
        "param.gate.and,param.lr.1.0",
    }


def test_which_setting_mattered_is_the_between_group_share_of_the_variance():
    """η² by hand: epochs 2, 4 at lr=1 and 6, 8 at lr=0.5. Mean 5, total Σ(x−5)² = 20; lr's
    groups have means 3 and 7: 2·4 + 2·4 = 16, so 0.8; the gate (or, and, or, and) has means
    4 and 6: 2·1 + 2·1 = 4, so 0.2; the seed is no axis."""
    summary = pd.DataFrame(
        {
            "gate": ["or", "and", "or", "and"],
            "lr": [1.0, 1.0, 0.5, 0.5],
            "seed": [0, 1, 0, 1],
            "epochs": [2, 4, 6, 8],
            "converged": [1, 1, 1, 1],
            "status": ["FINISHED"] * 4,
        }
    )
    shares = pivots.importance(summary, ["gate", "lr"])
    assert shares == pytest.approx({"lr": 0.8, "gate": 0.2}) and list(shares) == ["lr", "gate"]
    said = (
        "lr explains 80 % of the spread of epochs among the runs that converged, "
        "gate 20 % (each on its own, η²)."
    )
    assert pivots.importance_sentence(shares) == said
    assert pivots.importance(summary.assign(epochs=3), ["gate", "lr"]) == {}  # no spread to explain
    # a FAILED run is left out: epochs 2, 4 (lr=1) and 8 (lr=0.5), mean 14/3, total 168/9,
    # between 2·(3 − 14/3)² + (8 − 14/3)² = 150/9
    failed = summary.assign(status=["FINISHED", "FINISHED", "FAILED", "FINISHED"])
    assert pivots.importance(failed, ["lr"]) == pytest.approx({"lr": 150 / 168})
    # and so is a run that did not converge, whatever its epochs: the same numbers
    stopped = summary.assign(converged=[1, 1, 0, 1], epochs=[2, 4, 1, 8])
    assert pivots.importance(stopped, ["lr"]) == pytest.approx({"lr": 150 / 168})


def test_a_value_with_a_bar_stays_in_its_markdown_cell():
    """A gate named `a|b` once split the pivot in the parent's description (issue 30, item 9)."""
    table = pd.DataFrame({0.1: ["1 ± 0", "x|y"]}, index=pd.Index(["a|b", "c"], name="gate"))
    table.columns.name = "lr"
    shown = pivots.markdown({"epochs": table}, Layout("gate", "lr", (), True))
    rows = [line for line in shown.splitlines() if line.startswith("| ")]
    assert [len(line.replace("\\|", "").split("|")) for line in rows] == [4, 4, 4]  # 2 cells each
    assert "| a\\|b   | 1 ± 0    |" in shown


def test_a_part_of_a_sweep_is_found_by_a_filter_that_quotes_its_value():
    """MLflow's filters have no escape: a value with a ' goes in double quotes; an axis with a
    value holding both quotes is not cut into parts (its links would open on an error)."""
    assert (views.quoted("or"), views.quoted("o'r"), views.quoted("o'\"r")) == ("'or'", '"o\'r"', None)
    many = [((gate, lr), 30) for gate in ("o'r", "and") for lr in (0.1, 1)]
    assert views.parts(["gate", "lr"], many) == ("gate", ["and", "o'r"])
    both = [((gate, 0.1), 50) for gate in ("o'\"r", "and", "or", "nor")]
    assert views.parts(["gate", "lr"], both) is None  # gate cannot be quoted, lr's one value holds 200
    state = views.sweep_views(
        "p" * 32,
        [Axis("gate", ("o'r",), False)],
        Layout("gate", None, (), False),
        [("o'r",)],
        1,
        False,
        part=(0, "gate", "o'r"),
    )
    ((table, _),) = [(v, k) for k, v in state.items() if not k.endswith("-charts")]
    assert table["searchFilter"].endswith(' AND params.`gate` = "o\'r"')


def test_a_sweep_is_cut_into_a_few_parts_at_most():
    """151 values of one axis once made 151 one-run parts: 305 printed links and 304 experiment
    tags (issue 30, item 21). Past MAX_PARTS the sweep is not cut: its one view loads 100 runs
    and a button the rest."""
    one_axis = [((lr / 100,), 1) for lr in range(1, 152)]
    assert views.parts(["lr"], one_axis) is None
    few = [((gate, lr / 100), 1) for gate in ("or", "and") for lr in range(1, 91)]
    assert views.parts(["gate", "lr"], few) == ("gate", ["and", "or"])
