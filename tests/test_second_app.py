"""runner/tracking/ is generic: a second Hydra app that is not the perceptron (tests/minimum_app:
the minimum of (x - a)² over a grid of x) uses it alone and gets what the perceptron's sweeps
get. Real sweeps of it, read back through MlflowClient."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

TESTS = Path(__file__).parent
GRID = ["-m", "x=0,1,2,3,4,5"]


def minimum_app(*overrides: str, cwd: Path, wait: bool = True):
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    command = [sys.executable, "-m", "minimum_app", *overrides]
    if not wait:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture
def store(tmp_path, new_store) -> MlflowClient:
    return MlflowClient(tracking_uri=new_store(tmp_path / "outputs" / "mlflow.db"))


def parent_and_children(client: MlflowClient):
    experiment = client.get_experiment_by_name("minimum").experiment_id
    runs = client.search_runs([experiment])
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    return parent, children


def assert_reviewed(client: MlflowClient, out: str, jobs: int = 6) -> None:
    parent, children = parent_and_children(client)
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["min_f"] == 0 and parent.data.metrics["missing"] == 0
    assert parent.data.tags["best"] == "x=3"
    assert parent.data.params["sweep.axes"] == "x"
    assert "minimum.html" in [f.path for f in client.list_artifacts(parent.info.run_id)]
    assert sorted(json.loads(c.data.tags["sweep.point"])["x"] for c in children) == list(range(jobs))
    assert {c.info.status for c in children} == {"FINISHED"}
    assert len(re.findall(rf"^\[\d+/{jobs} [^]]*\] x=\d+: ", out, re.M)) == jobs  # progress lines
    assert "The minimum: f = 0 at x = 3" in out
    assert re.search(rf"in outputs/multirun/\S+: {jobs} of {jobs} runs finished; parent run FINISHED", out)
    assert f"its parent: http://127.0.0.1:5000/#/experiments/{parent.info.experiment_id}/runs/" in out


@pytest.mark.scale
def test_a_sweep_of_another_app_gets_a_parent_that_speaks_and_its_review(tmp_path, store):
    proc = minimum_app(*GRID, cwd=tmp_path)
    assert_reviewed(store, proc.stdout + proc.stderr)


@pytest.mark.scale
def test_another_apps_sweep_runs_on_the_parallel_launcher(tmp_path, store):
    proc = minimum_app(*GRID, "hydra/launcher=parallel", "hydra.launcher.n_jobs=2", cwd=tmp_path)
    assert_reviewed(store, proc.stdout + proc.stderr)


@pytest.mark.scale
def test_another_apps_killed_sweep_resumes_where_it_stopped(tmp_path, store):
    grid = ["-m", "x=range(0,30)"]
    sweep = minimum_app(*grid, "pause=0.2", cwd=tmp_path, wait=False)
    deadline, progress = time.monotonic() + 120, None
    while progress is None or len(progress.read_text().splitlines()) < 5:
        assert sweep.poll() is None and time.monotonic() < deadline, "the sweep ended too soon"
        progress = next(tmp_path.glob("outputs/multirun/*/*/progress.log"), None)
        time.sleep(0.05)
    sweep.kill()
    sweep.communicate(timeout=30)
    _, before = parent_and_children(store)
    kept = len([c for c in before if c.info.status == "FINISHED"])
    assert 5 <= kept < 30
    resumed = minimum_app(*grid, "resume=latest", cwd=tmp_path)  # pause only shows: not the sweep's identity
    out = resumed.stdout + resumed.stderr
    assert out.count(": done before, its run ") == kept
    _, children = parent_and_children(store)
    assert len({c.data.tags["runner.fingerprint"] for c in children if c.info.status == "FINISHED"}) == 30
    assert_reviewed(store, out, jobs=30)


def test_the_app_imports_nothing_of_runner_but_its_tracking_layer():
    import grimp

    graph = grimp.build_graph("minimum_app", "runner", "hydra_plugins")
    imported = {
        i
        for m in graph.find_children("minimum_app") | {"minimum_app"}
        for i in graph.find_modules_directly_imported_by(m)
    }
    assert {"runner.tracking.sweep_job", "runner.tracking.writer"} <= imported
    assert {i for i in imported if i.startswith("runner.")} - {
        i for i in imported if i.startswith("runner.tracking")
    } == set()
