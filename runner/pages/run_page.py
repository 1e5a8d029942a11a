"""A run's page (run.html): the lesson of one run, to project in class or hand out.

At the top, what happened in the textbook's words (how training ended, what the table allows, and
for a table no line separates, which patterns no line puts on their sides), with the truth table
and the initial weights. Then the step-through: the decision line after each epoch as a picture,
stepped by a slider, the arrow keys and a play button, with that epoch's trace rows beside it and a
sentence per row (pattern, target, yin, Y, and the update with its numbers, or why there was none).
With scripts off every epoch is shown, one under the other. Printed, the page is a worksheet: the
trace with blank cells to fill, then the answer key on a page of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from runner import console
from runner.console import number, vector
from runner.pages.markup import cell, document, element, table, text
from runner.perceptron import Setup, bias_name
from runner.perceptron.separability import smallest_conflict
from runner.run import TrainedRun

FILE = "run.html"
MAX_STEPS = 300  # epochs the step-through shows at most (its first ones), each an SVG picture
PICTURE = 480  # px: the picture's width and height

WHEN = {"perceptron": " when Y ≠ T", "hebb": ", on every pattern"}  # when each rule updates

SCRIPT = """
(() => {
  const steps = [...document.querySelectorAll('.step')];
  if (!steps.length) return;
  document.body.classList.add('js');
  const slider = document.getElementById('epoch'), shown = document.getElementById('shown');
  const play = document.getElementById('play');
  let at = 0, timer = null;
  const show = (i) => {
    at = Math.max(0, Math.min(steps.length - 1, i));
    steps.forEach((s, k) => s.classList.toggle('current', k === at));
    slider.value = at;
    shown.textContent = steps[at].dataset.title;
  };
  const stop = () => { clearInterval(timer); timer = null; play.textContent = '▶ play'; };
  slider.addEventListener('input', () => { stop(); show(+slider.value); });
  document.getElementById('prev').addEventListener('click', () => { stop(); show(at - 1); });
  document.getElementById('next').addEventListener('click', () => { stop(); show(at + 1); });
  play.addEventListener('click', () => {
    if (timer) return stop();
    if (at === steps.length - 1) show(0);
    play.textContent = '❚❚ pause';
    timer = setInterval(() => { if (at === steps.length - 1) stop(); else show(at + 1); }, 1200);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowRight') { stop(); show(at + 1); e.preventDefault(); }
    if (e.key === 'ArrowLeft') { stop(); show(at - 1); e.preventDefault(); }
  });
  show(0);
})();
"""

STYLE = """
.controls { display: none; align-items: center; gap: 8px; margin: 6px 0; }
body.js .controls { display: flex; } body.js .step { display: none; } body.js .step.current { display: flex; }
.step { display: flex; gap: 16px; align-items: flex-start; margin: 0 0 14px; }
.step svg { flex: 2 1 340px; max-width: 480px; height: auto; border: 1px solid #d1d9e0; background: #fff; }
.step ol { margin: 4px 0; padding-left: 20px; } .step li { margin: 0 0 4px; }
.controls input { width: 260px; } button { font: inherit; padding: 2px 10px; white-space: nowrap; }
.step { flex-wrap: wrap; } .step h2 { margin-top: 0; }
.step > .said { flex: 1 1 220px; min-width: 0; } .step > .rows { flex: 1 1 100%; overflow-x: auto; }
.worksheet { display: none; }
@media print {
  .lesson { display: none; } .worksheet { display: block; }
  td.blank { min-width: 34px; color: transparent; }
}
"""
WORKSHEET_STYLE = "td.blank { min-width: 34px; height: 1.4em; }"


def page(run: TrainedRun, name: str) -> str:
    """The run's page, whole."""
    r = run.result
    said = [console.outcome(r), console.separability(run.separability)]
    why = _why_not_separable(run) if not run.separability.separable else ""
    setup, truth = _setup(run), _truth(run)
    head = element("h1", text(name)) + element("p", text(said[0]), class_="answer")
    about = "".join(element("p", text(line)) for line in [*said[1:], why, setup] if line)
    lesson = head + _steps(run) + element("h2", "The run") + about + element("h2", "The truth table") + truth
    sheet = _worksheet(run, name, setup, truth, sheet=True, key=True)
    body = element("div", lesson, class_="lesson") + element("div", sheet, class_="worksheet")
    return document(name, f"<style>{STYLE}</style>" + body, SCRIPT)


def worksheet(run: TrainedRun, name: str, sheet: bool = True, key: bool = False) -> str:
    """The run's worksheet as a page of its own, the run page's printed layout: the `sheet` to
    fill in, the answer `key`, or both (python -m runner.worksheet)."""
    body = _worksheet(run, name, _setup(run), _truth(run), sheet, key)
    return document(name, f"<style>{WORKSHEET_STYLE}</style>" + body)


def _worksheet(run: TrainedRun, name: str, setup: str, truth: str, sheet: bool, key: bool) -> str:
    """The run, its truth table, then the trace with only the patterns and targets filled in, then
    (on a page of its own) the whole trace."""
    parts = [element("h1", text(name)), element("p", text(setup)), truth]
    if sheet:
        parts += [element("h2", "Fill in the trace"), _trace_table(run.result.trace, blank=True)]
    if key:
        parts += [
            element("h2", "Answer key", class_="pagebreak" if sheet else None),
            _trace_table(run.result.trace, False),
        ]
    return "".join(parts)


def _setup(run: TrainedRun) -> str:
    """How the run was trained, in a line: its convention, rule, activation, rate and start."""
    s = run.setup
    symbol = _symbol(s)
    when = ", on every pattern" if s.rule == "perceptron" and symbol == "(T − Y)" else WHEN.get(s.rule, "")
    if s.activation == "band":
        activation = f"band activation (θ = {number(s.theta)})"
    else:
        activation = f"step activation (Y = 1 {'only if yin > 0' if s.strict else 'if yin ≥ 0'})"
    return (
        f"convention={run.convention}: {s.rule} rule (ΔW = α·{symbol}·x and "
        f"{_bias_update(s, symbol)}{when}), {activation}, α = {number(s.lr)}, from W = "
        f"{vector(run.weights)}, {console.bias_words(run.bias, s.bias_input)}"
    )


def _symbol(s: Setup) -> str:
    """What multiplies α·x in the rule's update, as written."""
    if s.rule == "adaline":
        return "(T − yin)"
    if s.rule == "perceptron" and (s.binary_targets or s.delta == "error"):
        return "(T − Y)"
    return "T"


def _bias_update(s: Setup, symbol: str) -> str:
    """The bias's update as written: Δb = α·T, or the folded weight's, Δθ = α·T·(−1)."""
    if s.bias_input is None:
        return f"Δb = α·{symbol}"
    return f"Δ{console.bias_symbol(s.bias_input)} = α·{symbol}·{_factor_text(s.bias_input)}"


def _truth(run: TrainedRun) -> str:
    n = run.inputs.shape[1]
    return table(
        ["pattern", *(f"X{i}" for i in range(1, n + 1)), "T"],
        [
            [
                cell(str(k), name=True),
                *(cell(text(number(float(v)))) for v in x),
                cell(text(number(float(t)))),
            ]
            for k, (x, t) in enumerate(zip(run.inputs, run.targets), start=1)
        ],
    )


def _why_not_separable(run: TrainedRun) -> str:
    """Which patterns no line puts on their sides, in words; and the cycle, if training found one."""
    conflict = smallest_conflict(run.inputs, run.targets)
    said = []
    if conflict:
        high = run.targets.max()
        one = [vector(run.inputs[i]) for i in conflict if run.targets[i] == high]
        other = [vector(run.inputs[i]) for i in conflict if run.targets[i] != high]
        said.append(
            f"No straight line puts {_joined(one)} (T = {number(float(high))}) on one side and "
            f"{_joined(other)} (T = {number(float(run.targets.min()))}) on the other, so no weights "
            "classify every pattern"
            + (
                ": whatever the weights, one of these patterns is wrong."
                if len(conflict) < len(run.targets)
                else "."
            )
        )
    if run.result.cycle_length:
        k = run.result.cycle_length
        said.append(
            f"The weights came back to where they were {console.count(k, 'epoch')} before: "
            "training would go round the same cycle forever, so it stopped."
        )
    return " ".join(said)


def _joined(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _steps(run: TrainedRun) -> str:
    r = run.result
    shown = min(r.epochs, MAX_STEPS)
    weights = [np.asarray(run.weights, dtype=float), *r.epoch_weights[:shown]]
    biases = [float(run.bias), *r.epoch_bias[:shown]]
    if run.inputs.shape[1] != 2:
        note = element(
            "p", text("A picture needs 2 inputs: the step-through shows the trace alone."), class_="muted"
        )
    else:
        note = ""
    steps = []
    for epoch in range(shown + 1):
        title = "the initial weights" if epoch == 0 else f"epoch {epoch} of {r.epochs}"
        picture = (
            _picture(
                run,
                weights[epoch],
                biases[epoch],
                weights[epoch - 1] if epoch else None,
                biases[epoch - 1] if epoch else None,
            )
            if run.inputs.shape[1] == 2
            else ""
        )
        rows = r.trace[r.trace["epoch"] == epoch] if epoch else r.trace.iloc[0:0]
        words = (
            element(
                "p",
                text(
                    f"W = {vector(weights[0])}, {console.bias_words(biases[0], run.setup.bias_input)}: "
                    "before the first pattern."
                ),
            )
            if epoch == 0
            else _epoch_words(run, rows, epoch)
        )
        table = element("div", _trace_table(rows, blank=False), class_="rows") if len(rows) else ""
        steps.append(
            element(
                "section",
                picture + element("div", element("h2", text(title)) + words, class_="said") + table,
                class_="step",
                data_title=title,
            )
        )
    more = (
        element("p", text(f"(the first {MAX_STEPS} epochs of {r.epochs})"), class_="muted")
        if r.epochs > MAX_STEPS
        else ""
    )
    controls = element(
        "div",
        element("button", "◀", id="prev", type="button", title="the epoch before (←)")
        + element(
            "input", "", id="epoch", type="range", min="0", max=str(shown), value="0", aria_label="epoch"
        )
        + element("button", "▶", id="next", type="button", title="the next epoch (→)")
        + element("button", "▶ play", id="play", type="button")
        + element("span", "", id="shown"),
        class_="controls noprint",
    )
    return note + controls + "".join(steps) + more


def _epoch_words(run: TrainedRun, rows: pd.DataFrame, epoch: int) -> str:
    if rows.empty:
        return element(
            "p", text("(this epoch's rows are past max_trace_rows: not in the trace)"), class_="muted"
        )
    n = run.inputs.shape[1]
    sentences = [element("li", text(row_words(run, row, n))) for _, row in rows.iterrows()]
    errors = int(run.result.errors[epoch - 1])
    after = (
        f"After epoch {epoch}: W = {vector(run.result.epoch_weights[epoch - 1])}, "
        f"{console.bias_words(float(run.result.epoch_bias[epoch - 1]), run.setup.bias_input)}; "
        f"{console.count(errors, 'pattern')} misclassified in this epoch."
    )
    return element("ol", "".join(sentences)) + element("p", text(after))


def row_words(run: TrainedRun, row: pd.Series, n: int) -> str:
    """One trace row in the textbook's words (the run's page, and the checker's hint)."""
    s = run.setup
    x = [row[f"X{i}"] for i in range(1, n + 1)]
    w = [row[f"W{i}"] for i in range(1, n + 1)]
    dw = [row[f"delW{i}"] for i in range(1, n + 1)]
    bias = bias_name(s.bias_input)
    t, yin, y, db = row["T"], row["yin"], row["Y"], row[f"del{bias}"]
    seen = f"x = {vector(x)}, T = {number(float(t))}: yin = {number(float(yin))}, so Y = {number(float(y))}"
    if any(dw) or db:
        symbol = _symbol(s)
        factor = {"(T − yin)": t - yin, "(T − Y)": t - y, "T": t}[symbol]
        reason = {
            "perceptron": "Y ≠ T, an error: " if y != t else "",
            "hebb": "Hebb's rule learns from every pattern: ",
        }
        product = f"{_factor_text(s.lr)}·{_factor_text(factor)}·{vector(x)}"
        after = f"W = {vector(w)}, {console.bias_symbol(s.bias_input)} = {number(float(row[bias]))}"
        return (
            f"{seen}. {reason.get(s.rule, '')}ΔW = α·{symbol}·x = {product} = {vector(dw)}, "
            f"{_bias_update(s, symbol)} = {number(float(db))}, so {after}."
        )
    if s.rule == "perceptron":
        return f"{seen}. Y = T: right, no update."
    return f"{seen}. The update is zero: W and {console.bias_symbol(s.bias_input)} stay."


def _factor_text(value: float) -> str:
    """A factor of a product as written: `(-1)` for a negative one."""
    return f"({number(float(value))})" if value < 0 else number(float(value))


def _trace_table(trace: pd.DataFrame, blank: bool) -> str:
    """The trace as a table; `blank`: only the pattern and its target filled, the rest to fill in."""
    given = {"epoch", "T"} | {c for c in trace.columns if c.startswith("X")}
    rows = [
        [
            cell(
                text(_value(v)) if not blank or c in given else "", "" if not blank or c in given else "blank"
            )
            for c, v in row.items()
        ]
        for _, row in trace.iterrows()
    ]
    return table([str(c) for c in trace.columns], rows, names=0)


def _value(v: object) -> str:
    return number(float(v)) if isinstance(v, (int, float, np.integer, np.floating)) else str(v)


@np.errstate(over="ignore", invalid="ignore")  # weights past 1e154: their products overflow
def _picture(run: TrainedRun, w: np.ndarray, b: float, w0: np.ndarray | None, b0: float | None) -> str:
    """The patterns and the decision line W·x + b = 0 as an SVG, the side where Y = 1 shaded; the
    line before the epoch dashed. Filled dots: T is the higher class; rings: the lower one."""
    label = f"W = {vector(w)}, {console.bias_words(float(b), run.setup.bias_input)}"
    if not (np.all(np.isfinite(w)) and np.isfinite(b)):  # diverged: no line to draw
        return element("p", text(f"{label}: no line to draw."), class_="muted")
    x = run.inputs.astype(float)
    low, high = float(x.min()) - 0.6, float(x.max()) + 0.6
    size = PICTURE

    def px(p: Sequence[float]) -> tuple[float, float]:
        return ((p[0] - low) / (high - low) * size, size - (p[1] - low) / (high - low) * size)

    corners = [(low, low), (high, low), (high, high), (low, high)]
    parts = []
    side = _clip(corners, w, b)
    if len(side) >= 3 and np.all(np.isfinite(side)):
        points = " ".join(f"{a:.1f},{c:.1f}" for a, c in map(px, side))
        parts.append(f'<polygon points="{points}" fill="#dbeafe"/>')
    for weights, bias, style in (
        (w0, b0, 'stroke="#9aa4af" stroke-dasharray="6 4"'),
        (w, b, 'stroke="#1f2328"'),
    ):
        if weights is None or bias is None:
            continue
        ends = _line(corners, weights, bias)
        if ends and np.all(np.isfinite(ends)):
            (x1, y1), (x2, y2) = map(px, ends)
            parts.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" {style} stroke-width="2"/>'
            )
    top = run.targets.max()
    for k, (p, t) in enumerate(zip(x, run.targets), start=1):
        cx, cy = px(p)
        fill = "#1f2328" if t == top else "#fff"
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="9" fill="{fill}" stroke="#1f2328" stroke-width="2"/>'
        )
        parts.append(f'<text x="{cx + 13:.1f}" y="{cy - 11:.1f}" font-size="13">{k}</text>')
    parts.append(f'<text x="8" y="{size - 10}" font-size="14">{text(label)}</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        f'role="img" aria-label="{text(label)}">' + "".join(parts) + "</svg>"
    )


def _clip(polygon: list[tuple[float, float]], w: np.ndarray, b: float) -> list[tuple[float, float]]:
    """The part of the polygon where w·p + b >= 0 (one Sutherland–Hodgman step)."""
    out = []
    for i, p in enumerate(polygon):
        q = polygon[(i + 1) % len(polygon)]
        fp, fq = float(np.dot(w, p) + b), float(np.dot(w, q) + b)
        if fp >= 0:
            out.append(p)
        if (fp >= 0) != (fq >= 0):
            s = fp / (fp - fq)
            out.append((p[0] + s * (q[0] - p[0]), p[1] + s * (q[1] - p[1])))
    return out


def _line(corners: list[tuple[float, float]], w: np.ndarray, b: float) -> list[tuple[float, float]] | None:
    """Where w·p + b = 0 crosses the box's edges: its two ends, or None (no line: W = 0)."""
    if not np.any(w):
        return None
    ends = []
    for i, p in enumerate(corners):
        q = corners[(i + 1) % 4]
        fp, fq = float(np.dot(w, p) + b), float(np.dot(w, q) + b)
        if fp == fq or (fp > 0 and fq > 0) or (fp < 0 and fq < 0):
            continue
        s = fp / (fp - fq)
        ends.append((p[0] + s * (q[0] - p[0]), p[1] + s * (q[1] - p[1])))
    return ends[:2] if len(ends) >= 2 else None
