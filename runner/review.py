"""A finished sweep, reviewed: its tables and pictures as files, its numbers, its description.

Plain pandas and matplotlib on the sweep's summary (one row per run, runner.readback); the sweep's
parent run logs what this returns (runner.sweep), and `python -m runner.report` prints the same
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

from runner import pivots
from runner.axes import SEED, Axis, Layout
from runner.console import count, number
from runner.tracking import signals

MAX_HEATMAP_CELLS = 24  # rows or columns of a panel; more would not read
MAX_HEATMAP_PANELS = 12
NOTE_LIMIT = 7500  # MLflow keeps 8,000 characters of a tag, the description among them


@dataclass
class Review:
    files: list[Path] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    best: str = ""  # the best cell or trial, in words
    note: str = ""  # Markdown: the run's description in the UI
    importance: str = ""  # which setting mattered, in one sentence (a grid with axes)


def review(
    summary: pd.DataFrame, axes: Sequence[Axis], layout: Layout, search: bool, title: str, folder: Path
) -> Review:
    """Write the sweep's files to `folder` and say what they show."""
    with signals.held():  # matplotlib only where pictures are drawn, imported whole
        from runner import plots

    done = pivots.finished(summary)
    out = Review()
    summary.to_csv(folder / "summary.csv", index=False)
    out.files.append(folder / "summary.csv")
    out.metrics = {"runs": float(len(summary)), "finished": float(len(done))}
    if done.empty:
        out.note = f"**{title}**: no run finished."
        return out
    out.metrics.update(
        share_converged=float(done["converged"].mean()),
        epochs_mean=float(done["epochs"].mean()),
        epochs_max=float(done["epochs"].max()),
    )
    keys = [a.key for a in axes if a.key != SEED]
    if search:
        ranked = pivots.best_first(summary, keys)
        ranked.to_csv(folder / "best_trials.csv", index=False)
        shown = ranked.head(pivots.BEST_SHOWN).to_markdown(index=False)
        (folder / "best_trials.md").write_text(f"# {title}: best trials first\n\n{shown}\n")
        plots.objective(done, [a for a in axes if a.numeric and a.key != SEED], folder / "objective.png")
        out.files += [folder / "best_trials.csv", folder / "best_trials.md", folder / "objective.png"]
        top = ranked.iloc[0]
        out.metrics["best_epochs"] = float(top["epochs"])
        values = " ".join(f"{k}={number(top[k])}" for k in keys)
        out.best = f"{values}, {top['epochs']:.0f} epochs ({top['run_name']})"
        explained = (
            "A search: each trial is one run at values the sweeper drew. The table lists the "
            f"{min(len(ranked), pivots.BEST_SHOWN)} best trials, fewest epochs first (runs that "
            "converged before those that did not); objective.png plots the epochs against each "
            "searched value."
        )
        out.note = _note(title, out, explained, f"## best trials first\n\n{shown}\n")
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
    shares = pivots.importance(summary, layout.cell_keys)
    out.metrics.update({f"importance.{key}": value for key, value in shares.items()})
    if shares:
        plots.importance(shares, folder / "importance_epochs.png")
        out.files.append(folder / "importance_epochs.png")
    cell, out.metrics["best_cell_epochs"] = _best_cell(mean, share, layout)
    out.best = f"{cell}, {out.metrics['best_cell_epochs']:.3g} epochs" + (
        " on average" if layout.seeds else ""
    )
    out.importance = pivots.importance_sentence(shares) if layout.cell_keys else ""
    out.note = _note(title, out, _explain(layout, summary), body)
    return out


def _best_cell(mean: pd.DataFrame, share: pd.DataFrame, layout: Layout) -> tuple[str, float]:
    """The cell with the fewest mean epochs among those whose runs all converged (among all
    cells if none did), in words, and its mean."""
    cells = mean.stack().rename("epochs").to_frame()
    cells["share"] = share.reindex_like(mean).stack()
    pool = cells[cells["share"] == 1] if (cells["share"] == 1).any() else cells
    where = pool["epochs"].idxmin()
    where = where if isinstance(where, tuple) else (where,)
    names = [*layout.panels, layout.rows or pivots.ALL, layout.columns or pivots.ALL]
    words = [f"{k}={number(v)}" for k, v in zip(names, where) if k != pivots.ALL]
    return " ".join(words) or "every run", float(pool["epochs"].min())


def _explain(layout: Layout, summary: pd.DataFrame) -> str:
    axes = " × ".join(k for k in (layout.rows, layout.columns) if k) or "the sweep"
    panels = f", one table per value of {', '.join(layout.panels)}" if layout.panels else ""
    if layout.seeds:
        seeds = sorted(int(s) for s in summary[SEED].dropna().unique())
        what = (
            f"the epochs its runs took, mean ± sd over its seeds ({', '.join(map(str, seeds))}); "
            "nothing but the seed differs between a cell's runs"
        )
    else:
        what = "the epochs its one run took"
    return (
        f"Each cell is one {axes} setting{panels}: {what}. `share converged` is the part of a "
        "cell's runs that converged. heatmap_epochs.png colours the mean epochs: light cells "
        "converged in few epochs, dark ones took many; a hatched cell holds a run that did not "
        "converge (max_epochs, a cycle, or diverged), counted with the epochs it ran."
    )


def _note(title: str, out: Review, explained: str, tables: str) -> str:
    m = out.metrics
    runs, done = int(m["runs"]), int(m["finished"])
    head = (
        f"**{title}**: {done} of {count(runs, 'run')} finished, "
        f"{m['share_converged']:.0%} of them converged, {m['epochs_mean']:.2f} epochs on average. "
        f"Best: {out.best}." + (f" {out.importance}" if out.importance else "")
    )
    note = f"{head}\n\n{explained}\n\n{tables}"
    if len(note) > NOTE_LIMIT:
        note = note[:NOTE_LIMIT].rsplit("\n", 1)[0] + "\n\n… (the whole tables are in the run's files)"
    return note
