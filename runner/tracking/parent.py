"""A sweep's parent run, from its start to its end: the run that groups the sweep's children.

`open_sweep` creates it, named and with params after what the sweep varies (or reopens the one
that `resume=` names), and writes the plan its jobs read (plan.py). `close` reads the children
back (readback.py), hands them to the app's review (sweep_app.py), gives the parent what the
review made (files, metrics, description) and the experiment its tags, ends it and says where
to look (ui.py).
"""

from __future__ import annotations

import json
import logging
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig

from runner.tracking import plan, readback, signals, sqlite_store, stale_runs, ui
from runner.tracking.axes import Axis, is_search, planned_jobs, sweep_axes, sweep_name
from runner.tracking.credentials import redacted
from runner.tracking.errors import UsageError, says_disk_full
from runner.tracking.names import (
    AXES_PARAM,
    AXIS_PARAM,
    FAILED,
    FINISHED,
    JOBS_PARAM,
    KILLED,
    LAUNCHER_PARAM,
    MISSING_METRIC,
    OVERRIDES_TAG,
    RUNNING,
    SEARCH_PARAM,
    SWEEP_DIR_TAG,
    SWEEPER_PARAM,
)
from runner.tracking.store import Store, open_store
from runner.tracking.sweep_app import ClosedSweep, Reviewed, SweepApp

log = logging.getLogger(__name__)


@dataclass
class OpenSweep:
    """The parent run of the sweep in progress, and what its end needs to know."""

    store: Store
    shown_uri: str  # the store as the user gave it
    experiment: str
    run_id: str
    name: str
    dir: Path
    axes: list[Axis]
    search: bool
    planned: int | None  # jobs
    started: float  # time.time()
    overrides: list[str]  # the command line's, resume= aside: what made the sweep
    app: SweepApp


def open_sweep(config: DictConfig, own: Callable[[OpenSweep], None], app: SweepApp) -> OpenSweep:
    """Start the sweep's parent run (or reopen the one `resume` names) and write its plan. The
    parent is handed to `own` as soon as it runs, before a Ctrl-C can stop the command: a Ctrl-C
    in between once left it RUNNING, with no one to end it."""
    shown_uri = config.mlflow.tracking_uri
    store = open_store(shown_uri, Path.cwd())
    name = config.mlflow.experiment_name
    try:
        experiment = store.experiment_id(name)
    except UsageError as err:  # no job could log: stop here, not in every job (Hydra would
        raise SystemExit(str(err)) from None  # only warn of a callback's Exception)
    sqlite_store.reserve(store.uri)
    sweep_dir = Path(config.hydra.sweep.dir)
    key = plan.sweep_key(config.hydra.runtime.cwd, config.hydra.sweep.dir)
    axes, search, jobs = sweep_axes(config), is_search(config), planned_jobs(config)
    overrides = [o for o in config.hydra.overrides.task if o.split("=")[0] != "resume"]
    resume, done = config.get("resume"), {}
    if resume:
        run_id, run_name, done = plan.resumed(store, resume, name, overrides, search, app.shown_only)
    else:
        choices = config.hydra.runtime.choices
        preset = choices.get("sweep") or "sweep"
        run_name = sweep_name(
            "sweep" if preset == "command_line" else preset, axes, jobs, time.strftime("%H:%M:%S"), search
        )
        params = {
            AXES_PARAM: ",".join(a.key for a in axes),
            **{AXIS_PARAM + a.key: a.listing for a in axes},
            JOBS_PARAM: str(jobs),
            LAUNCHER_PARAM: str(choices.get("hydra/launcher")),
            SWEEPER_PARAM: str(choices.get("hydra/sweeper")),
            SEARCH_PARAM: json.dumps(search),
        }
        shown = [redacted(o) for o in overrides]
        tags = {SWEEP_DIR_TAG: key, OVERRIDES_TAG: " ".join(shown)}
        tags.update(readback.sweep_tag(axes, shown, search, jobs))
    sweep_dir.mkdir(parents=True, exist_ok=True)  # where its close writes its review
    with signals.held():  # a Ctrl-C from here on comes when `own` can end the parent
        if resume:
            plan.reopen(store, run_id, key)
        else:
            run_id = _start(store, experiment, run_name, tags, params)
        opened = OpenSweep(
            store,
            shown_uri,
            experiment,
            run_id,
            run_name,
            sweep_dir,
            axes,
            search,
            jobs,
            time.time(),
            overrides,
            app,
        )
        own(opened)
    plan.Plan(store.uri, name, run_id, done, axes=[a.key for a in axes]).write(sweep_dir)
    return opened


def store_progress(sweep: OpenSweep) -> Callable[[], list[str]] | None:
    """What reads the progress lines that jobs which do not see the sweep's folder send through
    the store (the app's job: plan.py): each call returns the lines new since the last. None for a local
    sqlite store, whose jobs all see the folder beside it."""
    if sqlite_store.sqlite_path(sweep.store.uri) is not None:
        return None
    found = readback.Sweep(sweep.experiment, sweep.run_id, sweep.name, RUNNING, (), sweep.search, None)
    seen = set(readback.progress_lines(sweep.store, found))  # a resumed sweep's lines of before

    def new() -> list[str]:
        fresh = [line for line in readback.progress_lines(sweep.store, found) if line not in seen]
        seen.update(fresh)
        return [text for _, text in fresh]

    return new


def _start(store: Store, experiment: str, name: str, tags: dict[str, str], params: dict[str, str]) -> str:
    from runner.tracking import writer

    return writer.start_sweep(store, experiment, name, tags, params)


def close(sweep: OpenSweep, status: str, list_errors: bool = True) -> list[str]:
    """Review the children logged so far, give the parent its results, end it with `status`, and
    print where to look, then (with `list_errors`) the failed jobs' errors; returns those errors."""
    from runner.tracking import writer

    store = sweep.store
    try:
        with store.ending(sweep.run_id, status):  # from its first step: a Ctrl-C anywhere ends it KILLED
            sqlite_store.free_reserve(store.uri)  # room to end the runs, should the jobs have filled the disk
            if status != FINISHED:
                try:
                    stale_runs.end_left_running(store.client, sweep.experiment, sweep.run_id, status)
                except Exception:  # the store may be what failed: its parent is still ended
                    pass
            axes = tuple(sweep.axes)
            found = readback.Sweep(
                sweep.experiment, sweep.run_id, sweep.name, status, axes, sweep.search, None
            )
            summary = readback.sweep_summary(store, found, sweep.app.columns)
            missing = max((sweep.planned or 0) - len(summary), 0)
            closed = ClosedSweep(
                store,
                sweep.experiment,
                sweep.run_id,
                sweep.name,
                sweep.dir,
                axes,
                sweep.search,
                summary,
                _commands(sweep),
            )
            reviewed = sweep.app.review(closed)
            metrics = {**reviewed.metrics, MISSING_METRIC: float(missing)}
            writer.finish_sweep(store, sweep.run_id, metrics, reviewed.tags, summary, reviewed.files)
            if reviewed.experiment_tags:
                writer.save_experiment_tags(store, sweep.experiment, reviewed.experiment_tags)
            ended = FAILED if missing and status == FINISHED else status
            log.info(_console(sweep, ended, summary, reviewed, missing))
            shown = _print_errors(summary) if list_errors else []
            if ended != status:
                raise MissingRuns(
                    f"{_jobs(missing)} of {sweep.planned} have no run in {redacted(sweep.shown_uri)}"
                )
    except MissingRuns as err:  # the parent ended FAILED, saying so; the command ends non-zero
        raise SystemExit(str(err)) from None
    return shown


def _jobs(n: int) -> str:
    return f"{n} job{'' if n == 1 else 's'}"


def _commands(sweep: OpenSweep) -> dict[str, str]:
    """The command that made the sweep, and the one that runs its missing jobs in the same parent."""
    made = redacted(shlex.join(["python", "-m", "runner", "-m", *sweep.overrides]))
    return {
        "The command that made this sweep:": made,
        "The one that runs its missing jobs, should any be missing, in the same parent:": (
            f"{made} resume={sweep.run_id}"
        ),
    }


class MissingRuns(Exception):
    """Jobs of a sweep that ended with no run in the store: their results did not arrive."""


def _console(sweep: OpenSweep, status: str, summary: pd.DataFrame, reviewed: Reviewed, missing: int) -> str:
    """What the sweep prints at its end: how it went, its runs, what the review says, its links."""
    if summary.empty:
        return f"{sweep.name}, in {sweep.dir}: no run was logged; parent run {status}"
    uri = sweep.store.uri
    ended = summary["status"].value_counts()
    others = "".join(f", {ended[s]} {s.lower()}" for s in (FAILED, KILLED) if ended.get(s))
    gap = f"; {missing} missing (no run in the store: resume=latest runs them)" if missing else ""
    outcome = reviewed.outcome or f"{len(summary)} run{'' if len(summary) == 1 else 's'}"
    pages = [f.name for f in reviewed.files if f.suffix == ".html"]
    return "\n".join(
        [
            f"{sweep.name}, in {sweep.dir}: {outcome}{others}{gap}; parent run {status}",
            summary.drop(columns=["run_id", "error"]).astype(object).fillna("").to_string(index=False),
            *reviewed.lines,
            *ui.serve_command(uri, sweep.shown_uri),
            *(
                f"  {'the sweep:':<12}{ui.artifact_url(uri, sweep.experiment, sweep.run_id, page)}"
                for page in pages
            ),
            *reviewed.links,
            f"  its parent: {ui.run_url(uri, sweep.experiment, sweep.run_id)}",
        ]
    )


def _print_errors(summary: pd.DataFrame) -> list[str]:
    """The jobs that failed, each with its error, on stderr after the rest of the sweep's end;
    returns the lines printed."""
    failed = summary[summary["status"] == FAILED]
    firsts = [(str(e).strip().splitlines() or [""])[0] for e in failed["error"].fillna("")]
    if failed.empty or any(map(says_disk_full, firsts)):  # a full disk: its one line says it all
        return []
    each = [f"  #{row.job} {row.run_name}: {first}" for row, first in zip(failed.itertuples(), firsts)]
    sys.stdout.flush()
    print("\n".join([f"{_jobs(len(failed))} failed:", *each]), file=sys.stderr, flush=True)
    return each
