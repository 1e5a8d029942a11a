"""A sweep's parent run, closed: its children read back (readback.py) and handed to the app's
review (sweep_app.py), what the review made given to the parent (files, metrics, description)
and its experiment (tags), the parent ended, and where to look said (ui.py).
"""

from __future__ import annotations

import logging
import shlex
import sys

import pandas as pd

from runner.tracking import readback, ui
from runner.tracking.credentials import redacted
from runner.tracking.errors import named, says_disk_full
from runner.tracking.names import ERROR_TAG, FAILED, FINISHED, KILLED, MISSING_METRIC
from runner.tracking.parent import OpenSweep
from runner.tracking.sweep_app import ClosedSweep, Reviewed

log = logging.getLogger(__name__)


def close(
    sweep: OpenSweep, status: str, list_errors: bool = True, error: BaseException | None = None
) -> list[str]:
    """Review the children logged so far, give the parent its results (and the `error` that
    stopped the sweep, if one did), end it with `status`, and print where to look, then (with
    `list_errors`) the failed jobs' errors; returns those errors."""
    from runner.tracking import writer

    store, spec = sweep.store, sweep.spec
    try:
        with store.ending(sweep.run_id, status):  # from its first step: a Ctrl-C anywhere ends it KILLED
            store.free_reserve()  # room to end the runs, should the jobs have filled the disk
            try:  # every job has returned: a child still RUNNING lost its end (a store that went away)
                done = status == FINISHED
                store.end_left_running(sweep.experiment, sweep.run_id, FAILED if done else status, done)
            except Exception:  # the store may be what failed: its parent is still ended
                pass
            found = readback.Sweep(
                sweep.experiment, sweep.run_id, sweep.name, status, spec.axes, spec.search, None
            )
            summary = readback.sweep_summary(store, found, sweep.app.columns)
            missing = max((spec.jobs or 0) - len(summary), 0)
            closed = ClosedSweep(
                store,
                sweep.experiment,
                sweep.run_id,
                sweep.name,
                sweep.dir,
                spec.axes,
                spec.search,
                summary,
                _commands(sweep),
            )
            reviewed = sweep.app.review(closed)
            metrics = {**reviewed.metrics, MISSING_METRIC: float(missing)}
            tags = {**reviewed.tags, **({ERROR_TAG: redacted(named(error))} if error is not None else {})}
            writer.finish_sweep(store, sweep.run_id, metrics, tags, summary, reviewed.files)
            if reviewed.experiment_tags:
                writer.save_experiment_tags(store, sweep.experiment, reviewed.experiment_tags)
            ended = FAILED if missing and status == FINISHED else status
            log.info(_console(sweep, ended, summary, reviewed, missing))
            shown = _print_errors(summary) if list_errors else []
            if ended != status:
                raise MissingRuns(
                    f"{_jobs(missing)} of {spec.jobs} have no run in {redacted(sweep.shown_uri)}"
                )
    except MissingRuns as err:  # the parent ended FAILED, saying so; the command ends non-zero
        raise SystemExit(str(err)) from None
    return shown


def _jobs(n: int) -> str:
    return f"{n} job{'' if n == 1 else 's'}"


def _commands(sweep: OpenSweep) -> dict[str, str]:
    """The command that made the sweep, and the one that runs its missing jobs in the same parent."""
    made = redacted(shlex.join(["python", "-m", "runner", "-m", *sweep.spec.overrides]))
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
