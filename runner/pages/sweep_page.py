"""A sweep's page (sweep.html): its answer first, then how it was found.

At the top, in view with no scroll in MLflow's artifact pane at 1440×900: the sweep's question
answered in a sentence and the pivot as a table, each cell's mean epochs over the runs that
converged (± sd over seeds) and the share that converged; a cell with a run that did not converge
is marked and never coloured or ranked as fast. Below: the heatmap, which setting mattered, the
runs with their MLflow run ids, and the commands that made the sweep and resume it. A search shows
its trials best first instead of a pivot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_hex

from runner import pivots
from runner.axes import Layout
from runner.console import number
from runner.pages.markup import cell, document, element, picture, table, text

FILE = "sweep.html"


@dataclass
class SweepPage:
    """What the page says, all of it worked out by the review (runner/review.py)."""

    title: str
    headline: str  # runs, finished, converged
    answer: str
    best: str
    importance: str
    explained: str
    commands: dict[str, str]  # what each command does → the command
    pictures: list[tuple[str, Path]] = field(default_factory=list)  # (what it shows, png)


def grid_page(
    page: SweepPage,
    summary: pd.DataFrame,
    layout: Layout,
    mean: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
) -> str:
    share = tables[pivots.CONVERGED]
    labels = tables[pivots.epochs_title(layout)]
    top = _top(page) + element("h2", text(pivots.epochs_title(layout) + ", and share converged"))
    top += _pivot_tables(mean, share, labels, layout)
    return _document(page, top, summary)


def search_page(page: SweepPage, summary: pd.DataFrame, ranked: pd.DataFrame) -> str:
    header = [str(c) for c in ranked.columns]
    rows = [
        [cell(text(_shown(v)), name=(c == "run_name")) for c, v in row.items()]
        for _, row in ranked.head(pivots.BEST_SHOWN).iterrows()
    ]
    top = _top(page) + element("h2", text("The best trials first")) + table(header, rows, names=0)
    return _document(page, top, summary)


def _top(page: SweepPage) -> str:
    return (
        element("h1", text(page.title))
        + (element("p", text(page.answer), class_="answer") if page.answer else "")
        + element("p", text(f"{page.headline} Best: {page.best}."))
    )


def _document(page: SweepPage, top: str, summary: pd.DataFrame) -> str:
    below = [element("p", text(page.importance))] if page.importance else []
    below.append(element("p", text(page.explained), class_="muted"))
    for what, path in page.pictures:
        below.append(element("h2", text(what)) + element("p", picture(path, what)))
    below.append(element("h2", text("The runs")) + _runs(summary))
    commands = "".join(
        element("p", text(what)) + element("pre", text(line)) for what, line in page.commands.items()
    )
    below.append(element("h2", text("The commands")) + commands)
    return document(page.title, top + "\n".join(below))


def _pivot_tables(mean: pd.DataFrame, share: pd.DataFrame, labels: pd.DataFrame, layout: Layout) -> str:
    """A table per panel; a cell coloured by its mean only when every run in it converged (one
    scale for all panels, light for few epochs), the fastest such cell outlined."""
    whole = mean.where(share == 1)
    values = whole.stack().dropna()
    norm = Normalize(*pivots.colour_scale(values)) if len(values) else None
    fastest = values.min() if len(values) else None
    colours = colormaps["viridis_r"]
    shares, names = dict(pivots.by_panel(share, layout)), dict(pivots.by_panel(labels, layout))
    parts = []
    for panel, part in pivots.by_panel(mean, layout):
        across = [f"{layout.columns}={number(c)}" if layout.columns else "epochs" for c in part.columns]
        rows = []
        for row in part.index:
            cells = [cell(text(number(row)), name=True)]
            for column in part.columns:
                got, label = shares[panel].at[row, column], names[panel].at[row, column]
                if pd.isna(got):  # no run in this cell
                    cells.append(cell(""))
                    continue
                if got == 0:  # a dash where a mean would be: narrower than the words
                    cells.append(cell("—" + element("small", text(pivots.NEVER)), "never"))
                    continue
                content = text(label) + element("small", text(f"{got:.0%} converged"))
                if got < 1:
                    cells.append(cell(content, "partly"))
                    continue
                value = part.at[row, column]
                colour = colours(norm(value))
                ink = "#fff" if norm(value) >= 0.5 else "#000"
                best = "best" if value == fastest else ""
                cells.append(cell(content, best, style=f"background:{to_hex(colour)};color:{ink}"))
            rows.append(cells)
        caption = element("p", text(panel), class_="muted") if panel else ""
        parts.append(caption + table([layout.rows or "", *across], rows))
    return element("div", "".join(element("div", part) for part in parts), class_="panels")


def _runs(summary: pd.DataFrame) -> str:
    shown = summary.drop(columns=[c for c in ("error",) if c in summary])
    rows = [
        [cell(text(_shown(v)), name=c in ("run_name", "run_id")) for c, v in row.items()]
        for _, row in shown.iterrows()
    ]
    return table([str(c) for c in shown.columns], rows, names=0)


def _shown(value: object) -> str:
    if isinstance(value, float):
        return "" if pd.isna(value) else number(value)
    return str(value)
