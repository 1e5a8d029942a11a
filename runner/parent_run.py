"""A sweep's parent run, from its start to its end: the run that groups the sweep's children.

`open_sweep` creates it, named and with params after what the sweep varies (or reopens the one
that `resume=` names), and writes the plan its jobs read (runner/plan.py). `close` reads the
children back (runner/readback.py), reviews them (runner/review.py: tables and pictures pivoted
on the axes), gives the parent its metrics and description, saves the sweep's ready views for
the MLflow UI (runner/views.py), ends it and says where to look (runner/tracking/ui.py).
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
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from runner import plan
from runner.axes import Axis, Layout, layout, sweep_name
from runner.console import count
from runner.review import Review, review
from runner.run import epoch_images
from runner.sweep_axes import is_search, planned_jobs, sweep_axes
from runner.tracking import signals, sqlite_store, stale_runs, ui
from runner.tracking.credentials import redacted
from runner.tracking.errors import UsageError, says_disk_full
from runner.tracking.names import (
    AXES_PARAM,
    AXIS_PARAM,
    BEST_TAG,
    FAILED,
    FINISHED,
    JOBS_PARAM,
    KILLED,
    LAUNCHER_PARAM,
    MISSING_METRIC,
    NOTE_TAG,
    OVERRIDES_TAG,
    RUNNING,
    SEARCH_PARAM,
    SWEEP_DIR_TAG,
    SWEEPER_PARAM,
)
from runner.tracking.store import Store, open_store

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
    images: bool  # whether its jobs log their decision line epoch by epoch
    overrides: list[str]  # the command line's, resume= aside: what made the sweep


def open_sweep(config: DictConfig, own: Callable[[OpenSweep], None]) -> OpenSweep:
    """Start the sweep's parent run (or reopen the one `resume` names) and write its plan. The
    parent is handed to `own` as soon as it runs, before a Ctrl-C can stop the command: a Ctrl-C
    in between once left it RUNNING, with no one to end it."""
    shown_uri = config.mlflow.tracking_uri
    store = open_store(sqlite_store.absolute(shown_uri, Path.cwd()))
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
    images = epoch_images(config, in_sweep=True)
    resume, done = config.get("resume"), {}
    if resume:
        run_id, run_name, done = plan.resumed(store, resume, name, overrides, search)
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
        tags = {SWEEP_DIR_TAG: key, OVERRIDES_TAG: redacted(" ".join(overrides))}
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
            images,
            overrides,
        )
        own(opened)
    plan.Plan(store.uri, name, run_id, done, axes=[a.key for a in axes]).write(sweep_dir)
    return opened


def store_progress(sweep: OpenSweep) -> Callable[[], list[str]] | None:
    """What reads the progress lines that jobs which do not see the sweep's folder send through
    the store (runner/job.py): each call returns the lines new since the last. None for a local
    sqlite store, whose jobs all see the folder beside it."""
    if sqlite_store.sqlite_path(sweep.store.uri) is not None:
        return None
    from runner import readback

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
    from runner import readback
    from runner.tracking import writer

    store, shape = sweep.store, layout(sweep.axes)
    try:
        with store.ending(sweep.run_id, status):  # from its first step: a Ctrl-C anywhere ends it KILLED
            sqlite_store.free_reserve(store.uri)  # room to end the runs, should the jobs have filled the disk
            if status != FINISHED:
                try:
                    stale_runs.end_left_running(store.client, sweep.experiment, sweep.run_id, status)
                except Exception:  # the store may be what failed: its parent is still ended
                    pass
            found = readback.Sweep(
                sweep.experiment, sweep.run_id, sweep.name, status, tuple(sweep.axes), sweep.search, None
            )
            summary = readback.sweep_summary(store, found)
            missing = max((sweep.planned or 0) - len(summary), 0)
            reviewed = review(
                summary, sweep.axes, shape, sweep.search, sweep.name, sweep.dir, _commands(sweep)
            )
            reviewed.metrics[MISSING_METRIC] = float(missing)
            tags = {NOTE_TAG: reviewed.note, BEST_TAG: reviewed.best}
            writer.finish_sweep(store, sweep.run_id, reviewed.metrics, tags, summary, reviewed.files)
            cut = _save_views(sweep, shape, summary)
            ended = FAILED if missing and status == FINISHED else status
            log.info(_console(sweep, ended, summary, reviewed, cut, missing))
            shown = _print_errors(summary) if list_errors else []
            if ended != status:
                raise MissingRuns(
                    f"{count(missing, 'job')} of {sweep.planned} have no run in {redacted(sweep.shown_uri)}"
                )
    except MissingRuns as err:  # the parent ended FAILED, saying so; the command ends non-zero
        raise SystemExit(str(err)) from None
    return shown


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


def _save_views(sweep: OpenSweep, shape: Layout, summary: pd.DataFrame) -> tuple[str, list[Any]] | None:
    """Save the sweep's views for the MLflow UI, and a pair per part when the UI cannot load
    the sweep whole; returns the axis it was cut on, and the axis's values."""
    from runner import views
    from runner.tracking import writer

    finished = summary[summary["status"] == FINISHED]
    counted = finished.groupby(shape.cell_keys, sort=False).size() if shape.cell_keys else pd.Series()
    cells = [c if isinstance(c, tuple) else (c,) for c in counted.index]
    args = (sweep.run_id, sweep.axes, shape, cells, len(summary), sweep.search)
    named = views.named(views.sweep_views(*args, images=sweep.images), sweep.name)
    cut = views.parts(shape.cell_keys, list(zip(cells, counted))) if cells else None
    for number, value in enumerate(cut[1] if cut else []):
        part = views.sweep_views(*args, part=(number, cut[0], value), images=sweep.images)
        named.update(views.named(part, f"{sweep.name}, {cut[0]}={value}"))
    writer.save_experiment_tags(sweep.store, sweep.experiment, views.tags(named))
    return cut


def _console(
    sweep: OpenSweep,
    status: str,
    summary: pd.DataFrame,
    reviewed: Review,
    cut: tuple[str, list[Any]] | None,
    missing: int,
) -> str:
    """What the sweep prints at its end: how it went, its runs, its best cell, which setting
    mattered, its links."""
    from runner import views

    runs = len(summary)
    if not runs:
        return f"{sweep.name}, in {sweep.dir}: no run was logged; parent run {status}"
    converged = int(
        summary.loc[summary["status"] == FINISHED, "converged"].fillna(0).sum()
    )  # not a FAILED run's
    uri = sweep.store.uri

    def links(key: str, label: str) -> list[str]:
        table, charts = views.keys(key)
        return [
            f"  {label:<12}{ui.view_url(uri, sweep.experiment, table)}",
            f"  {'its charts:' if label == 'its runs:' else '':<12}"
            f"{ui.view_url(uri, sweep.experiment, charts, charts=True)}",
        ]

    pages = [f.name for f in reviewed.files if f.suffix == ".html"]

    ended = summary["status"].value_counts()
    others = "".join(f", {ended[s]} {s.lower()}" for s in (FAILED, KILLED) if ended.get(s))
    gap = f"; {missing} missing (no run in the store: resume=latest runs them)" if missing else ""
    lines = [
        f"{sweep.name}, in {sweep.dir}: {converged} of {count(runs, 'run')} converged{others}{gap}; "
        f"parent run {status}",
        summary.drop(columns=["run_id", "error"]).astype(object).fillna("").to_string(index=False),
        *([reviewed.answer] if reviewed.answer else []),
        *([f"Best: {reviewed.best}"] if reviewed.best else []),
        *([reviewed.importance] if reviewed.importance else []),
        *ui.serve_command(uri, sweep.shown_uri),
        *(
            f"  {'the sweep:':<12}{ui.artifact_url(uri, sweep.experiment, sweep.run_id, page)}"
            for page in pages
        ),
        *links(sweep.run_id, "its runs:"),
    ]
    if cut:
        lines.append(
            f"  (the UI loads {views.UI_PAGE} runs at a time: each {cut[0]} on its own, all of it loaded)"
        )
        for number, value in enumerate(cut[1]):
            lines += links(f"{sweep.run_id}-{number}", f"{cut[0]}={value}:")
    lines.append(f"  its parent: {ui.run_url(uri, sweep.experiment, sweep.run_id)}")
    return "\n".join(lines)


def _print_errors(summary: pd.DataFrame) -> list[str]:
    """The jobs that failed, each with its error, on stderr after the rest of the sweep's end;
    returns the lines printed."""
    failed = summary[summary["status"] == FAILED]
    firsts = [(str(e).strip().splitlines() or [""])[0] for e in failed["error"].fillna("")]
    if failed.empty or any(map(says_disk_full, firsts)):  # a full disk: its one line says it all
        return []
    each = [f"  #{row.job} {row.run_name}: {first}" for row, first in zip(failed.itertuples(), firsts)]
    sys.stdout.flush()
    print("\n".join([f"{count(len(failed), 'job')} failed:", *each]), file=sys.stderr, flush=True)
    return each
