"""A sweep's parent run, opened: the run that groups the sweep's children.

`prepare` says what it will be, named and with params after what the sweep is (axes.py's
SweepSpec), or which sweep `resume=` names; `start` creates it, or reopens that one, and writes
the plan its jobs read (plan.py). Its end is closing.py's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock
from omegaconf import DictConfig

from runner.tracking import output_folder, plan
from runner.tracking.axes import SweepSpec
from runner.tracking.errors import UsageError
from runner.tracking.names import SWEEP_DIR_TAG
from runner.tracking.store import Store, open_store
from runner.tracking.sweep_app import SweepApp


@dataclass
class OpenSweep:
    """The parent run of the sweep in progress, and what its end needs to know."""

    store: Store
    shown_uri: str  # the store as the user gave it
    experiment: str
    run_id: str
    name: str
    dir: Path
    spec: SweepSpec
    started: float  # time.time()
    app: SweepApp
    folder: FileLock  # its folder, held while it runs (output_folder.hold)


@dataclass(frozen=True)
class Opening:
    """A sweep's parent about to start (or be reopened): all that could refuse it is behind it."""

    store: Store
    shown_uri: str
    experiment: str
    experiment_name: str
    key: str  # the sweep's folder, as its parent is tagged with it (plan.sweep_key)
    dir: Path
    spec: SweepSpec
    app: SweepApp
    resumed: str | None  # the parent run id of the sweep resumed
    run_name: str
    done: dict[str, str]  # a resumed sweep's FINISHED jobs, by fingerprint
    folder: FileLock


def prepare(config: DictConfig, app: SweepApp) -> Opening:
    """What the sweep's parent will be: its store, name and params, or the sweep that `resume`
    names and its jobs done. A SystemExit in one line where it cannot be (a store that cannot be
    used, a resume refused)."""
    shown_uri = config.mlflow.tracking_uri
    store = open_store(shown_uri, Path.cwd())
    name = config.mlflow.experiment_name
    try:
        experiment = store.experiment_id(name)
    except UsageError as err:  # no job could log: stop here, not in every job (Hydra would
        raise SystemExit(str(err)) from None  # only warn of a callback's Exception)
    store.reserve()
    key = plan.sweep_key(config.hydra.runtime.cwd, config.hydra.sweep.dir)
    spec = SweepSpec.of(config)
    resume, resumed, done = config.get("resume"), None, {}
    if resume:
        resumed, run_name, done = plan.resumed(store, resume, name, spec, app.shown_only)
    else:
        run_name = spec.name(time.strftime("%H:%M:%S"))
    sweep_dir = Path(config.hydra.sweep.dir)
    folder = output_folder.hold(sweep_dir)  # made: where its close writes its review
    return Opening(
        store, shown_uri, experiment, name, key, sweep_dir, spec, app, resumed, run_name, done, folder
    )


def start(opening: Opening) -> OpenSweep:
    """Start the sweep's parent run (or reopen the one resumed) and write the plan its jobs read.
    Called with signals held (signals.held: the callback's), so that a Ctrl-C comes once the
    parent is someone's to end: one in between once left it RUNNING, with no one to end it."""
    o = opening
    if o.resumed:
        plan.reopen(o.store, o.resumed, o.key)
        run_id = o.resumed
    else:
        run_id = _start(
            o.store, o.experiment, o.run_name, {SWEEP_DIR_TAG: o.key, **o.spec.tags()}, o.spec.params()
        )
    plan.Plan(o.store.uri, o.experiment_name, run_id, o.done, axes=[a.key for a in o.spec.axes]).write(o.dir)
    return OpenSweep(
        o.store, o.shown_uri, o.experiment, run_id, o.run_name, o.dir, o.spec, time.time(), o.app, o.folder
    )


def _start(store: Store, experiment: str, name: str, tags: dict[str, str], params: dict[str, str]) -> str:
    from runner.tracking import writer

    return writer.start_sweep(store, experiment, name, tags, params)
