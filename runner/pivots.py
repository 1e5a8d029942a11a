"""A sweep's results as comparison tables, pivoted on what the sweep varied. Plain pandas.

A grid sweep's cells are its values on every axis but the seed (runner.axes.layout): rows down,
columns across, and a panel for each value of any other axis, so a cell's runs differ by their seed
alone and "mean ± sd over seeds" says just what it is. A search (Optuna) has no cells: its table
is the trials, best first. Used on a sweep's parent run at its end and by `python -m runner.report`.

A run that did not converge never counts as fast: it stopped (max_epochs, a cycle, a divergence)
after however many epochs, which says nothing of how fast it learns. Every epoch figure here is
over the runs that converged; a cell where some did not says how many did, one where none did says
so in words, and the share converged is a table of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from runner.axes import Layout
from runner.console import number
from runner.tracking.names import FINISHED

EPOCHS = "epochs"
CONVERGED = "share converged"
NEVER = "never converged"  # an epochs cell none of whose runs converged
RUNS = "runs per cell"
ALL = "all"  # the one row or column of a sweep with no axis there
BEST_SHOWN = 10  # trials in a search's best-first table, printed and in the parent's description


def epochs_title(layout: Layout) -> str:
    return "epochs (mean ± sd over the seeds that converged)" if layout.seeds else "epochs"


def pivots(summary: pd.DataFrame, layout: Layout) -> dict[str, pd.DataFrame]:
    """The epochs of each cell's converged runs (their mean ± sd over the seeds), the share of
    the finished runs that converged and the runs in each cell, by title. A cell where only some
    converged says how many, `3.5 ± 0.71 (2 of 3)`; one where none did says `never converged`."""
    done = finished(summary)
    runs = _pivot(done, layout, "count")
    mean = _pivot(converged(summary), layout, "mean").reindex_like(runs)
    epochs = mean.round(2).astype(str)
    if layout.seeds:
        spread = _pivot(converged(summary), layout, "std").reindex_like(runs).fillna(0)
        epochs = epochs + " ± " + spread.round(2).astype(str)
    share = _pivot(done, layout, "mean", "converged").reindex_like(runs)
    some = (share < 1) & mean.notna()
    of = (share * runs).round().astype("Int64").astype(str) + " of " + runs.astype("Int64").astype(str)
    epochs = epochs.where(~some, epochs + " (" + of + ")")
    epochs = epochs.where(mean.notna(), NEVER).where(runs.notna(), "")
    return {epochs_title(layout): epochs, CONVERGED: share.round(2), RUNS: runs}


def mean_epochs(summary: pd.DataFrame, layout: Layout) -> pd.DataFrame:
    """The numbers behind the heatmap: each cell's mean epochs over its converged runs (NaN where
    none converged), rows × columns, panels first."""
    return _pivot(converged(summary), layout, "mean").reindex_like(_pivot(finished(summary), layout, "count"))


def finished(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[summary["status"] == FINISHED].astype({"epochs": float, "converged": float})


def converged(summary: pd.DataFrame) -> pd.DataFrame:
    """The finished runs that converged: the only ones whose epochs say how fast a setting learns."""
    done = finished(summary)
    return done[done["converged"] == 1]


def colour_scale(values: pd.Series) -> tuple[float, float]:
    """The colour scale of a sweep's mean epochs, in its heatmap and its page's tables: their
    range; one value (every cell as fast) in the middle of a scale one epoch wide, whose colour
    bar reads 2.6 … 3.4, not 3 + 1e-9 offsets."""
    if len(values) == 0:
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    return (low - 0.5, high + 0.5) if high - low < 1e-9 else (low, high)


def _pivot(done: pd.DataFrame, layout: Layout, aggfunc: str, values: str = "epochs") -> pd.DataFrame:
    rows = [*layout.panels, layout.rows or ALL]
    frame = done.assign(**{ALL: ALL})
    if layout.columns:
        table = frame.pivot_table(values=values, aggfunc=aggfunc, index=rows, columns=layout.columns)
    else:  # one column: a sweep over one axis, or over seeds alone
        table = frame.groupby(rows)[values].agg(aggfunc).to_frame(ALL)
    table.columns.name = layout.columns
    return _in_sweep_order(table, frame, rows, layout.columns)


def _in_sweep_order(
    table: pd.DataFrame, frame: pd.DataFrame, rows: list[str], columns: str | None
) -> pd.DataFrame:
    """Rows and columns in the order the sweep ran its values (`gate=or,xor,and`: or first), as
    pandas would otherwise sort them."""
    rank = {
        key: {v: i for i, v in enumerate(pd.unique(frame[key]))}
        for key in [*rows, *([columns] if columns else [])]
    }
    order = sorted(
        table.index, key=lambda at: [rank[k][v] for k, v in zip(rows, at if len(rows) > 1 else (at,))]
    )
    table = table.reindex(order)
    if columns:
        table = table[sorted(table.columns, key=lambda v: rank[columns][v])]
    return table


def by_panel(table: pd.DataFrame, layout: Layout) -> Iterator[tuple[str, pd.DataFrame]]:
    """The table split into its panels, each named after its values (`rule=hebb, activation=step`);
    one unnamed panel when there are none."""
    if not layout.panels:
        yield "", table
        return
    levels = list(range(len(layout.panels)))
    for values, part in table.groupby(level=levels, sort=True):
        values = values if isinstance(values, tuple) else (values,)
        name = ", ".join(f"{k}={number(v)}" for k, v in zip(layout.panels, values))
        yield name, part.droplevel(levels)


def best_first(summary: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """A search's finished trials, fewest epochs first (then fewest updates)."""
    done = finished(summary)
    ranked = done.sort_values(["converged", "epochs", "updates"], ascending=[False, True, True])
    return ranked[[*keys, "epochs", "converged", "updates", "run_name"]].reset_index(drop=True)


def write_csv(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """Each table as folder/pivot_<file stem>.csv (the sweep's parent and the report alike);
    returns the files."""
    paths = [folder / f"pivot_{file_stem(title)}.csv" for title in tables]
    for path, table in zip(paths, tables.values()):
        table.to_csv(path)
    return paths


def file_stem(title: str) -> str:
    """`epochs (mean ± sd over seeds)` → `epochs`; `share converged` → `share_converged`."""
    return title.split(" (")[0].replace(" ", "_")


def _labelled(table: pd.DataFrame, layout: Layout) -> pd.DataFrame:
    """Columns named with their axis, `lr=0.5`, for a reader who sees no header above them."""
    if not layout.columns:
        return table
    return table.rename(columns=lambda v: f"{layout.columns}={number(v)}")


def markdown(tables: dict[str, pd.DataFrame], layout: Layout) -> str:
    """The tables in Markdown, a section each, a table per panel."""
    parts = []
    for title, table in tables.items():
        parts.append(f"## {title}\n")
        for panel, part in by_panel(table, layout):
            shown = markdown_table(_labelled(part, layout))
            parts.append((f"### {panel}\n\n" if panel else "") + shown + "\n")
    return "\n".join(parts)


def markdown_table(table: pd.DataFrame, **options) -> str:
    """A table in Markdown, a `|` in a value, a label or a name (a gate named `a|b`) escaped so
    that it stays in its cell."""

    def escaped(value: object) -> object:
        return value.replace("|", "\\|") if isinstance(value, str) else value

    table = table.rename(index=escaped, columns=escaped).map(escaped)
    table.index.names = [escaped(n) for n in table.index.names]
    table.columns.name = escaped(table.columns.name)
    return table.to_markdown(**options)


def text(tables: dict[str, pd.DataFrame], layout: Layout) -> str:
    """The tables as plain text, for the terminal."""
    parts = []
    for title, table in tables.items():
        for panel, part in by_panel(table, layout):
            shown = _labelled(part, layout).to_string()
            parts.append(f"{title}{' — ' + panel if panel else ''}\n{shown}\n")
    return "\n".join(parts)


def importance(summary: pd.DataFrame, keys: list[str]) -> dict[str, float]:
    """How much of the spread of the converged runs' epochs each axis explains, on its own: the
    between-group share of the variance, η² = Σ n_g (mean_g − mean)² / Σ (epochs − mean)², with
    the runs grouped by their value on that axis. Empty when the epochs do not spread at all."""
    done = converged(summary)
    epochs = done["epochs"]
    total = float(((epochs - epochs.mean()) ** 2).sum())
    if done.empty or total == 0:
        return {}
    shares = {}
    for key in keys:
        groups = done.groupby(key, sort=False)["epochs"].agg(["size", "mean"])
        between = float((groups["size"] * (groups["mean"] - epochs.mean()) ** 2).sum())
        shares[key] = between / total
    return dict(sorted(shares.items(), key=lambda item: -item[1]))


def importance_sentence(shares: dict[str, float]) -> str:
    """`lr explains 71 % of the spread of epochs among the runs that converged, gate 22 %`."""
    if not shares:
        return "Every run that converged took as many epochs as every other: no setting made a difference."
    (first, share), *rest = shares.items()
    others = "".join(f", {key} {round(100 * s)} %" for key, s in rest)
    return (
        f"{first} explains {round(100 * share)} % of the spread of epochs among the runs that converged"
        f"{others} (each on its own, η²)."
    )


def answer(mean: pd.DataFrame, share: pd.DataFrame, layout: Layout) -> str:
    """The sweep's question answered in a sentence: for each row (of each panel), the value across
    whose runs all converged in the fewest mean epochs; rows where no run converged said apart.
    `lr=1 is fastest for every gate; xor never converges.` Empty with no axis across."""
    if not layout.columns:
        return ""
    best: dict[str, list[str]] = {}
    never, partly = [], []
    for panel, part in by_panel(mean, layout):
        shares = dict(by_panel(share, layout))[panel]
        for row in part.index:
            name = f"{number(row)}{' (' + panel + ')' if panel else ''}"
            whole = part.loc[row].where(shares.loc[row] == 1).dropna()
            if whole.empty:
                (never if part.loc[row].isna().all() else partly).append(name)
                continue
            fastest = whole[whole == whole.min()].index
            key = " and ".join(f"{layout.columns}={number(v)}" for v in fastest)
            best.setdefault(key, []).append(name)
    rows = layout.rows or "row"
    said = []

    def fastest(key: str) -> str:
        return f"{key} tie as fastest" if " and " in key else f"{key} is fastest"

    if len(best) == 1 and not partly:
        said.append(f"{fastest(next(iter(best)))} for every {rows}{' that converges' if never else ''}")
    else:
        said += [f"{fastest(key)} for {', '.join(names)}" for key, names in best.items()]
    if partly:
        said.append(f"{', '.join(partly)}: no {layout.columns} where every run converged")
    if never:
        verb = "never converges" if len(never) == 1 else "never converge"
        said.append(f"{', '.join(never)} {verb}")
    return "; ".join(said) + "." if said else ""


def along(summary: pd.DataFrame, key: str, others: list[str]) -> dict[str, pd.Series]:
    """The mean epochs of each cell whose every finished run converged, along the axis `key`:
    one series (by `key`'s value) per value of the `others`, named `gate=or`; NaN where a run did
    not converge."""
    done = finished(summary)
    groups = [*others, key]
    cells = done.groupby(groups, sort=False).agg(epochs=("epochs", "mean"), share=("converged", "mean"))
    cells = cells["epochs"].where(cells["share"] == 1)
    if not others:
        return {"all": cells.sort_index()}
    lines = {}
    for values, part in cells.groupby(level=list(range(len(others))), sort=False):
        values = values if isinstance(values, tuple) else (values,)
        name = ", ".join(f"{k}={number(v)}" for k, v in zip(others, values))
        lines[name] = part.droplevel(list(range(len(others)))).sort_index()
    return lines
