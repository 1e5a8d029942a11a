"""A sweep's numbers as they are honestly summed up, and its page (sweep.html) as a file: what it
says, what it escapes, what it loads. The page in MLflow's UI, in Chromium: tests/test_ui.py."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from runner import pivots
from runner.axes import layout
from runner.review import review
from runner.tracking.axes import Axis

GATE = Axis("gate", ("or", "xor", "and"), False)
LR = Axis("lr", ("0.1", "1"), True)
SEED = Axis("seed", ("0", "1", "2"), True)
COMMANDS = {"made it:": "python -m runner -m gate=or,xor,and lr=0.1,1 seed=0,1,2"}


def summary(gates=("or", "xor", "and")) -> pd.DataFrame:
    """3 gates × 2 lr × 3 seeds. or converges in 4, 4, 5 epochs at lr=0.1 and 2, 2, 2 at lr=1;
    xor never (stopped by its cycle after 2 epochs, fewer than any); and converges in 3 epochs at
    lr=0.1, and at lr=1 in 1 epoch for two seeds while the third hits max_epochs at 6."""
    rows = []
    epochs = {
        (gates[0], 0.1): [(4, 1), (4, 1), (5, 1)],
        (gates[0], 1.0): [(2, 1), (2, 1), (2, 1)],
        (gates[1], 0.1): [(2, 0), (2, 0), (2, 0)],
        (gates[1], 1.0): [(2, 0), (2, 0), (2, 0)],
        (gates[2], 0.1): [(3, 1), (3, 1), (3, 1)],
        (gates[2], 1.0): [(1, 1), (1, 1), (6, 0)],
    }
    for (gate, lr), runs in epochs.items():
        for seed, (n, converged) in enumerate(runs):
            name = f"{gate} lr={lr:g} seed={seed}"
            rows.append(
                dict(job=len(rows), run_name=name, gate=gate, lr=lr, seed=seed, epochs=n, converged=converged)
            )
    frame = pd.DataFrame(rows)
    return frame.assign(updates=1, stop_reason="", status="FINISHED", error=None, run_id="0" * 32)


SHAPE = layout([GATE, LR, SEED])


def test_a_run_that_did_not_converge_never_counts_as_fast():
    tables = pivots.pivots(summary(), SHAPE)
    epochs = tables["epochs (mean ± sd over the seeds that converged)"]
    assert epochs.loc["or"].tolist() == ["4.33 ± 0.58", "2.0 ± 0.0"]
    assert epochs.loc["xor"].tolist() == [
        "never converged",
        "never converged",
    ]  # not 2 epochs: fastest of all
    assert epochs.loc["and"].tolist() == [
        "3.0 ± 0.0",
        "1.0 ± 0.0 (2 of 3)",
    ]  # the 6 epochs of max_epochs left out
    assert tables["share converged"].loc["and"].tolist() == pytest.approx([1, 0.67])
    mean = pivots.mean_epochs(summary(), SHAPE)
    assert mean.loc["xor"].isna().all() and mean.loc["and", 1.0] == 1
    # and:1 is the fewest epochs, but one of its runs did not converge: or at lr=1 is the answer
    said = pivots.answer(mean, tables["share converged"], SHAPE)
    assert said == "lr=1 is fastest for or; lr=0.1 is fastest for and; xor never converges."
    assert epochs.index.tolist() == ["or", "xor", "and"]  # in the sweep's order, not sorted


def test_the_sweeps_review_ranks_only_the_cells_whose_every_run_converged(tmp_path):
    out = review(summary(), [GATE, LR, SEED], SHAPE, False, "a sweep", tmp_path, COMMANDS)
    assert out.best == "gate=or lr=1, 2 epochs on average"
    assert out.metrics["best_cell_epochs"] == 2
    converged = summary().query("converged == 1")["epochs"]
    assert out.metrics["epochs_mean"] == pytest.approx(converged.mean())  # 11 runs, not 18
    assert out.metrics["epochs_max"] == 5  # not and's 6 at max_epochs
    assert out.note.startswith("**a sweep**: 18 of 18 runs finished; 11 converged (61%), in 2.73 epochs")


def test_a_sweep_where_no_run_converged_says_so(tmp_path):
    """Every mean is empty: no best cell, no importance, no colour; the page still answers."""
    stopped = summary().assign(converged=0)
    out = review(stopped, [GATE, LR, SEED], SHAPE, False, "a sweep", tmp_path, COMMANDS)
    assert out.best == "none: no run converged" and "best_cell_epochs" not in out.metrics
    assert out.answer == "or, xor, and never converge." and out.importance == ""
    assert "background" not in (tmp_path / "sweep.html").read_text().split("<table")[1]


class Page(HTMLParser):
    """The page's tables (their cells' text), the text outside them, and every address it names."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.addresses: list[str] = []
        self.scripts = 0
        self._cell: list[str] | None = None
        self.text: list[str] = []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.addresses += [v for k, v in attrs if k in ("src", "href", "action", "srcset") and v]
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(" ".join(" ".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        (self._cell if self._cell is not None else self.text).append(data)


def test_the_sweeps_page_answers_first_with_the_pivot_as_a_table(tmp_path):
    out = review(summary(), [GATE, LR, SEED], SHAPE, False, "a sweep", tmp_path, COMMANDS)
    assert tmp_path / "sweep.html" in out.files
    markup = (tmp_path / "sweep.html").read_text()
    page = Page(markup)
    pivot = page.tables[0]
    assert pivot[0] == ["gate", "lr=0.1", "lr=1"]
    assert pivot[1:] == [
        ["or", "4.33 ± 0.58 100% converged", "2.0 ± 0.0 100% converged"],
        ["xor", "— never converged", "— never converged"],
        ["and", "3.0 ± 0.0 100% converged", "1.0 ± 0.0 (2 of 3) 67% converged"],
    ]
    # the answer before the table; the cells with a run that did not converge uncoloured
    answer = "lr=1 is fastest for or; lr=0.1 is fastest for and; xor never converges."
    assert markup.index(answer) < markup.index("<table")
    cells = re.findall(r"<td([^>]*)>([^<]*)<small>", markup)
    coloured = {text for attrs, text in cells if "background" in attrs}
    assert coloured == {"3.0 ± 0.0", "4.33 ± 0.58", "2.0 ± 0.0"}
    assert [text for attrs, text in cells if "best" in attrs] == ["2.0 ± 0.0"]
    # below: the pictures, every run with its run id, and the commands
    runs = next(t for t in page.tables if t[0][:2] == ["job", "run_name"])
    assert len(runs) == 19 and runs[0][-1] == "run_id"
    assert [h for h in re.findall(r"<h2>([^<]*)</h2>", markup)][1:4] == [
        "The heatmap",
        "Epochs against lr",  # a chart per numeric axis
        "Which setting mattered",
    ]
    assert COMMANDS["made it:"] in "".join(page.text)


def test_the_page_loads_nothing_from_outside_and_needs_no_script(tmp_path):
    out = review(summary(), [GATE, LR, SEED], SHAPE, False, "a sweep", tmp_path, COMMANDS)
    page = Page((tmp_path / "sweep.html").read_text())
    assert page.addresses and all(a.startswith("data:image/png;base64,") for a in page.addresses)
    assert page.scripts == 0
    assert len(out.files) == len(set(out.files))


def test_every_value_from_a_user_is_escaped(tmp_path):
    evil = "<img src=x onerror=alert(1)>"
    gates = (evil, "xor", '"and"&')
    axes = [Axis("gate", gates, False), LR, SEED]
    review(summary(gates), axes, layout(axes), False, "<b>sweep</b>", tmp_path, COMMANDS)
    markup = (tmp_path / "sweep.html").read_text()
    assert evil not in markup and "<b>sweep</b>" not in markup
    page = Page(markup)
    assert evil in [row[0] for row in page.tables[0]]  # shown as those characters
    assert '"and"&' in [row[0] for row in page.tables[0]]
    assert all(a.startswith("data:") for a in page.addresses)


def trained(*overrides: str):
    from runner import api

    return api.train(*overrides).trained


def test_the_run_page_tells_each_update_in_the_textbooks_words():
    """The README's OR run from zero: epoch 1 as the textbook works it, row by row."""
    from runner.pages import run_page

    markup = run_page.page(trained("gate=or", "lr=1", "init.weights=[0,0]", "init.bias=0"), "or from zero")
    sentences = re.findall(r"<li>(.*?)</li>", markup)
    assert sentences[:4] == [
        "x = (-1, -1), T = -1: yin = 0, so Y = 1. Y ≠ T, an error: ΔW = α·T·x = 1·(-1)·(-1, -1) = (1, 1), "
        "Δb = α·T = -1, so W = (1, 1), b = -1.",
        "x = (-1, 1), T = 1: yin = -1, so Y = -1. Y ≠ T, an error: ΔW = α·T·x = 1·1·(-1, 1) = (-1, 1), "
        "Δb = α·T = 1, so W = (0, 2), b = 0.",
        "x = (1, -1), T = 1: yin = -2, so Y = -1. Y ≠ T, an error: ΔW = α·T·x = 1·1·(1, -1) = (1, -1), "
        "Δb = α·T = 1, so W = (1, 1), b = 1.",
        "x = (1, 1), T = 1: yin = 3, so Y = 1. Y = T: right, no update.",
    ]
    assert len(sentences) == 8  # 2 epochs of 4 patterns
    page = Page(markup)
    steps = re.findall(r'<section class="step" data-title="([^"]*)"', markup)
    assert steps == ["the initial weights", "epoch 1 of 2", "epoch 2 of 2"]
    assert 'type="range" min="0" max="2"' in markup
    assert markup.count("<svg") == 3 and 'width="480"' in markup  # a picture a step, 480 px wide
    assert "Converged after 2 epochs with 3 updates: final W = (1, 1), b = 1" in "".join(page.text)


def test_the_run_page_says_why_no_line_separates_xor_and_shows_its_cycle():
    from runner.pages import run_page

    markup = run_page.page(trained("gate=xor", "lr=1", "init.weights=[0,0]", "init.bias=0"), "xor")
    said = " ".join(Page(markup).text)
    assert (
        "No straight line puts (-1, 1) and (1, -1) (T = 1) on one side and (-1, -1) and (1, 1) (T = -1) "
        "on the other, so no weights classify every pattern." in said
    )
    assert "The weights came back to where they were 1 epoch before" in said
    # a table of 3 points in a row: the smallest conflict is those 3, not the whole table
    three = trained("gate=custom", "gate.inputs=[[0],[1],[2],[3]]", "gate.targets=[1,-1,1,1]", "plots=false")
    assert "No straight line puts (0), (2) and (3)" not in run_page.page(three, "three")
    assert "No straight line puts (0) and (2) (T = 1) on one side and (1) (T = -1)" in run_page.page(
        three, "3"
    )


def test_the_printed_run_page_is_a_worksheet_then_its_answer_key():
    from runner.pages import run_page

    markup = run_page.page(trained("gate=or", "lr=1", "init.weights=[0,0]", "init.bias=0"), "or")
    worksheet = markup[markup.index('<div class="worksheet">') :]
    page = Page(worksheet)
    blank, key = page.tables[-2], page.tables[-1]
    assert (
        blank[0]
        == key[0]
        == ["epoch", "X1", "X2", "T", "yin", "Y", "W1", "W2", "b", "delW1", "delW2", "delb"]
    )
    assert blank[1] == [
        "1",
        "-1",
        "-1",
        "-1",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]  # the pattern given, the rest to fill
    assert key[1] == ["1", "-1", "-1", "-1", "0", "1", "1", "1", "-1", "1", "1", "-1"]
    assert worksheet.index("Fill in the trace") < worksheet.index('class="pagebreak">Answer key')
    assert "@media print" in markup and ".lesson { display: none; }" in markup


def test_the_run_page_escapes_its_name_and_loads_nothing(tmp_path):
    from runner.pages import run_page

    evil = "<img src=x onerror=alert(1)>"
    markup = run_page.page(trained("gate=or", "lr=1"), evil)
    assert evil not in markup
    page = Page(markup)
    assert evil in page.text and not page.addresses  # SVG drawn inline: no address at all
    assert "<script src" not in markup


def test_the_answer_along_lr_leaves_a_gap_where_a_run_did_not_converge():
    lines = pivots.along(summary(), "lr", ["gate"])
    assert list(lines) == ["gate=or", "gate=xor", "gate=and"]
    assert lines["gate=or"].to_dict() == pytest.approx({0.1: 13 / 3, 1.0: 2.0})
    assert lines["gate=xor"].isna().all()  # no point at 2 epochs: it never converged
    assert lines["gate=and"][0.1] == 3 and pd.isna(lines["gate=and"][1.0])  # 2 of 3 converged: no point
