"""Ctrl-C and SIGTERM at random moments of sweeps, for real, many times: to the command's process
or to its whole process group, on the default and the parallel launcher, one store for all.
Marked `scale`: minutes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

pytestmark = [pytest.mark.slow, pytest.mark.scale]

SWEEP = ["-m", "sweep=grid", "plots=false"]  # 48 jobs
TRIES = 25  # per launcher: 50 signals in all
# Deadlines ten times what was measured on an idle machine (2 cores, 8 tries per launcher): the
# "Interrupted" line came within 0.42 s of the signal and the command ended within 2.3 s. CI runs two
# of these at once beside other scale tests, where 0.84 s and 6.0 s were seen.
SAYS_WITHIN, ENDS_WITHIN = 5.0, 25.0


class Sweep:
    """The sweep's command in its own process group, its stderr lines timed as they come."""

    def __init__(self, cwd: Path, launcher: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "runner", *SWEEP, f"hydra/launcher={launcher}"],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.errors: list[tuple[float, str]] = []
        self.out: list[str] = []
        self.readers = [
            threading.Thread(target=self._read_errors),
            threading.Thread(target=lambda: self.out.extend(self.process.stdout)),
        ]
        for reader in self.readers:
            reader.start()

    def _read_errors(self) -> None:
        for line in self.process.stderr:
            self.errors.append((time.monotonic(), line.rstrip("\n")))

    def wait(self) -> float:
        """Seconds until the command ended."""
        start = time.monotonic()
        try:
            self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
        for reader in self.readers:
            reader.join()
        return time.monotonic() - start


def _statuses(client: MlflowClient) -> list[tuple[str, str, bool]]:
    experiment = client.get_experiment_by_name("perceptron")
    if experiment is None:
        return []
    runs = client.search_runs([experiment.experiment_id], max_results=5000)
    return [(r.info.run_id, r.info.status, MLFLOW_PARENT_RUN_ID not in r.data.tags) for r in runs]


@pytest.mark.parametrize("launcher", ["cached", "parallel"])
def test_a_signal_at_any_moment_of_a_sweep_stops_it_at_once_and_leaves_nothing_running(tmp_path, launcher):
    client = MlflowClient(f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}")
    whole = Sweep(tmp_path, launcher)  # how long a sweep lives here, start to end
    lifetime = whole.wait()
    assert whole.process.returncode == 0, whole.errors
    rng = random.Random(launcher)
    seen = {run_id for run_id, _, _ in _statuses(client)}
    for attempt in range(TRIES):
        sweep = Sweep(tmp_path, launcher)
        time.sleep(rng.uniform(0.2, lifetime))
        number, group = rng.choice([signal.SIGINT, signal.SIGTERM]), rng.random() < 0.5
        sent = time.monotonic()
        try:
            (os.killpg if group else os.kill)(sweep.process.pid, number)
        except ProcessLookupError:
            pass
        took = sweep.wait()
        what = f"try {attempt}: {signal.Signals(number).name}{' to the group' if group else ''}"
        said = [(at - sent, line) for at, line in sweep.errors]
        finished_first = any("its parent: " in line for line in sweep.out)  # its end came before
        if not finished_first:
            interrupted = [at for at, line in said if line.startswith("Interrupted (SIG")]
            assert interrupted and interrupted[0] < SAYS_WITHIN, (what, said)
            assert sweep.process.returncode == -number, what  # killed by its signal (issue 30, item 22)
        assert took < ENDS_WITHIN, (what, took, said)
        assert not [line for _, line in said if "could not" in line or "Traceback" in line], (what, said)
        runs = [r for r in _statuses(client) if r[0] not in seen]
        assert all(status != "RUNNING" for _, status, _ in runs), (what, runs)
        parents = [status for _, status, is_parent in runs if is_parent]
        if not finished_first and parents:  # a signal before the sweep's parent opened leaves none
            assert parents == ["KILLED"], (what, parents)
        seen.update(run_id for run_id, _, _ in runs)
