"""The MLflow UI's ready views of a sweep: what the links a sweep prints open, with no click.

MLflow's runs page restores a saved state of itself from an experiment tag
`mlflow.sharedViewState.<key>` when its URL carries `viewStateShareKey=<key>`
(useSharedExperimentViewState.ts in MLflow's UI): the search facets (`searchFilter`,
`orderByKey`, `orderByAsc`) and the page's UI state (the fields of ExperimentPageUIState.tsx:
`selectedColumns`, `columnOrder`, `groupBy`, `groupsExpanded`, `compareRunCharts`, ...).
The names were checked against MLflow 3.17's UI in headless Chromium (tests/test_ui.py). Each
tag holds the named envelope of MLflow 3.15's saved views (`tag_value`), so the views also appear
by name in the UI's views menu.

A sweep gets two views, built here from plain values, laid out for a laptop's window (1440×900,
with MLflow's side panels open):
- the table: the sweep's runs only, the results and `stop_reason` first, then the swept params,
  in columns narrow enough to need no sideways scrolling. A grid over seeds is grouped by every
  axis but the seed, each group (a cell of the pivot) open, its header row showing the mean over
  the cell's seeds as MLflow computes it (unrounded: the UI has no setting for that); a grid of
  one run a cell is not grouped, nor is a search, its trials best first.
- the charts: the run list hidden, cards tall and two a row (one when a legend holds more than
  four names, or for the line chart, whose names carry its metric's), so that every line's name
  shows whole in its legend. A grid with a numeric axis
  draws the pivot itself: epochs against that axis, one line per value of the others, each point
  a cell's exact mean over its seeds that converged (the metric `epochs_to_converge`, which no
  other run logs; the UI's line smoothing off); one without (sweep=textbook) groups by what
  varied beside the rows' axis (rule, activation), its section's title naming what each bar
  averages over. A search draws each trial against each searched value.
Runs are sorted by name, never by start time: sorted by start time, the UI also fetches the
runs' parent and counts it among the sweep's (49 runs for 48, and an "Unassigned" group in
every chart). MLflow's image cards show runs, not groups, so only an ungrouped view (a search)
gets one for the epoch images.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import pandas as pd

from runner.axes import SEED, Layout, layout
from runner.names import EPOCH_IMAGES_KEY, EPOCHS_TO_CONVERGE, RESULT_METRICS, STOP_REASON, X_METRIC
from runner.tracking import ui
from runner.tracking.axes import Axis
from runner.tracking.names import FINISHED, PARENT_TAG, RUN_NAME_TAG
from runner.tracking.param_text import param_text

TAG_PREFIX = "mlflow.sharedViewState."
SECTION = "answer"
SECTION_TITLE = "The sweep's answer"
DATASET_COLUMN = "attributes.`Dataset`"  # the runs table's column of each run's input datasets: its gate
RUN_NAME_COLUMN = "attributes.`Run Name`"
CREATED_COLUMN = "runDateAndNestInfo"  # the UI's id of its Created column, which it always shows
RUN_NAME_ORDER = f"tags.`{RUN_NAME_TAG}`"  # the runs table's "Run Name" sort
LEGEND_IN_HALF = 4  # the names a legend shows whole in a card half the page wide (1440×900)
UI_PAGE = 100  # runs the MLflow UI (3.17) loads at a time; more wait for its "Load more" button
MAX_PARTS = 10  # parts a sweep is cut into at most: two links and two experiment tags each


def keys(name: str) -> tuple[str, str]:
    """The share keys of a sweep's (or a part's) table and charts views (runner/tracking/ui.py links them)."""
    return name, f"{name}-charts"


def parts(
    cell_keys: Sequence[str], runs_per_cell: Sequence[tuple[tuple[Any, ...], int]]
) -> tuple[str, list[Any]] | None:
    """How to cut a sweep of more runs than the UI loads at once (UI_PAGE) into parts that it
    loads whole: the first axis whose every value holds at most UI_PAGE runs, and its values.
    None when the sweep fits, or when no axis cuts it finely enough in at most MAX_PARTS parts
    (a 151-value axis is no 151 parts: its table loads 100 runs, and a button the rest)."""
    if sum(n for _, n in runs_per_cell) <= UI_PAGE:
        return None
    for at, key in enumerate(cell_keys):
        totals: dict[Any, int] = {}
        for cell, n in runs_per_cell:
            totals[cell[at]] = totals.get(cell[at], 0) + n
        quotable = all(quoted(param_text(v)) is not None for v in totals)
        if max(totals.values()) <= UI_PAGE and quotable and len(totals) <= MAX_PARTS:
            return key, sorted(totals, key=str)
    return None


def quoted(value: str) -> str | None:
    """A value as a string of MLflow's search filters, which know no escape: in single quotes, or
    in double ones when it holds a single quote (a gate named `o'r`); None when it holds both."""
    if "'" not in value:
        return f"'{value}'"
    return f'"{value}"' if '"' not in value else None


def sweep_views(
    parent_run_id: str,
    axes: Sequence[Axis],
    layout: Layout,
    cells: Sequence[Sequence[Any]],
    runs: int,
    search: bool,
    part: tuple[int, str, Any] | None = None,
    images: bool = False,
) -> dict[str, dict[str, Any]]:
    """The view states of a sweep, by share key. `cells` holds the values each cell has on
    `layout.cell_keys` (one tuple per distinct cell among the sweep's runs). A `part` (its
    number, an axis and a value) restricts the views to the runs with that value. With `images`
    (its jobs logged their decision line epoch by epoch), an ungrouped charts view steps through
    them."""
    search_filter = f"tags.`{PARENT_TAG}` = '{parent_run_id}'"
    table_key, charts_key = keys(parent_run_id)
    if part is not None:
        number, key, value = part
        search_filter += f" AND params.`{key}` = {quoted(param_text(value))}"  # parts() checked it quotes
        table_key, charts_key = keys(f"{parent_run_id}-{number}")
        at = list(layout.cell_keys).index(key)
        cells = [cell for cell in cells if cell[at] == value]
    columns = _columns(axes)
    base = {
        "searchFilter": search_filter,
        "orderByKey": "metrics.`epochs`" if search else RUN_NAME_ORDER,
        "orderByAsc": True,
        "selectedColumns": columns,
        "columnOrder": [RUN_NAME_COLUMN, CREATED_COLUMN, *columns],
        "columnWidths": _widths(columns),
        "runsHiddenMode": "SHOW_ALL",  # charts show every run or group, not the first 10
        "useGroupedValuesInCharts": True,
        "hideEmptyCharts": True,
        "isAccordionReordered": True,
    }
    cell_keys = layout.cell_keys
    # a cell's runs grouped under its mean where seeds make a cell hold several; one run a cell
    # needs no group (sweep=textbook), nor does a search
    ungrouped = search or (bool(cell_keys) and not layout.seeds)
    table = {**base, **_grouping(parent_run_id, cell_keys, cells, cell_keys, ungrouped)}
    table["compareRunSections"] = [_section(SECTION_TITLE)]
    table["compareRunCharts"] = _charts(axes, layout, search, runs, lines=False)

    lines = not search and layout.columns == X_METRIC
    if search:
        by: list[str] = []
    elif lines:
        by = [k for k in cell_keys if k != X_METRIC]
    elif layout.columns is None or layout.columns in _numeric(axes):
        by = cell_keys
    else:  # no numeric axis across (sweep=textbook): what varied beside the rows' data sets
        by = [k for k in cell_keys if k != layout.rows]
    averaged = [k for k in cell_keys if k not in by and not lines] + ([SEED] if layout.seeds else [])
    title = SECTION_TITLE + (f" (mean over {', '.join(averaged)})" if averaged and not search else "")
    charts = {**base, **_grouping(parent_run_id, by, cells, cell_keys, search)}
    charts["runListHidden"] = True  # the charts take the page's width
    legend = len(charts["groupsExpanded"]) if by else runs  # entries in a chart's legend
    # a line's name in the legend is its group and the metric: `nand (epochs_to_converge)`
    half = legend <= LEGEND_IN_HALF and not lines
    charts["compareRunSections"] = [_section(title, columns=2 if half else 1)]
    charts["compareRunCharts"] = _charts(axes, layout, search, runs, lines=lines, images=images and search)
    return {table_key: table, charts_key: charts}


def _columns(axes: Sequence[Axis]) -> list[str]:
    """The results and how training ended first, then what the sweep varied, then the gate's
    dataset: what a teacher reads before what they set."""
    return [
        *(f"metrics.`{m}`" for m in RESULT_METRICS),
        f"params.`{STOP_REASON}`",
        *(f"params.`{a.key}`" for a in axes),
        DATASET_COLUMN,
    ]


def _widths(columns: Sequence[str]) -> dict[str, int]:
    """Pixel widths that fit the results and stop_reason beside the run names at 1440×900."""
    widths = {RUN_NAME_COLUMN: 230, CREATED_COLUMN: 105, f"params.`{STOP_REASON}`": 100, DATASET_COLUMN: 170}
    return {
        c: widths.get(c, 78 if c.startswith("metrics.") else 70)
        for c in [RUN_NAME_COLUMN, CREATED_COLUMN, *columns]
    }


def _section(name: str, columns: int = 2) -> dict[str, Any]:
    return {
        "uuid": SECTION,
        "name": name,
        "display": True,
        "isReordered": False,
        "deleted": False,
        "isGenerated": False,
        "columns": columns,  # cards a row: wide enough for every line's name in their legends
        "cardHeight": 420,
    }


def _grouping(
    parent_run_id: str,
    by: Sequence[str],
    cells: Sequence[Sequence[Any]],
    cell_keys: Sequence[str],
    flat: bool,
) -> dict[str, Any]:
    """MLflow's group-by on params `by`, averaged, every group open; `flat`: not grouped (a
    search's trials, a grid of one run a cell); with no such param, one group of the whole sweep
    (by its parent's tag), open."""
    if flat:
        return {"groupBy": None, "groupsExpanded": {}}
    if not by:
        return {
            "groupBy": {
                "aggregateFunction": "average",
                "groupByKeys": [{"mode": "tag", "groupByData": PARENT_TAG}],
            },
            "groupsExpanded": {f"tag.{PARENT_TAG}.{parent_run_id}": True},
        }
    positions = [list(cell_keys).index(k) for k in by]
    groups = {",".join(f"param.{k}.{param_text(cell[i])}" for k, i in zip(by, positions)) for cell in cells}
    return {
        "groupBy": {
            "aggregateFunction": "average",
            "groupByKeys": [{"mode": "param", "groupByData": k} for k in by],
        },
        "groupsExpanded": {group: True for group in sorted(groups)},
    }


def _numeric(axes: Sequence[Axis]) -> set[str]:
    """The swept keys with numbers for values (lr, init.low): those a chart can put across."""
    return {a.key for a in axes if a.numeric}


def _charts(
    axes: Sequence[Axis], layout: Layout, search: bool, runs: int, lines: bool, images: bool = False
) -> list[dict]:
    """The charts a teacher would project, first in the charts view; MLflow adds one per other
    metric below them."""
    count = runs + 1  # MLflow shows the first 10 runs or groups in a chart unless told
    charts: list[dict[str, Any]] = []
    if lines:
        charts.append(
            _card(
                "LINE",
                metricKey=EPOCHS_TO_CONVERGE,
                selectedMetricKeys=[EPOCHS_TO_CONVERGE],
                xAxisKey="metric",
                selectedXAxisMetricKey=X_METRIC,
                displayPoints=True,
                useGlobalXaxisKey=False,
                lineSmoothness=0,  # each point a cell's exact mean: the UI's default smooths it
                useGlobalLineSmoothing=False,
                runsCountToCompare=count,
            )
        )
    else:  # a scatter needs numbers across: a search's values, or a grid's one numeric axis
        swept = [a.key for a in axes if a.key != SEED] if search else [layout.columns or layout.rows]
        numeric = _numeric(axes)
        for key in swept:
            if key in numeric:
                charts.append(
                    _card(
                        "SCATTER",
                        xaxis={"key": key, "type": "PARAM"},
                        yaxis={"key": EPOCHS_TO_CONVERGE, "type": "METRIC"},
                        runsCountToCompare=count,
                    )
                )
    charts.append(_card("BAR", metricKey=EPOCHS_TO_CONVERGE, runsCountToCompare=count))
    charts.append(
        _card(
            "LINE",
            metricKey="errors",
            selectedMetricKeys=["errors"],
            xAxisKey="step",
            useGlobalXaxisKey=False,
            lineSmoothness=0,
            useGlobalLineSmoothing=False,
            runsCountToCompare=count,
        )
    )
    charts.append(_card("BAR", metricKey="converged", runsCountToCompare=count))
    if images:  # the decision line of each run, epoch by epoch: MLflow's step slider, at the start
        charts.append(_card("IMAGE", imageKeys=[EPOCH_IMAGES_KEY], step=0, runsCountToCompare=count))
    for number, chart in enumerate(charts):
        chart["uuid"] = f"{SECTION}-{number}"
    return charts


def _card(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "deleted": False, "isGenerated": False, "metricSectionId": SECTION, **fields}


def named(states: dict[str, dict[str, Any]], title: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """The views of `sweep_views` with the names the UI's views menu lists them by."""
    return {
        key: (f"{title}: charts" if key.endswith("-charts") else title, state)
        for key, state in states.items()
    }


def tag_value(name: str, state: dict[str, Any], created_ms: int) -> str:
    """A saved view as MLflow's UI (3.15 and later) keeps one in its tag: an envelope with the
    view's name, its times and its state as a JSON string. The UI lists such views by name in its
    views menu, and still opens them by share key."""
    envelope = {
        "name": name,
        "createdAt": created_ms,
        "updatedAt": created_ms,
        "state": json.dumps(state, separators=(",", ":")),
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


def tags(named: dict[str, tuple[str, dict[str, Any]]]) -> dict[str, str]:
    """The views as the experiment tags that the UI opens by their share keys."""
    created = int(time.time() * 1000)
    return {TAG_PREFIX + key: tag_value(name, state, created) for key, (name, state) in named.items()}


def saved(
    parent_run_id: str,
    name: str,
    axes: Sequence[Axis],
    summary: pd.DataFrame,
    search: bool,
    images: bool,
) -> tuple[dict[str, str], tuple[str, list[Any]] | None]:
    """A sweep's views as experiment tags, and a pair per part when the UI cannot load the sweep
    whole; and the axis it was cut on, with the axis's values (None when it is not cut)."""
    shape = layout(axes)
    finished = summary[summary["status"] == FINISHED]
    counted = finished.groupby(shape.cell_keys, sort=False).size() if shape.cell_keys else pd.Series()
    cells = [c if isinstance(c, tuple) else (c,) for c in counted.index]
    args = (parent_run_id, axes, shape, cells, len(summary), search)
    views = named(sweep_views(*args, images=images), name)
    cut = parts(shape.cell_keys, list(zip(cells, counted))) if cells else None
    for number, value in enumerate(cut[1] if cut else []):
        part = sweep_views(*args, part=(number, cut[0], value), images=images)
        views.update(named(part, f"{name}, {cut[0]}={value}"))
    return tags(views), cut


def links(
    tracking_uri: str, experiment: str, parent_run_id: str, cut: tuple[str, list[Any]] | None
) -> list[str]:
    """The lines that link the sweep's views: its runs, its charts, and those of each part."""

    def pair(key: str, label: str) -> list[str]:
        table, charts = keys(key)
        return [
            f"  {label:<12}{ui.view_url(tracking_uri, experiment, table)}",
            f"  {'its charts:' if label == 'its runs:' else '':<12}"
            f"{ui.view_url(tracking_uri, experiment, charts, charts=True)}",
        ]

    lines = pair(parent_run_id, "its runs:")
    if cut:
        loads = f"the UI loads {UI_PAGE} runs at a time: each {cut[0]} on its own, all of it loaded"
        lines.append(f"  ({loads})")
        for number, value in enumerate(cut[1]):
            lines += pair(f"{parent_run_id}-{number}", f"{cut[0]}={value}:")
    return lines
