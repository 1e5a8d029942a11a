"""Groups the runs of one Hydra multirun under one parent MLflow run, and has the app review them.

`MlflowSweep` is a Hydra callback, named in the app's config with the app's class (sweep_app.py
shows how). On multirun start it hands the app the sweep's config, opens the sweep's parent run
and writes the plan its jobs read (parent.py, plan.py), and starts printing the jobs' progress
lines (progress.py). On multirun end it closes the parent: the app's review, the links. A sweep
that dies before its end (a job raised, Ctrl-C) still gets all of that when the process exits,
its parent ending FAILED or KILLED.
"""

from __future__ import annotations

import atexit
import os
import sys
from typing import TYPE_CHECKING, Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from runner.tracking import signals
from runner.tracking.errors import OutOfSpace, first_line, named, out_of_space
from runner.tracking.names import FINISHED

if TYPE_CHECKING:  # mlflow is imported once a sweep starts, not when Hydra loads the callback
    from runner.tracking.parent import OpenSweep
    from runner.tracking.progress import Printer

_open_sweep: MlflowSweep | None = None  # the sweep of this process, once it started
SWEEP_PID = "RUNNER_SWEEP_PID"  # the environment's: the process of the sweep a worker works for


def close_open_sweep(error: BaseException) -> list[str]:
    """Close the sweep still open when `error` stops the command, so that its summary and the
    jobs' errors come before the command's last line (Hydra 1.3 leaves it open, for atexit);
    returns the jobs' errors it printed."""
    if _open_sweep is None:
        return []
    _open_sweep._close_unfinished(error)
    return _open_sweep.errors_shown


class MlflowSweep(Callback):
    def __init__(self, app: str) -> None:
        self.app = app  # the dotted name of the app's class (sweep_app.SweepApp)
        self._open: OpenSweep | None = None
        self._printer: Printer | None = None
        self.errors_shown: list[str] = []  # the failed jobs' errors, printed at the sweep's end

    def __getstate__(self) -> dict[str, Any]:
        """The app's name alone: the launchers that run jobs elsewhere (joblib, Ray, submitit)
        pickle the callbacks with the jobs, which need none of the sweep's state (a store, a thread)."""
        return {"app": self.app}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["app"])

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Open the sweep, or stop it in one line: Hydra only warns of a callback's Exception, and
        its jobs would then log runs with no parent."""
        os.environ[SWEEP_PID] = str(os.getpid())  # for the processes it starts (on_job_start)
        try:
            self._start(config)
        except Exception as err:
            signals.raise_if_received()  # an interrupt that some code turned into another error
            if self._open is not None:  # opened: at exit, its close says what went wrong
                raise
            raise SystemExit(f"Cannot start the sweep: {named(err)}; nothing was run or logged") from None

    def _start(self, config: DictConfig) -> None:
        from hydra.utils import get_class

        from runner.tracking import parent, progress, readback

        with signals.held():  # the app's modules imported whole: one cut halfway (matplotlib's)
            app = get_class(self.app)()  # stays broken for the rest of the process
        app.start(config)  # the app's checks stop the sweep before its parent opens
        opening = parent.prepare(config, app)
        with signals.held():  # a Ctrl-C from here on comes when this object can end the parent
            opened = parent.start(opening)
            self._own(opened)
        polled = readback.progress_reader(opened.store, opened.experiment, opened.run_id)
        self._printer = progress.Printer(opened.dir, opened.started, opened.spec.jobs, polled)
        self._printer.start()

    def _own(self, opened: OpenSweep) -> None:
        """The sweep's parent is this object's to close from now on: at its end, or at exit."""
        self._open = opened
        atexit.register(self._close_unfinished)
        global _open_sweep
        _open_sweep = self

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        """A job in a worker that the sweep's process started (joblib's loky workers) ends with
        that process, even when it is killed outright: an orphaned worker and the resource
        trackers it holds open kept the command's output open (`… | tee log` hung) for minutes."""
        if os.environ.get(SWEEP_PID) == str(os.getppid()):
            from hydra_plugins.perceptron_runner.workers import die_with

            die_with(os.getppid())

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """The sweep's end. Hydra 1.3 calls this only when the sweep returns (one that raised is
        closed at exit); Hydra 1.4 calls it from a `finally`, while what the sweep raised is on
        its way out."""
        error = sys.exc_info()[1]
        if error is None:
            self._close(FINISHED)
        else:
            self._close_unfinished(error)

    def _close_unfinished(self, error: BaseException | None = None) -> None:
        """Close a sweep that raised (`error`, or at exit the error Python reported last)."""
        error = error if error is not None else getattr(sys, "last_value", None)
        try:
            self._close(
                signals.status_after(error), list_errors=not isinstance(error, OutOfSpace), error=error
            )
        except Exception as err:  # a full disk, a store gone: one line, not an atexit traceback
            if out_of_space(err):
                return  # the job that stopped the sweep said so
            print(f"The sweep's parent run could not be reviewed and closed: {_named(err)}", file=sys.stderr)

    def _close(self, status: str, list_errors: bool = True, error: BaseException | None = None) -> None:
        if self._open is None:
            return
        from runner.tracking import closing

        # Held: a Ctrl-C as the sweep closes waits for its summary, whole (one there once ended
        # the parent with none, every job FINISHED), then stops the command
        with signals.held():
            if self._printer is not None:
                self._printer.stop()  # every job's line, before the summary
            try:
                self.errors_shown = closing.close(self._open, status, list_errors, error)
            finally:
                self._open.folder.release()  # another sweep may use the folder now
                self._open = None
                atexit.unregister(self._close_unfinished)


def _named(error: BaseException) -> str:
    """The error at the root of `error`'s chain, with its type: SQLAlchemy's own words for an
    error in a flush ("raised as a result of Query-invoked autoflush") leave out what it was."""
    while True:
        below = error.__cause__ or error.__context__
        if below is None or (below is error.__context__ and isinstance(below, KeyboardInterrupt)):
            break  # the interrupt it was ending the sweep for is not what went wrong
        error = below
    text = first_line(error)
    return text if text == type(error).__name__ else f"{type(error).__name__}: {text}"
