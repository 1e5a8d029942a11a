"""Groups the runs of one Hydra multirun under one parent MLflow run, and reviews them at the end.

`MlflowSweep` is a Hydra callback registered in conf/config.yaml. On multirun start it works out
what the sweep varies (its axes: the lists of the command line and of a preset, or the keys a
search draws), creates the parent run, named and with params after them, and writes its id, the
jobs planned and the start time to a small JSON file in the sweep's folder, where every job finds
it whatever launcher runs the job, and whatever process; each job that ends appends a line to a
progress file beside it, which is how it knows it is the k-th of N. On multirun end it reads the
children back, reviews them (runner/review.py: tables and pictures pivoted on the axes), gives the
parent its metrics and description, saves the sweep's ready views for the MLflow UI
(runner/views.py) and prints their links. A sweep that dies before its end (a job raised, Ctrl-C)
still gets all of that, its parent ending FAILED or KILLED, when the process exits.
"""

from __future__ import annotations

import atexit
import datetime
import fcntl
import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from hydra_plugins.perceptron_runner.sweeper import grid, sweep_overrides
from runner.axes import Axis, Layout, layout, parse, plural, sweep_name
from runner.errors import UsageError, out_of_space
from runner.tags import NOTE

if TYPE_CHECKING:  # mlflow is imported once a sweep starts, not when Hydra loads the callback
    from runner.store import Store

log = logging.getLogger(__name__)

PARENT_FILE = "mlflow_parent_run.json"
PROGRESS_FILE = "progress.log"
MAX_LISTING = 1000  # characters of a sweep param's values; a longer list is given as its override


def read_plan(sweep_dir: Path) -> dict | None:
    """The sweep's plan, which its callback wrote before the first job; None when
    there is none (a sweep whose callback failed, or a single run)."""
    try:
        return json.loads((Path(sweep_dir) / PARENT_FILE).read_text())
    except (OSError, ValueError):
        return None


def parent_run(plan: dict | None, tracking_uri: str, experiment_name: str) -> str | None:
    """The id of the sweep's parent run, if the sweep has one in this store and experiment."""
    if plan is None:
        return None
    same_place = (plan["tracking_uri"], plan["experiment_name"]) == (tracking_uri, experiment_name)
    return plan["run_id"] if same_place else None


def done_before(plan: dict | None, fingerprint: str) -> str | None:
    """The id of a FINISHED run of this job in the sweep being resumed, if there is one."""
    return None if plan is None else plan.get("done", {}).get(fingerprint)


def progress(sweep_dir: Path, plan: dict | None, outcome: str) -> str | None:
    """Count this job as ended and add its line to the sweep's progress file, saying where the
    sweep stands: "[k/N 0:00:12, ~0:01:40 left] or lr=1 seed=0: Converged ...". Returns the line;
    None if the sweep has no plan (its callback failed), when the job must print it itself.

    The line is appended under a lock, so jobs that end at once in parallel workers each get
    their own k. The sweep's process prints the lines (see Echo), whatever process ran the job.
    """
    if plan is None:
        return None
    with open(Path(sweep_dir) / PROGRESS_FILE, "a+") as lines:
        fcntl.flock(lines, fcntl.LOCK_EX)
        lines.seek(0)
        done = sum(1 for _ in lines) + 1
        elapsed = time.time() - plan["started"]
        planned = plan.get("jobs")
        if planned:
            left = elapsed / done * max(planned - done, 0)
            where = f"[{done}/{planned} {_clock(elapsed)}, ~{_clock(left)} left]"
        else:
            where = f"[{done} {_clock(elapsed)}]"
        line = f"{where} {outcome}"
        lines.write(line.replace("\n", " ") + "\n")
    return line


class Echo(threading.Thread):
    """Prints the sweep's progress lines as jobs add them, from the sweep's own process: in the
    order the jobs ended, none lost or merged (Ray deduplicates and reorders what its workers
    print, and colours it), and all of them before the sweep's summary."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.offset, self.done = path, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.drain()

    def drain(self) -> None:
        try:
            with open(self.path, "rb") as lines:
                lines.seek(self.offset)
                text = lines.read()
        except FileNotFoundError:
            return
        whole = text[: text.rfind(b"\n") + 1]  # a line being written waits for its end
        if whole:
            self.offset += len(whole)
            sys.stdout.write(whole.decode())
            sys.stdout.flush()

    def stop(self) -> None:
        self.done.set()
        if self.is_alive():
            self.join()
        self.drain()


def _clock(seconds: float) -> str:
    return str(datetime.timedelta(seconds=round(seconds)))


GRID_SWEEPERS = ("basic", "cached")  # Hydra's and this project's: every job of the lists' product


def is_search(config: DictConfig) -> bool:
    """Whether the sweeper searches (Optuna) rather than runs a grid."""
    return config.hydra.runtime.choices.get("hydra/sweeper") not in GRID_SWEEPERS


def planned_jobs(config: DictConfig) -> int | None:
    """How many jobs the sweep will run: the grid's, as its sweeper computes it, or a sweeper's
    `n_trials` (Optuna); None if unknown."""
    if is_search(config):
        return config.hydra.sweeper.get("n_trials")
    try:
        return len(grid(OverridesParser.create().parse_overrides(_arguments(config))))
    except Exception:  # Hydra reports a bad sweep itself, when the sweeper parses it
        return None


def _arguments(config: DictConfig) -> list[str]:
    """A sweep's overrides as its sweeper reads them: the preset's params, then the command line."""
    return sweep_overrides(config.hydra.sweeper.get("params"), config.hydra.overrides.task)


def sweep_axes(config: DictConfig) -> list[Axis]:
    """What the sweep varies, in the order it was given; a key listed twice keeps its last list
    (the command line's over the preset's), and `hydra.*` or `mlflow.*` keys are no axes."""
    groups = set(config.hydra.runtime.choices)
    found: dict[str, Axis] = {}
    try:
        overrides = OverridesParser.create().parse_overrides(_arguments(config))
    except Exception:
        return []
    search = is_search(config)
    for override in overrides:
        key = override.key_or_group
        if key.split(".")[0] in ("hydra", "mlflow"):
            continue
        spec = override.input_line.split("=", 1)[1]  # as given: range(0,50), interval(0, 1)
        if search and key in (config.hydra.sweeper.get("params") or {}):  # drawn, not listed
            found[key] = Axis(key, (), not spec.startswith("choice"), spec)
        elif override.is_sweep_override():
            values = tuple(override.sweep_string_iterator())
            listing = ",".join(values)
            spec = spec if len(listing) > MAX_LISTING else ""
            numeric = key not in groups and all(isinstance(parse(v), (int, float)) for v in values)
            found[key] = Axis(key, () if spec else values, numeric, spec)
    return list(found.values())


OVERRIDES_TAG = "sweep.overrides"


def _reopen(
    store: Store, config: DictConfig, experiment_name: str, overrides: list[str], search: bool
) -> tuple[str, str, dict[str, str]]:
    """The sweep that `resume` names (latest, or a parent run id), reopened: its id, its name,
    and its FINISHED jobs by fingerprint. Refused, in one line, for a search or other overrides."""
    from runner import readback
    from runner.store import PID_TAG

    resume = config.resume
    if search:
        raise SystemExit(f"resume={resume}: a search (Optuna) cannot be resumed, its study lived in memory")
    try:
        sweep = readback.find_sweep(store, experiment_name, None if resume == "latest" else resume)
    except UsageError as err:
        raise SystemExit(f"resume={resume}: {err}") from None
    parent = store.client.get_run(sweep.run_id)
    given = parent.data.tags.get(OVERRIDES_TAG, "")
    if given != " ".join(overrides):
        raise SystemExit(
            f"resume={resume}: the sweep {sweep.name!r} ({sweep.run_id}) ran `{given}`, not "
            f"`{' '.join(overrides)}`: give its overrides, or leave resume out for a new sweep"
        )
    done = readback.finished_jobs(store, sweep)
    store.client.update_run(sweep.run_id, status="RUNNING")
    store.client.set_tag(sweep.run_id, PID_TAG, str(os.getpid()))
    log.info(f"Resuming {sweep.name} ({sweep.run_id}): {len(done)} job(s) finished before are kept")
    return sweep.run_id, sweep.name, done


@dataclass
class _Open:
    """The parent run of the sweep in progress."""

    store: Store
    shown_uri: str  # the store as the user gave it
    experiment: str
    run_id: str
    name: str
    dir: Path
    axes: list[Axis]
    search: bool


class MlflowSweep(Callback):
    def __init__(self) -> None:
        self._open: _Open | None = None
        self._echo: Echo | None = None

    def __getstate__(self) -> dict[str, Any]:
        """Nothing: the launchers that run jobs elsewhere (joblib, Ray, submitit) pickle the
        callbacks with the jobs, which need none of the sweep's state (a store, a thread)."""
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from runner import tracking
        from runner.store import absolute, open_store

        shown_uri = config.mlflow.tracking_uri
        store = open_store(absolute(shown_uri, Path.cwd()))
        name = config.mlflow.experiment_name
        try:
            experiment = store.experiment_id(name)
        except UsageError as err:  # no job could log: stop here, not in every job (Hydra would
            raise SystemExit(str(err)) from None  # only warn of a callback's Exception)
        store.reserve()
        sweep_dir = Path(config.hydra.sweep.dir)
        axes, search, jobs = sweep_axes(config), is_search(config), planned_jobs(config)
        overrides = [o for o in config.hydra.overrides.task if o.split("=")[0] != "resume"]
        done: dict[str, str] = {}
        if config.get("resume"):
            run_id, run_name, done = _reopen(store, config, name, overrides, search)
        else:
            choices = config.hydra.runtime.choices
            preset = choices.get("sweep") or "sweep"
            run_name = sweep_name(
                "sweep" if preset == "command_line" else preset, axes, jobs, time.strftime("%H:%M:%S"), search
            )
            params = {
                "sweep.axes": ",".join(a.key for a in axes),
                **{f"sweep.{a.key}": a.listing for a in axes},
                "sweep.jobs": str(jobs),
                "sweep.launcher": str(choices.get("hydra/launcher")),
                "sweep.sweeper": str(choices.get("hydra/sweeper")),
                "sweep.search": json.dumps(search),
            }
            tags = {tracking.SWEEP_TAG: str(sweep_dir.resolve()), OVERRIDES_TAG: " ".join(overrides)}
            run_id = tracking.start_sweep(store, experiment, run_name, tags, params)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        plan = {
            "tracking_uri": store.uri,
            "experiment_name": name,
            "run_id": run_id,
            "jobs": jobs,
            "started": time.time(),
            "done": done,
        }
        (sweep_dir / PARENT_FILE).write_text(json.dumps(plan))
        self._open = _Open(store, shown_uri, experiment, run_id, run_name, sweep_dir, axes, search)
        self._echo = Echo(sweep_dir / PROGRESS_FILE)
        self._echo.start()
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
            self._close(_ended(error if error is not None else getattr(sys, "last_value", None)))
        except Exception as err:  # a full disk, a store gone: one line, not an atexit traceback
            if out_of_space(err):
                return  # the job that stopped the sweep said so
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            print(f"The sweep's parent run could not be reviewed and closed: {first}", file=sys.stderr)

    def _close(self, status: str) -> None:
        """Review the children logged so far, give the parent its results, end it, and print
        where to look."""
        if self._open is None:
            return
        from runner import readback, tracking
        from runner.review import review

        sweep, self._open = self._open, None
        atexit.unregister(self._close_unfinished)
        if self._echo is not None:
            self._echo.stop()  # every job's line, before the summary
        store, shape = sweep.store, layout(sweep.axes)
        store.free_reserve()  # room to close the runs, should the jobs have filled the disk
        if status != "FINISHED":
            try:
                store.end_own_runs(sweep.experiment, sweep.run_id, status)
            except Exception:  # the store may be what failed: its parent is still ended below
                pass
        with store.ending(sweep.run_id, status):
            found = readback.Sweep(
                sweep.experiment, sweep.run_id, sweep.name, status, tuple(sweep.axes), sweep.search, None
            )
            summary = readback.sweep_summary(store, found)
            done = review(summary, sweep.axes, shape, sweep.search, sweep.name, sweep.dir)
            tags = {NOTE: done.note, "best": done.best}
            tracking.finish_sweep(store, sweep.run_id, done.metrics, tags, summary, done.files)
            cut = _save_views(sweep, shape, summary)
        log.info(_console(sweep, status, summary, done.best, cut))


def _ended(error: BaseException | None) -> str:
    """The status of a sweep that ended on this error: KILLED by an interrupt, else FAILED."""
    return "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"


def _save_views(sweep: _Open, shape: Layout, summary: pd.DataFrame) -> tuple[str, list[Any]] | None:
    """Save the sweep's views for the MLflow UI, and a pair per part when the UI cannot load
    the sweep whole; returns the axis it was cut on, and the axis's values."""
    from runner import tracking, views

    finished = summary[summary["status"] == "FINISHED"]
    counted = finished.groupby(shape.cell_keys, sort=False).size() if shape.cell_keys else pd.Series()
    cells = [c if isinstance(c, tuple) else (c,) for c in counted.index]
    args = (sweep.run_id, sweep.axes, shape, cells, len(summary), sweep.search)
    named = views.named(views.sweep_views(*args), sweep.name)
    cut = views.parts(shape.cell_keys, list(zip(cells, counted))) if cells else None
    for number, value in enumerate(cut[1] if cut else []):
        part = views.sweep_views(*args, part=(number, cut[0], value))
        named.update(views.named(part, f"{sweep.name}, {cut[0]}={value}"))
    tracking.save_views(sweep.store, sweep.experiment, named)
    return cut


def _console(
    sweep: _Open, status: str, summary: pd.DataFrame, best: str, cut: tuple[str, list[Any]] | None
) -> str:
    """What the sweep prints at its end: how it went, its runs, its best cell, its links."""
    from runner import views

    runs = len(summary)
    if not runs:
        return f"{sweep.name}, in {sweep.dir}: no run was logged; parent run {status}"
    converged = int(summary["converged"].sum())
    base = sweep.store.ui_base()

    def links(key: str, label: str) -> list[str]:
        table, charts = views.keys(key)
        return [
            f"  {label:<12}{views.link(base, sweep.experiment, table)}",
            f"  {'its charts:' if label == 'the sweep:' else '':<12}"
            f"{views.link(base, sweep.experiment, charts, charts=True)}",
        ]

    lines = [
        f"{sweep.name}, in {sweep.dir}: {converged} of {runs} {plural(runs, 'run')} converged; "
        f"parent run {status}",
        summary.drop(columns=["run_id"]).to_string(index=False),
        *([f"Best: {best}"] if best else []),
        *sweep.store.ui_command(sweep.shown_uri),
        *links(sweep.run_id, "the sweep:"),
    ]
    if cut:
        lines.append(
            f"  (the UI loads {views.UI_PAGE} runs at a time: each {cut[0]} on its own, all of it loaded)"
        )
        for number, value in enumerate(cut[1]):
            lines += links(f"{sweep.run_id}-{number}", f"{cut[0]}={value}:")
    parent = f"{base}/#/experiments/{sweep.experiment}/runs/{sweep.run_id}"
    lines.append(f"  its parent: {parent}?workflowType=machine_learning")
    return "\n".join(lines)
