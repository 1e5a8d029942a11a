"""What an app hands the sweep callback, and what it is handed back at the sweep's end.

The callback (runner/tracking/callback.py) is named in the app's Hydra config with the app:

    hydra:
      callbacks:
        mlflow_sweep:
          _target_: runner.tracking.callback.MlflowSweep
          app: my_app.sweeps.MySweeps      # a class with the members of SweepApp

It opens, resumes and closes the sweep's parent run; at the close it reads the children back
(`columns` says what a row holds) and hands them to the app's `review`, whose files, metrics,
tags and lines it logs and prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from omegaconf import DictConfig

from runner.tracking.axes import Axis
from runner.tracking.names import Columns

if TYPE_CHECKING:
    import pandas as pd

    from runner.tracking.store import Store


@dataclass(frozen=True)
class ClosedSweep:
    """A sweep at its end, as the app's review sees it."""

    store: Store
    experiment: str  # its id
    run_id: str  # the parent run's
    name: str
    dir: Path  # the sweep's folder: where the review writes its files
    axes: tuple[Axis, ...]
    search: bool  # a sweeper that searches (Optuna), not a grid
    summary: pd.DataFrame  # one row per child run (runner/tracking/readback.py)
    commands: dict[str, str]  # what each does → the command: the one that made it, the one that resumes it


@dataclass
class Reviewed:
    """What the app's review gives the sweep's parent, and says at the end of the command."""

    files: list[Path] = field(default_factory=list)  # logged on the parent; an .html one gets a link
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # of the parent: its description among them
    experiment_tags: dict[str, str] = field(default_factory=dict)  # saved views of the UI, say
    outcome: str = ""  # how the runs went, in a few words: "5 of 6 runs reached the goal"
    lines: list[str] = field(default_factory=list)  # printed after the runs' table
    links: list[str] = field(default_factory=list)  # printed after the page's link


class SweepApp(Protocol):
    """What the app's class offers the callback; it is made with no arguments."""

    columns: Columns  # what a sweep's summary holds beside its axes
    shown_only: tuple[str, ...]  # keys that change how runs are shown, not what they are: no part
    # of a sweep's identity for resume=

    def start(self, config: DictConfig) -> None:
        """The sweep's config, before its parent opens: a SystemExit here stops it, nothing logged."""

    def review(self, sweep: ClosedSweep) -> Reviewed:
        """The sweep's runs, reviewed: its files written to `sweep.dir`, its numbers and words."""
