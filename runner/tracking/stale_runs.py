"""Runs whose process is gone: who owns a RUNNING run, and the closing of those left behind.

Every run the runner creates is tagged with the host and process that own it. A RUNNING run
whose process is gone from this host was killed (SIGKILL, out of memory): the next command that
opens its experiment ends it KILLED, and a sweep that ends closes the children its workers left.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING

from runner.tracking import shared_tags
from runner.tracking.names import ERROR_TAG, HOST_TAG, KILLED, PARENT_TAG, PID_TAG, RUNNING

if TYPE_CHECKING:
    from mlflow import MlflowClient


def owner_tags() -> dict[str, str]:
    """The tags that say which process owns a new run."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def close_stale(client: MlflowClient, experiment: str) -> list[str]:
    """End KILLED the runs left RUNNING by a process of this host that is gone; returns their
    names, for the caller to say so (message)."""
    host = socket.gethostname()
    query = f"attributes.status = '{RUNNING}' AND tags.`{HOST_TAG}` = '{host}'"
    closed = []
    for run in client.search_runs([experiment], query, max_results=1000):
        pid = int(run.data.tags.get(PID_TAG, "0"))
        if pid and not _alive(pid):
            why = f"its process ({pid} on {host}) ended without ending it"
            shared_tags.set_tag(client, run.info.run_id, ERROR_TAG, why)
            client.set_terminated(run.info.run_id, KILLED)
            closed.append(run.info.run_name)
    return closed


LOST_END = "its job returned, but its run was never ended (the store went away as it ended?)"


def end_left_running(
    client: MlflowClient, experiment: str, parent_run_id: str, status: str, every_job_returned: bool = False
) -> None:
    """End `status` the sweep's children left RUNNING (a job whose own ending failed: a full
    disk, a store that went away and came back): those of this process, or of one of this host
    that has ended (a parallel launcher's worker); once `every_job_returned`, any, on any host,
    each saying why."""
    query = f"attributes.status = '{RUNNING}' AND tags.`{PARENT_TAG}` = '{parent_run_id}'"
    if not every_job_returned:
        query += f" AND tags.`{HOST_TAG}` = '{socket.gethostname()}'"
    for run in client.search_runs([experiment], query, max_results=1000):
        pid = int(run.data.tags.get(PID_TAG, "0"))
        gone = pid != os.getpid() and pid and not _alive(pid)
        if every_job_returned or pid == os.getpid() or gone:
            if every_job_returned or gone:
                why = LOST_END if every_job_returned else f"its process ({pid}) ended without ending it"
                shared_tags.set_tag(client, run.info.run_id, ERROR_TAG, why)
            client.set_terminated(run.info.run_id, status)


def message(closed: list[str]) -> str:
    return f"Ended KILLED {len(closed)} run(s) whose process is gone: {', '.join(closed)}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
