"""Groups the runs of one Hydra multirun under one parent MLflow run.

`MlflowSweep` is a Hydra callback registered in conf/config.yaml. On multirun start it creates
the parent run and writes its id, the number of jobs planned and the start time to a small JSON
file in the sweep's folder, where every job finds it whatever launcher runs the job, and whatever
process; each job that ends appends a line to a progress file beside it, which is how it knows
it is the k-th of N. On multirun end the callback attaches the summary table of all children,
its pivot tables and heatmap to the parent and closes it. A sweep that dies before its end (a
job raised, Ctrl-C) still closes the parent, FAILED or KILLED, when the process exits.
"""

from __future__ import annotations

import atexit
import datetime
import fcntl
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)

PARENT_FILE = "mlflow_parent_run.json"
PROGRESS_FILE = "progress.log"
MAX_HEATMAP_CELLS = 24  # rows or columns; more is a search, not a grid, and would not read


def parent_run(sweep_dir: Path, tracking_uri: str, experiment_name: str) -> str | None:
    """The id of the sweep's parent run, if the sweep has one in this store and experiment."""
    path = Path(sweep_dir) / PARENT_FILE
    if not path.is_file():
        return None
    parent = json.loads(path.read_text())
    same_place = (parent["tracking_uri"], parent["experiment_name"]) == (
        tracking_uri,
        experiment_name,
    )
    return parent["run_id"] if same_place else None


def progress(sweep_dir: Path) -> str:
    """Count this job as ended, and say where the sweep stands: "[k/N 0:00:12, ~0:01:40 left]".

    The count is the number of lines in the sweep's progress file, appended under a lock, so
    jobs that end at once in parallel workers each get their own k.
    """
    sweep_dir = Path(sweep_dir)
    try:
        plan = json.loads((sweep_dir / PARENT_FILE).read_text())
    except (OSError, ValueError):
        return "[?]"
    with open(sweep_dir / PROGRESS_FILE, "a+") as counter:
        fcntl.flock(counter, fcntl.LOCK_EX)
        counter.write("ended\n")
        counter.flush()
        counter.seek(0)
        done = sum(1 for _ in counter)
    elapsed = time.time() - plan["started"]
    planned = plan.get("jobs")
    if not planned:
        return f"[{done} {_clock(elapsed)}]"
    left = elapsed / done * max(planned - done, 0)
    return f"[{done}/{planned} {_clock(elapsed)}, ~{_clock(left)} left]"


def _clock(seconds: float) -> str:
    return str(datetime.timedelta(seconds=round(seconds)))


def planned_jobs(config: DictConfig) -> int | None:
    """How many jobs the sweep will run: the product of the sweep lists for Hydra's basic
    sweeper, as it computes them, or a sweeper's `n_trials` (Optuna); None if unknown."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.utils import get_class

    sweeper = config.hydra.sweeper
    if not issubclass(get_class(sweeper._target_), BasicSweeper):  # its plugin is imported already
        return sweeper.get("n_trials")

    arguments = [f"{key}={value}" for key, value in (sweeper.get("params") or {}).items()]
    arguments += list(config.hydra.overrides.task)
    try:
        overrides = OverridesParser.create().parse_overrides(arguments)
        return len(BasicSweeper.split_arguments(overrides, None)[0])
    except Exception:  # Hydra reports a bad sweep itself, when the sweeper parses it
        return None


class MlflowSweep(Callback):
    def __init__(self) -> None:
        self._open: dict[str, Any] | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from runner import tracking

        shown_uri = config.mlflow.tracking_uri
        uri = tracking.absolute(shown_uri, Path.cwd())
        name = config.mlflow.experiment_name
        overrides = list(config.hydra.overrides.task)
        sweep_dir = Path(config.hydra.sweep.dir)
        experiment = tracking.experiment_id(uri, name)
        run_name = " ".join(["sweep", *overrides])
        run_id = tracking.start_run(
            uri,
            experiment,
            run_name=run_name,
            tags={
                tracking.SWEEP_TAG: str(sweep_dir.resolve()),
                "sweep.overrides": " ".join(overrides),
            },
        )
        sweep_dir.mkdir(parents=True, exist_ok=True)
        (sweep_dir / PARENT_FILE).write_text(
            json.dumps(
                {
                    "tracking_uri": uri,
                    "experiment_name": name,
                    "run_id": run_id,
                    "jobs": planned_jobs(config),
                    "started": time.time(),
                }
            )
        )
        self._open = {
            "uri": uri,
            "shown_uri": shown_uri,
            "experiment": experiment,
            "run_id": run_id,
            "name": run_name,
            "dir": sweep_dir,
        }
        atexit.register(self._close_unfinished)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        self._close("FINISHED")

    def _close_unfinished(self) -> None:
        interrupted = isinstance(getattr(sys, "last_value", None), KeyboardInterrupt)
        self._close("KILLED" if interrupted else "FAILED")

    def _close(self, status: str) -> None:
        """Attach the summary of the children logged so far, then end the parent run."""
        if self._open is None:
            return
        from runner import tracking

        run, self._open = self._open, None
        atexit.unregister(self._close_unfinished)
        with tracking.ending(run["uri"], run["run_id"], status):
            summary = tracking.sweep_summary(run["uri"], run["experiment"], run["run_id"])
            files = review(summary, run["dir"], run["name"])
            tracking.log_summary(run["uri"], run["run_id"], summary, files)
        converged = int(summary["converged"].sum())
        lines = [
            f"Sweep of {len(summary)} runs in {run['dir']} ({converged} converged), "
            f"parent run {status}:",
            summary.drop(columns=["run_id"]).to_string(index=False),
            *tracking.where_to_look(
                run["shown_uri"], run["experiment"], run["run_id"], "the sweep"
            ),
        ]
        log.info("\n".join(lines))


def review(summary: Any, folder: Path, title: str) -> list[Path]:
    """Write a sweep's summary, its gate × lr pivot tables (CSV and Markdown) and their heatmap
    to `folder`; returns the files, for the parent run."""
    from runner import pivots, plots

    summary.to_csv(folder / "summary.csv", index=False)
    files = [folder / "summary.csv"]
    if not (summary["status"] == "FINISHED").any():
        return files
    tables = pivots.pivots(summary)
    files += pivots.write_csv(tables, folder, prefix="pivot_")
    files.append(folder / "pivots.md")
    files[-1].write_text(pivots.markdown(title, tables))
    mean = pivots.mean_epochs(summary)
    if max(mean.shape) <= MAX_HEATMAP_CELLS:  # a search over continuous lr makes no grid
        files.append(folder / "heatmap_epochs.png")
        plots.heatmap(mean, tables[pivots.EPOCHS], tables[pivots.CONVERGED], files[-1])
    return files
