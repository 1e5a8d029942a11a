"""A sweep's parent run, opened: the run that groups the sweep's children.

`open_sweep` creates it, named and with params after what the sweep is (axes.py's SweepSpec),
or reopens the one that `resume=` names, and writes the plan its jobs read (plan.py). Its end
is closing.py's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

from runner.tracking import plan, signals
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
    store.reserve()
    sweep_dir = Path(config.hydra.sweep.dir)
    key = plan.sweep_key(config.hydra.runtime.cwd, config.hydra.sweep.dir)
    spec = SweepSpec.of(config)
    resume, done = config.get("resume"), {}
    if resume:
        run_id, run_name, done = plan.resumed(store, resume, name, spec, app.shown_only)
    else:
        run_name = spec.name(time.strftime("%H:%M:%S"))
    sweep_dir.mkdir(parents=True, exist_ok=True)  # where its close writes its review
    with signals.held():  # a Ctrl-C from here on comes when `own` can end the parent
        if resume:
            plan.reopen(store, run_id, key)
        else:
            run_id = _start(store, experiment, run_name, {SWEEP_DIR_TAG: key, **spec.tags()}, spec.params())
        opened = OpenSweep(store, shown_uri, experiment, run_id, run_name, sweep_dir, spec, time.time(), app)
        own(opened)
    plan.Plan(store.uri, name, run_id, done, axes=[a.key for a in spec.axes]).write(sweep_dir)
    return opened


def _start(store: Store, experiment: str, name: str, tags: dict[str, str], params: dict[str, str]) -> str:
    from runner.tracking import writer

    return writer.start_sweep(store, experiment, name, tags, params)
