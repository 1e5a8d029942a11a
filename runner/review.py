"""A finished sweep, reviewed: its tables and pictures as files, its numbers, its description.

Plain pandas and matplotlib on the sweep's summary (one row per run, runner/tracking/readback.py); the sweep's
parent run logs what this returns (runner/sweeps.py), and `python -m runner.report` prints the same
tables. What a sweep gets:
- a grid (Hydra's sweeper, any launcher): the pivot tables on what varied (pivot_*.csv,
  pivots.md) and heatmap_epochs.png, a panel per value of any axis beyond rows and columns; and
  which setting mattered: each axis's share of the spread of epochs (η², metrics
  importance.<axis>, a sentence in the description, importance_epochs.png);
- a search (Optuna): its trials best first (best_trials.csv, best_trials.md) and
  objective.png, the epochs against each searched value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from runner import pivots, plots
from runner.axes import SEED, Layout
from runner.console import count, number
from runner.pages import sweep_page
from runner.tracking.axes import Axis

MAX_HEATMAP_CELLS = 24  # rows or columns of a panel; more would not read
MAX_HEATMAP_PANELS = 12
NOTE_LIMIT = 7500  # MLflow keeps 8,000 characters of a tag, the description among them


@dataclass
class Review:
    files: list[Path] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    best: str = ""  # the best cell or trial, in words
    answer: str = ""  # the sweep's question answered in a sentence (a grid with an axis across)
    note: str = ""  # Markdown: the run's description in the UI
    importance: str = ""  # which setting mattered, in one sentence (a grid with axes)
    outcome: str = ""  # how the runs went, in a few words: `8 of 12 runs converged`


def review(
    summary: pd.DataFrame,
    axes: Sequence[Axis],
    layout: Layout,
    search: bool,
    title: str,
    folder: Path,
    commands: dict[str, str],
) -> Review:
    """Write the sweep's files to `folder` (its page, sweep.html, among them) and say what they
    show. `commands`: what each does → the command (the one that made the sweep, the one that
    resumes it), for the page."""
    done = pivots.finished(summary)
    converged = int(done["converged"].fillna(0).sum())  # not a FAILED run's
    out = Review(outcome=f"{converged} of {count(len(summary), 'run')} converged")
    summary.to_csv(folder / "summary.csv", index=False)
    out.files.append(folder / "summary.csv")
    out.metrics = {"runs": float(len(summary)), "finished": float(len(done))}
    if done.empty:
        out.note = f"**{title}**: no run finished."
        return out
    learned = pivots.converged(summary)
    out.metrics["share_converged"] = float(done["converged"].mean())
    if not learned.empty:  # epochs say how fast only of the runs that converged
        out.metrics.update(
            epochs_mean=float(learned["epochs"].mean()), epochs_max=float(learned["epochs"].max())
        )
    keys = [a.key for a in axes if a.key != SEED]
    if search:
        ranked = pivots.best_first(summary, keys)
        ranked.to_csv(folder / "best_trials.csv", index=False)
        shown = pivots.markdown_table(ranked.head(pivots.BEST_SHOWN), index=False)
        (folder / "best_trials.md").write_text(f"# {title}: best trials first\n\n{shown}\n")
        plots.objective(done, [a for a in axes if a.numeric and a.key != SEED], folder / "objective.png")
        out.files += [folder / "best_trials.csv", folder / "best_trials.md", folder / "objective.png"]
        top = ranked.iloc[0]
        values = " ".join(f"{k}={number(top[k])}" for k in keys)
        if top["converged"]:
            out.metrics["best_epochs"] = float(top["epochs"])
            out.best = f"{values}, {top['epochs']:.0f} epochs ({top['run_name']})"
        else:
            out.best = "none: no trial converged"
        explained = (
            "A search: each trial is one run at values the sweeper drew. The table lists the "
            f"{min(len(ranked), pivots.BEST_SHOWN)} best trials, fewest epochs first (runs that "
            "converged before those that did not); objective.png plots the epochs against each "
            "searched value."
        )
        out.note = _note(title, out, explained, f"## best trials first\n\n{shown}\n")
        pictures = [("The epochs against each searched value", folder / "objective.png")]
        page = sweep_page.SweepPage(title, _headline(out), "", out.best, "", explained, commands, pictures)
        out.files.append(_write(folder / sweep_page.FILE, sweep_page.search_page(page, summary, ranked)))
        return out

    tables = pivots.pivots(summary, layout)
    out.files += pivots.write_csv(tables, folder)
    body = pivots.markdown(tables, layout)
    (folder / "pivots.md").write_text(f"# {title}\n\n{body}")
    out.files.append(folder / "pivots.md")
    mean = pivots.mean_epochs(summary, layout)
    share = tables[pivots.CONVERGED]
    panels = list(pivots.by_panel(mean, layout))
    fits = all(max(p.shape) <= MAX_HEATMAP_CELLS for _, p in panels)
    if fits and len(panels) <= MAX_HEATMAP_PANELS:
        labels = dict(pivots.by_panel(tables[pivots.epochs_title(layout)], layout))
        shares = dict(pivots.by_panel(share, layout))
        plots.heatmap(
            [(name, part, labels[name], shares[name]) for name, part in panels],
            layout,
            pivots.epochs_title(layout),
            folder / "heatmap_epochs.png",
        )
        out.files.append(folder / "heatmap_epochs.png")
    numeric = [a.key for a in axes if a.numeric and a.key in layout.cell_keys]
    for key in numeric:  # the answer along each numeric axis, a line per value of the others
        others = [k for k in layout.cell_keys if k != key]
        path = folder / f"epochs_by_{key}.png"
        plots.against_axis(pivots.along(summary, key, others), key, path)
        out.files.append(path)
    shares = pivots.importance(summary, layout.cell_keys)
    out.metrics.update({f"importance.{key}": value for key, value in shares.items()})
    if shares:
        plots.importance(shares, folder / "importance_epochs.png")
        out.files.append(folder / "importance_epochs.png")
    out.answer = pivots.answer(mean, share, layout)
    best = _best_cell(mean, share, layout)
    if best is None:
        out.best = "none: no run converged"
    else:
        cell, out.metrics["best_cell_epochs"], whole = best
        epochs = out.metrics["best_cell_epochs"]
        out.best = f"{cell}, {epochs:.3g} epoch{'' if epochs == 1 else 's'}" + (
            " on average" if layout.seeds else ""
        )
        out.best += "" if whole else " over the runs that converged (no cell converged in every run)"
    out.importance = pivots.importance_sentence(shares) if layout.cell_keys and not learned.empty else ""
    explained = _explain(layout, summary)
    out.note = _note(title, out, explained, body)
    shown = [
        (what, path)
        for what, path in (
            ("The heatmap", folder / "heatmap_epochs.png"),
            *((f"Epochs against {key}", folder / f"epochs_by_{key}.png") for key in numeric),
            ("Which setting mattered", folder / "importance_epochs.png"),
        )
        if path in out.files
    ]
    page = sweep_page.SweepPage(
        title, _headline(out), out.answer, out.best, out.importance, explained, commands, shown
    )
    out.files.append(
        _write(folder / sweep_page.FILE, sweep_page.grid_page(page, summary, layout, mean, tables))
    )
    return out


def _write(path: Path, markup: str) -> Path:
    path.write_text(markup, encoding="utf-8")
    return path


def _best_cell(mean: pd.DataFrame, share: pd.DataFrame, layout: Layout) -> tuple[str, float, bool] | None:
    """The cell with the fewest mean epochs among those whose runs all converged, in words, its
    mean, and True; failing that, the same among cells where some converged, and False; None when
    no run converged. A cell with a run that did not converge is never the fastest of cells that
    always did."""
    cells = mean.stack().dropna().rename("epochs").to_frame()  # not the cells none of whose runs converged
    if cells.empty:
        return None
    cells["share"] = share.reindex_like(mean).stack()
    whole = bool((cells["share"] == 1).any())
    pool = cells[cells["share"] == 1] if whole else cells
    where = pool["epochs"].idxmin()
    where = where if isinstance(where, tuple) else (where,)
    names = [*layout.panels, layout.rows or pivots.ALL, layout.columns or pivots.ALL]
    words = [f"{k}={number(v)}" for k, v in zip(names, where) if k != pivots.ALL]
    return " ".join(words) or "every run", float(pool["epochs"].min()), whole


def _explain(layout: Layout, summary: pd.DataFrame) -> str:
    axes = " × ".join(k for k in (layout.rows, layout.columns) if k) or "the sweep"
    panels = f", one table per value of {', '.join(layout.panels)}" if layout.panels else ""
    if layout.seeds:
        seeds = sorted(int(s) for s in summary[SEED].dropna().unique())
        what = (
            f"the epochs its runs took to converge, mean ± sd over its seeds ({', '.join(map(str, seeds))}); "
            "nothing but the seed differs between a cell's runs"
        )
    else:
        what = "the epochs its one run took to converge"
    return (
        f"Each cell is one {axes} setting{panels}: {what}. A run that did not converge (max_epochs, "
        "a cycle, or diverged) never counts as fast: a cell shows `(2 of 3)` when only 2 of its 3 "
        f"runs converged, its mean theirs, and `{pivots.NEVER}` when none did. `share converged` is "
        "the part of a cell's runs that converged. heatmap_epochs.png colours the cells whose every "
        "run converged: light cells in few epochs, dark ones in many; the others are grey and hatched."
    )


def _headline(out: Review) -> str:
    """`12 of 12 runs finished; 8 converged (67%), in 3.25 epochs on average.`"""
    m = out.metrics
    runs, done = int(m["runs"]), int(m["finished"])
    learned = f", in {m['epochs_mean']:.2f} epochs on average" if "epochs_mean" in m else ""
    share = m["share_converged"]
    return f"{done} of {count(runs, 'run')} finished; {round(share * done)} converged ({share:.0%}){learned}."


def _note(title: str, out: Review, explained: str, tables: str) -> str:
    head = (
        f"**{title}**: {_headline(out)} "
        + (f"{out.answer} " if out.answer else "")
        + f"Best: {out.best}."
        + (f" {out.importance}" if out.importance else "")
    )
    note = f"{head}\n\n{explained}\n\n{tables}"
    if len(note) > NOTE_LIMIT:
        note = note[:NOTE_LIMIT].rsplit("\n", 1)[0] + "\n\n… (the whole tables are in the run's files)"
    return note
