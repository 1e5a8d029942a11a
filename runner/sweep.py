"""Groups the runs of one Hydra multirun under one parent MLflow run, and reviews them at the end.

`MlflowSweep` is a Hydra callback registered in conf/config.yaml. On multirun start it opens the
sweep's parent run and writes the plan its jobs read (runner/parent_run.py, runner/plan.py), and
starts printing the jobs' progress lines (runner/progress.py). On multirun end it closes the
parent: the review, the UI's views, the links. A sweep that dies before its end (a job raised,
Ctrl-C) still gets all of that when the process exits, its parent ending FAILED or KILLED.
"""

from __future__ import annotations

import atexit
import sys
from typing import TYPE_CHECKING, Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from runner import signals
from runner.errors import out_of_space

if TYPE_CHECKING:  # mlflow is imported once a sweep starts, not when Hydra loads the callback
    from runner.parent_run import OpenSweep
    from runner.progress import Printer


class MlflowSweep(Callback):
    def __init__(self) -> None:
        self._open: OpenSweep | None = None
        self._printer: Printer | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Nothing: the launchers that run jobs elsewhere (joblib, Ray, submitit) pickle the
        callbacks with the jobs, which need none of the sweep's state (a store, a thread)."""
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from runner import parent_run, progress
        from runner.sweep_check import check_points

        check_points(config)  # a point that cannot be composed stops the sweep before its parent
        self._open = parent_run.open_sweep(config)
        opened = self._open
        polled = parent_run.store_progress(opened)
        self._printer = progress.Printer(opened.dir, opened.started, opened.planned, polled)
        self._printer.start()
        atexit.register(self._close_unfinished)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """The sweep's end. Hydra 1.3 calls this only when the sweep returns (one that raised is
        closed at exit); Hydra 1.4 calls it from a `finally`, while what the sweep raised is on
        its way out."""
        error = sys.exc_info()[1]
        if error is None:
            self._close("FINISHED")
        else:
            self._close_unfinished(error)

    def _close_unfinished(self, error: BaseException | None = None) -> None:
        """Close a sweep that raised (`error`, or at exit the error Python reported last)."""
        try:
            self._close(
                signals.status_after(error if error is not None else getattr(sys, "last_value", None))
            )
        except Exception as err:  # a full disk, a store gone: one line, not an atexit traceback
            if out_of_space(err):
                return  # the job that stopped the sweep said so
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            print(f"The sweep's parent run could not be reviewed and closed: {first}", file=sys.stderr)

    def _close(self, status: str) -> None:
        if self._open is None:
            return
        from runner import parent_run

        sweep, self._open = self._open, None
        atexit.unregister(self._close_unfinished)
        if self._printer is not None:
            self._printer.stop()  # every job's line, before the summary
        parent_run.close(sweep, status)
