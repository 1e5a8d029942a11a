"""A sweep's results as comparison tables: gate × lr, over the seeds (and whatever else varied).

Plain pandas on the summary table of a sweep (see tracking.sweep_summary); used on the sweep's
parent run at its end and by `python -m runner.report`.
"""

from __future__ import annotations

import pandas as pd

EPOCHS = "epochs (mean ± sd over seeds)"
CONVERGED = "share converged"
RUNS = "runs per cell"


def pivots(summary: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """gate × lr tables over the finished runs of a sweep summary: the mean epochs with their
    standard deviation, the share of runs that converged, and how many runs each cell holds."""
    done = summary[summary["status"] == "FINISHED"].astype({"epochs": float, "converged": float})
    by = {"index": "gate", "columns": "lr"}
    mean = done.pivot_table(values="epochs", aggfunc="mean", **by)
    spread = done.pivot_table(values="epochs", aggfunc="std", **by).reindex_like(mean)
    epochs = mean.round(2).astype(str) + " ± " + spread.fillna(0).round(2).astype(str)
    converged = done.pivot_table(values="converged", aggfunc="mean", **by).round(2)
    runs = done.pivot_table(values="epochs", aggfunc="count", **by)
    return {EPOCHS: epochs, CONVERGED: converged, RUNS: runs}


def mean_epochs(summary: pd.DataFrame) -> pd.DataFrame:
    """gate × lr → mean epochs over the finished runs (the numbers behind the heatmap)."""
    done = summary[summary["status"] == "FINISHED"].astype({"epochs": float})
    return done.pivot_table(values="epochs", aggfunc="mean", index="gate", columns="lr")


def file_stem(title: str) -> str:
    """`epochs (mean ± sd over seeds)` → `epochs`; `share converged` → `share_converged`."""
    return title.split(" (")[0].replace(" ", "_")


def markdown(title: str, tables: dict[str, pd.DataFrame]) -> str:
    parts = [f"# {title}\n"] + [f"## {name}\n\n{table.to_markdown()}\n" for name, table in tables.items()]
    return "\n".join(parts)
