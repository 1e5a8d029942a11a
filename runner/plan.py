"""A sweep's plan, and resume: what the sweep's process tells its jobs before the first one runs.

The plan says which parent run the jobs log under (in which store and experiment) and, for a
resumed sweep, which jobs finished before and are kept. The sweep's process writes it as a small
JSON file in the sweep's folder (`write`), where every job finds it (`read`), whatever launcher
runs the job and whatever process. `reopen` finds the sweep that `resume=` names and reopens its
parent run. Nothing here imports mlflow but `reopen`, once a sweep is resumed.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from runner.errors import UsageError
from runner.names import OVERRIDES_TAG, PID_TAG

if TYPE_CHECKING:
    from runner.store import Store

log = logging.getLogger(__name__)

PLAN_FILE = "sweep_plan.json"


@dataclass(frozen=True)
class Plan:
    tracking_uri: str  # the store, its sqlite path made absolute
    experiment_name: str
    run_id: str  # the parent run's
    done: dict[str, str] = field(default_factory=dict)  # a resumed sweep's FINISHED runs by fingerprint

    def parent_in(self, tracking_uri: str, experiment_name: str) -> str | None:
        """The parent run's id, if the job logs to the sweep's store and experiment."""
        same_place = (self.tracking_uri, self.experiment_name) == (tracking_uri, experiment_name)
        return self.run_id if same_place else None

    def done_before(self, fingerprint: str) -> str | None:
        """The id of a FINISHED run of this job in the sweep being resumed, if there is one."""
        return self.done.get(fingerprint)

    def write(self, sweep_dir: Path) -> None:
        (sweep_dir / PLAN_FILE).write_text(json.dumps(asdict(self)))


def read(sweep_dir: Path) -> Plan | None:
    """The sweep's plan; None when there is none (a sweep whose callback failed)."""
    try:
        return Plan(**json.loads((sweep_dir / PLAN_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def reopen(
    store: Store, resume: str, experiment_name: str, overrides: list[str], search: bool
) -> tuple[str, str, dict[str, str]]:
    """The sweep that `resume` names (latest, or a parent run id), reopened: its id, its name,
    and its FINISHED jobs by fingerprint. Refused, in one line, for a search or other overrides."""
    from runner import readback

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
