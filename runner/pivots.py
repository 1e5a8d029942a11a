"""A sweep's results as comparison tables: gate × lr, over the seeds (and whatever else varied).

Plain pandas on the summary table of a sweep (see tracking.sweep_summary); used on the sweep's
parent run at its end and by `python -m runner.report`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

EPOCHS = "epochs (mean ± sd over seeds)"
CONVERGED = "share converged"
RUNS = "runs per cell"


def pivots(summary: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """gate × lr tables over the finished runs of a sweep summary: the mean epochs with their
    standard deviation, the share of runs that converged, and how many runs each cell holds."""
    done = _finished(summary)
    mean = _pivot(done, "epochs", "mean")
    spread = _pivot(done, "epochs", "std").reindex_like(mean)
    epochs = mean.round(2).astype(str) + " ± " + spread.fillna(0).round(2).astype(str)
    converged = _pivot(done, "converged", "mean").round(2)
    return {EPOCHS: epochs, CONVERGED: converged, RUNS: _pivot(done, "epochs", "count")}


def mean_epochs(summary: pd.DataFrame) -> pd.DataFrame:
    """gate × lr → mean epochs over the finished runs (the numbers behind the heatmap)."""
    return _pivot(_finished(summary), "epochs", "mean")


def _finished(summary: pd.DataFrame) -> pd.DataFrame:
    return summary[summary["status"] == "FINISHED"].astype({"epochs": float, "converged": float})


def _pivot(done: pd.DataFrame, values: str, aggfunc: str) -> pd.DataFrame:
    return done.pivot_table(values=values, aggfunc=aggfunc, index="gate", columns="lr")


def write_csv(tables: dict[str, pd.DataFrame], folder: Path, prefix: str = "") -> list[Path]:
    """Each table as folder/<prefix><file stem>.csv; returns the files."""
    paths = [folder / f"{prefix}{file_stem(title)}.csv" for title in tables]
    for path, table in zip(paths, tables.values()):
        table.to_csv(path)
    return paths


def file_stem(title: str) -> str:
    """`epochs (mean ± sd over seeds)` → `epochs`; `share converged` → `share_converged`."""
    return title.split(" (")[0].replace(" ", "_")


def markdown(title: str, tables: dict[str, pd.DataFrame]) -> str:
    parts = [f"# {title}\n"] + [f"## {name}\n\n{table.to_markdown()}\n" for name, table in tables.items()]
    return "\n".join(parts)
