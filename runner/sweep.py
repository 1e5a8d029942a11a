"""Groups the runs of one Hydra multirun under one parent MLflow run.

`MlflowSweep` is a Hydra callback registered in conf/config.yaml. On multirun start it creates
the parent run and writes its id to a small JSON file in the sweep's folder, where every job
finds it whatever launcher runs the job, and whatever process. On multirun end it attaches the
summary table of all children to the parent and closes it. A sweep that dies before its end
(a job raised, Ctrl-C) still closes the parent, FAILED or KILLED, when the process exits.
"""

from __future__ import annotations

import atexit
import json
import logging
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)

PARENT_FILE = "mlflow_parent_run.json"


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
        run_id = tracking.start_run(
            uri,
            experiment,
            run_name=" ".join(["sweep", *overrides]),
            tags={
                tracking.SWEEP_TAG: str(sweep_dir.resolve()),
                "sweep.overrides": " ".join(overrides),
            },
        )
        sweep_dir.mkdir(parents=True, exist_ok=True)
        (sweep_dir / PARENT_FILE).write_text(
            json.dumps({"tracking_uri": uri, "experiment_name": name, "run_id": run_id})
        )
        self._open = {
            "uri": uri,
            "shown_uri": shown_uri,
            "experiment": experiment,
            "run_id": run_id,
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
            tracking.log_summary(run["uri"], run["run_id"], summary, run["dir"])
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
