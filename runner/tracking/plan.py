"""A sweep's plan, and resume: what the sweep's process tells its jobs before the first one runs.

The plan says which parent run the jobs log under (in which store and experiment) and, for a
resumed sweep, which jobs finished before and are kept. The sweep's process writes it as a small
JSON file in the sweep's folder (`write`), where a job that sees the folder finds it (`read`).

A job on a machine that does not see the folder (a Ray node, a cluster node with its own disks)
finds the same plan in the store instead (`look_up`): the parent run that runs, tagged with the
sweep's folder (`sweep_key`), a path every job is handed in its config (hydra.sweep.dir, from the
command's folder), and the jobs done before are its FINISHED children, asked for job by job.
Such a plan says so (`shared_folder` False), and the job then sends its progress line through
the store too (progress.py). `resumed` finds the sweep that `resume=` names, and `reopen`
reopens its parent run. Nothing here imports mlflow but `look_up`, `done_before` on a looked-up
plan, and `resumed`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import OmegaConf

from runner.tracking import shared_tags, stale_runs
from runner.tracking.errors import UsageError
from runner.tracking.names import (
    CLAIM_TAG,
    ERROR_TAG,
    FINGERPRINT_TAG,
    HOST_TAG,
    PARENT_TAG,
    PID_TAG,
    RUNNING,
    SWEEP_DIR_TAG,
)

if TYPE_CHECKING:
    from runner.tracking.axes import SweepSpec
    from runner.tracking.store import Store

log = logging.getLogger(__name__)

PLAN_FILE = "sweep_plan.json"


@dataclass(frozen=True)
class Plan:
    tracking_uri: str  # the store, its sqlite path made absolute
    experiment_name: str
    run_id: str  # the parent run's
    done: dict[str, str] = field(default_factory=dict)  # a resumed sweep's FINISHED runs by fingerprint
    shared_folder: bool = True  # False: found in the store; `done` is then asked of the store
    axes: list[str] | None = None  # the keys the sweep varies; None when unknown

    def parent_in(self, tracking_uri: str, experiment_name: str) -> str | None:
        """The parent run's id, if the job logs to the sweep's store and experiment."""
        same_place = (self.tracking_uri, self.experiment_name) == (tracking_uri, experiment_name)
        return self.run_id if same_place else None

    def done_before(self, fingerprint: str) -> str | None:
        """The id of a FINISHED run of this job in the sweep being resumed, if there is one."""
        if self.shared_folder:
            return self.done.get(fingerprint)
        from runner.tracking.store import open_store

        store = open_store(self.tracking_uri)
        found = store.client.search_runs(
            [store.experiment_id(self.experiment_name)],
            f"tags.`{PARENT_TAG}` = '{self.run_id}' and tags.`{FINGERPRINT_TAG}` = '{fingerprint}' "
            "and attributes.status = 'FINISHED'",
            max_results=1,
        )
        return found[0].info.run_id if found else None

    def point(self, config: Any, choices: Mapping[str, Any]) -> dict[str, Any]:
        """A job's values on the sweep's axes, as plain values: a group's choice (`choices`) by its
        name, any other key's value as composed (a list stays a list). `config`: Hydra's, or the
        app's typed object with the same attributes. A key that does not resolve (a job's broken
        config) is left out."""
        values = {}
        for key in self.axes or ():
            if key in choices:
                values[key] = choices[key]
                continue
            try:
                found = functools.reduce(getattr, key.split("."), config)
            except Exception:
                continue
            if OmegaConf.is_config(found):
                found = OmegaConf.to_container(found, resolve=True)
            values[key] = dataclasses.asdict(found) if dataclasses.is_dataclass(found) else found
        return values

    def write(self, sweep_dir: Path) -> None:
        (sweep_dir / PLAN_FILE).write_text(json.dumps(asdict(self)))


def sweep_key(cwd: str, sweep_dir: str) -> str:
    """The sweep's folder as its parent run's tag and its jobs' configs both give it: the
    command's folder joined with hydra.sweep.dir, normalised but not resolved (a job's machine
    may have no such folder, or other links)."""
    return os.path.normpath(os.path.join(cwd, sweep_dir))


def look_up(tracking_uri: str, experiment_name: str, key: str) -> Plan | None:
    """The plan of the sweep whose folder is `key`, from its parent run in the store; None when
    the store has no such sweep. The parent that runs, if one does: a folder a user names serves
    sweeps one after another (output_folder.hold), and a resumed parent started before those that
    used its folder since. Else the latest started: a job a cluster still ran after its sweep's
    process was stopped joins its KILLED parent, whose resume keeps it."""
    from runner.tracking.store import open_store

    if "'" in key:  # not in a search filter: MLflow's filter strings cannot quote it
        return None
    store = open_store(tracking_uri)
    parents = store.client.search_runs(
        [store.experiment_id(experiment_name)],
        f"tags.`{SWEEP_DIR_TAG}` = '{key}'",
        order_by=["attributes.start_time DESC"],
    )
    if not parents:
        return None
    from runner.tracking import readback

    parent = next((p for p in parents if p.info.status == RUNNING), parents[0])
    axes = [a.key for a in readback.sweep_of(parent).axes]
    return Plan(store.uri, experiment_name, parent.info.run_id, shared_folder=False, axes=axes)


def read(sweep_dir: Path) -> Plan | None:
    """The sweep's plan; None when there is none (a sweep whose callback failed)."""
    try:
        return Plan(**json.loads((sweep_dir / PLAN_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def resumed(
    store: Store,
    resume: str,
    experiment_name: str,
    spec: SweepSpec,
    shown_only: Collection[str] = (),
) -> tuple[str, str, dict[str, str]]:
    """The sweep that `resume` names (latest, or a parent run id): its id, its name, and its
    FINISHED jobs by fingerprint. Refused, in one line, for a search or other overrides: the
    same ones in any order are the same sweep, and those of keys in `shown_only` (which change
    how runs are shown, not what they are) may differ."""
    from runner.tracking import readback

    if spec.search:
        raise SystemExit(f"resume={resume}: a search (Optuna) cannot be resumed, its study lived in memory")
    try:
        sweep = readback.find_sweep(store, experiment_name, None if resume == "latest" else resume)
    except UsageError as err:
        raise SystemExit(f"resume={resume}: {err}") from None
    parent = store.client.get_run(sweep.run_id)
    asked = spec.shown_overrides  # as stored: with no credentials
    if _identity(sweep.overrides, shown_only) != _identity(asked, shown_only):
        raise SystemExit(
            f"resume={resume}: the sweep {sweep.name!r} ({sweep.run_id}) ran `{' '.join(sweep.overrides)}`, "
            f"not `{' '.join(asked)}`: give its overrides, or leave resume out for a new sweep"
        )
    if parent.info.status == RUNNING:  # its owner is alive: the store ended those of gone processes
        tags = parent.data.tags
        owner = f"process {tags.get(PID_TAG, '?')} on {tags.get(HOST_TAG, '?')}"
        raise SystemExit(
            f"resume={resume}: the sweep {sweep.name!r} ({sweep.run_id}) is still running ({owner}): "
            "let it end, or stop it, then resume it"
        )
    done = readback.finished_jobs(store, sweep)
    log.info(f"Resuming {sweep.name} ({sweep.run_id}): {len(done)} job(s) finished before are kept")
    if sweep.planned is not None and len(done) >= sweep.planned:  # said, not silent (a resume=latest
        log.info(  # after a command that logged nothing finds the sweep before it)
            f"  every one of its {sweep.planned} jobs had finished ({parent.info.status}): "
            "nothing is run again; its parent is reviewed again"
        )
    return sweep.run_id, sweep.name, done


def _identity(overrides: Iterable[str], shown_only: Collection[str]) -> frozenset[str]:
    """A sweep's overrides as what makes it that sweep: in any order, and not those of keys that
    change only how its runs are shown."""
    return frozenset(o for o in overrides if o.lstrip("+~").split("=", 1)[0] not in shown_only)


CLAIM_WAIT = 1.0  # seconds between claiming a parent and reading the claim back


def reopen(store: Store, run_id: str, key: str) -> None:
    """The resumed sweep's parent RUNNING again, owned by this process, found by its new folder
    (`key`, which its jobs look it up by).

    Two commands that resume one sweep at the same instant both found it stopped (`resumed`), and
    a store has no compare-and-set: each tags the parent with a claim of its own, waits, and reads
    it back. The later claim is the one read back by both, so the earlier command stops; a
    command whose claim came after the other had read its own back finds the parent RUNNING, and
    stops. So one command reopens it, whatever the store (as long as a claim is read back within
    CLAIM_WAIT of the other's reading)."""
    claim = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    shared_tags.set_tag(store.client, run_id, CLAIM_TAG, claim)
    time.sleep(CLAIM_WAIT)
    parent = store.client.get_run(run_id)
    if parent.info.status == RUNNING or parent.data.tags.get(CLAIM_TAG) != claim:
        raise SystemExit(
            f"resume: another command resumed the sweep ({run_id}) at the same time, and runs its jobs: "
            "this one stops, with nothing run"
        )
    store.client.update_run(run_id, status=RUNNING)
    if ERROR_TAG in store.client.get_run(run_id).data.tags:  # the stop before is no longer its story
        store.client.delete_tag(run_id, ERROR_TAG)
    for tag, value in stale_runs.owner_tags().items():  # this host too: the sweep may have run on another
        store.client.set_tag(run_id, tag, value)
    store.client.set_tag(run_id, SWEEP_DIR_TAG, key)
