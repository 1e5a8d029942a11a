"""Sweeps at scale, for real: parallel launchers (joblib, Ray), an HTTP tracking server with
sqlite or PostgreSQL behind it, and the Optuna preset. Marked `scale`: minutes, not seconds."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import services
from conftest import run_cli
from mlflow import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from services import free_port

pytestmark = [pytest.mark.slow, pytest.mark.scale]

GRID_200 = ["gate=or,and,nand,nor", "lr=0.1,0.5,1,2,5", "seed=range(0,10)"]  # 4 × 5 × 10 jobs
# These tests are about the store under load, not the pictures nor Hydra's copy of each config.
LEAN = ["plots=false", "hydra.output_subdir=null"]


@pytest.fixture
def mlflow_server(tmp_path):
    """A real `mlflow server` on loopback, with the given backend store; yields its URL."""
    with contextlib.ExitStack() as servers:
        yield lambda backend_uri: servers.enter_context(services.mlflow_server(tmp_path, backend_uri)).url


@pytest.fixture
def postgres():
    """A PostgreSQL server of its own, on loopback, from the system's binaries; yields its URI."""
    bin_dir = services.postgres_binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql)")
    with services.postgres(bin_dir) as uri:
        yield uri


def check_sweep(uri: str, jobs: int, output: str) -> tuple:
    """Exactly `jobs` FINISHED child runs under one FINISHED parent, one per job number, each
    with its metrics complete: one `errors` value per epoch."""
    assert "database is locked" not in output and "migration" not in output.lower()
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("perceptron")
    runs = client.search_runs([experiment.experiment_id], max_results=5000)
    parents = [r for r in runs if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    children = [r for r in runs if MLFLOW_PARENT_RUN_ID in r.data.tags]
    assert [p.info.status for p in parents] == ["FINISHED"]
    assert {r.data.tags[MLFLOW_PARENT_RUN_ID] for r in children} == {parents[0].info.run_id}
    assert sorted(int(r.data.tags["hydra.job.num"]) for r in children) == list(range(jobs))
    assert {r.info.status for r in children} == {"FINISHED"}
    for run in children:
        epochs = int(run.data.metrics["epochs"])
        assert {"epochs", "converged", "updates", "errors"} <= set(run.data.metrics)
        assert [m.step for m in client.get_metric_history(run.info.run_id, "errors")] == list(
            range(1, epochs + 1)
        )
    return parents[0], children


def test_200_jobs_in_4_joblib_workers_on_a_fresh_sqlite_store(tmp_path):
    proc = run_cli(
        "-m", *GRID_200, *LEAN, "hydra/launcher=joblib", "hydra.launcher.n_jobs=4", cwd=tmp_path, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    check_sweep(f"sqlite:///{tmp_path}/outputs/mlflow.db", 200, proc.stdout + proc.stderr)
    assert "[200/200 " in proc.stdout


def test_200_jobs_on_the_parallel_launcher_with_plots_and_configs(tmp_path):
    """The sweep's process and a forked worker: every run whole (its PNGs and Hydra's config
    among its artifacts), each job's own config in its folder, one sweep folder."""
    proc = run_cli(
        "-m", *GRID_200, "hydra/launcher=parallel", "hydra.launcher.n_jobs=2", cwd=tmp_path, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    uri = f"sqlite:///{tmp_path}/outputs/mlflow.db"
    _, children = check_sweep(uri, 200, proc.stdout + proc.stderr)
    assert len({r.data.tags["runner.pid"] for r in children}) == 2  # both processes ran jobs
    client = MlflowClient(uri)
    for run in children[::37]:
        paths = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"trace.csv", "trace.json", "gate.csv", "hydra", "plots"} <= paths
        assert {a.path for a in client.list_artifacts(run.info.run_id, "plots")} == {
            "plots/errors.png",
            "plots/decision_lines.png",
        }
    (sweep_dir,) = tmp_path.glob("outputs/multirun/*/*")
    for run in children[::37]:
        job = sweep_dir / run.data.tags["hydra.job.num"]
        overrides = (job / ".hydra" / "overrides.yaml").read_text()
        assert f"- gate={run.data.params['gate']}" in overrides
        assert f"num: {run.data.tags['hydra.job.num']}\n" in (job / ".hydra" / "hydra.yaml").read_text()
    assert "[200/200 " in proc.stdout and "Traceback" not in proc.stderr


@contextlib.contextmanager
def ray_nodes(head_cpus: int = 1, worker_prefix: tuple[str, ...] = ()):
    """A Ray cluster on this machine, as one is started by hand: `ray start --head`, and a second
    node joined to it with `ray start --address=...` (run after `worker_prefix`, a command that
    execs it in another namespace, say), one CPU each unless told. Yields the head's address
    and the environment that reaches it: Ray (2.59 and later) turns token authentication on
    once a token exists, so the cluster gets a token of its own. Its processes are told apart
    from any other Ray's by their temp folder, and stopped."""
    ray = Path(sys.executable).with_name("ray")
    temp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths are limited
    (temp / "token").write_text(secrets.token_hex(32))
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(temp / "token")}
    address = f"127.0.0.1:{free_port()}"
    common = ["--node-ip-address=127.0.0.1", "--disable-usage-stats"]
    head = ["--head", f"--port={address.split(':')[1]}", f"--temp-dir={temp}", "--include-dashboard=false"]
    try:
        subprocess.run(
            [str(ray), "start", *head, f"--num-cpus={head_cpus}", *common],
            env=env,
            check=True,
            capture_output=True,
            timeout=180,
        )
        subprocess.run(
            [*worker_prefix, str(ray), "start", f"--address={address}", "--num-cpus=1", *common],
            env=env,
            check=True,
            capture_output=True,
            timeout=180,
        )
        yield address, {k: env[k] for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN_PATH")}
    finally:
        for status in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                if str(temp).encode() in status.read_bytes():
                    os.kill(int(status.parent.name), 9)
            except (OSError, ValueError):
                pass
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture
def ray_cluster():
    with ray_nodes() as cluster:
        yield cluster


def test_a_sweep_on_a_ray_cluster_started_by_hand(tmp_path, ray_cluster):
    """hydra/launcher=ray_cluster joins a running cluster by its address: every run reaches the
    store (sqlite, on this machine, which both nodes share)."""
    address, auth = ray_cluster
    proc = run_cli(
        "-m",
        "gate=or,and,nand,nor",
        "lr=0.5,1",
        "seed=0,1",
        *LEAN,
        "hydra/launcher=ray_cluster",
        f"hydra.launcher.ray.init.address={address}",
        cwd=tmp_path,
        env=auth,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    check_sweep(f"sqlite:///{tmp_path}/outputs/mlflow.db", 16, proc.stdout + proc.stderr)
    assert "[16/16 " in proc.stdout


def test_200_jobs_in_4_joblib_workers_through_an_http_tracking_server(tmp_path, mlflow_server):
    url = mlflow_server(f"sqlite:///{tmp_path}/server.db")
    proc = run_cli(
        "-m",
        *GRID_200,
        *LEAN,
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=4",
        cwd=tmp_path,
        env={"MLFLOW_TRACKING_URI": url},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    parent, _ = check_sweep(url, 200, proc.stdout + proc.stderr)
    assert f"{url}/#/experiments/" in proc.stdout  # the links point at the server, not a local UI
    assert not (tmp_path / "outputs" / "mlflow.db").exists()
    artifacts = {a.path for a in MlflowClient(url).list_artifacts(parent.info.run_id)}
    assert {"summary.csv", "pivots.md", "heatmap_epochs.png"} <= artifacts


def test_a_sweep_through_a_server_on_postgresql(tmp_path, mlflow_server, postgres):
    url = mlflow_server(postgres)
    proc = run_cli(
        "-m", "gate=or,xor", "seed=0,1", cwd=tmp_path, env={"MLFLOW_TRACKING_URI": url}, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    _, children = check_sweep(url, 4, proc.stdout + proc.stderr)
    plots = {a.path for a in MlflowClient(url).list_artifacts(children[0].info.run_id, "plots")}
    assert plots == {"plots/errors.png", "plots/decision_lines.png"}


def test_the_same_job_writes_the_same_trace_on_every_launcher(tmp_path, new_store):
    """Hydra's basic launcher, this project's cached one, joblib and a local Ray instance (loopback
    only): byte-identical trace.csv files."""
    sweep = ["-m", "gate=or,xor", "order=shuffle", "max_epochs=5", *LEAN]
    traces = {}
    for launcher in ("basic", "cached", "parallel", "joblib", "ray_local"):
        folder = tmp_path / launcher
        uri = new_store(folder / "outputs" / "mlflow.db")
        proc = run_cli(*sweep, f"hydra/launcher={launcher}", cwd=folder, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        check_sweep(uri, 2, proc.stdout + proc.stderr)
        traces[launcher] = [p.read_bytes() for p in sorted(folder.glob("outputs/multirun/*/*/*/trace.csv"))]
    assert len(traces["basic"]) == 2
    assert (
        traces["cached"] == traces["parallel"] == traces["joblib"] == traces["ray_local"] == traces["basic"]
    )


def test_the_optuna_preset_minimises_epochs_with_a_run_per_trial(tmp_path):
    proc = run_cli("-m", "sweep=optuna", "hydra.sweeper.n_trials=5", "gate=nand", *LEAN, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _, children = check_sweep(f"sqlite:///{tmp_path}/outputs/mlflow.db", 5, proc.stdout + proc.stderr)
    objectives = [r.data.metrics["epochs"] if r.data.metrics["converged"] else 101 for r in children]
    lrs = {r.data.params["lr"] for r in children}
    assert len(lrs) == 5 and {r.data.params["gate"] for r in children} == {"nand"}
    results = next(tmp_path.glob("outputs/multirun/*/*/optimization_results.yaml")).read_text()
    assert f"best_value: {min(objectives)}" in results
    assert "[5/5 " in proc.stdout
    # a search is reviewed as one: its trials best first, and the epochs against each searched value
    parent, _ = check_sweep(f"sqlite:///{tmp_path}/outputs/mlflow.db", 5, "")
    assert parent.info.run_name.startswith("optuna: lr×init.low×init.high, 5 trials, ")
    assert parent.data.params["sweep.lr"] == "tag(log, interval(0.01, 10))"
    assert parent.data.params["sweep.search"] == "true"
    client = MlflowClient(f"sqlite:///{tmp_path}/outputs/mlflow.db")
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"best_trials.csv", "best_trials.md", "objective.png"} <= artifacts
    assert not any(a.startswith(("pivot", "heatmap")) for a in artifacts)
    ranked = pd.read_csv(client.download_artifacts(parent.info.run_id, "best_trials.csv", str(tmp_path)))
    assert ranked["converged"].is_monotonic_decreasing and len(ranked) == 5
    assert parent.data.metrics["best_epochs"] == min(objectives)
    assert "## best trials first" in parent.data.tags["mlflow.note.content"]


@pytest.mark.parametrize("launcher", ["cached", "parallel", "joblib", "ray_local"])
def test_a_bad_point_fails_alone_and_the_console_reads_the_same_on_every_launcher(
    tmp_path, new_store, launcher
):
    """The bad job's error crosses the process boundary (it pickles); the others all run; the
    progress lines come in order, all of them, before the summary, with no colour codes, no
    launcher's lines of its own; the job's error comes once, at the end."""
    uri = new_store(tmp_path / "outputs" / "mlflow.db")
    proc = run_cli("-m", "lr=1,-1,2,3", *LEAN, f"hydra/launcher={launcher}", cwd=tmp_path, timeout=300)
    assert proc.returncode != 0
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("perceptron").experiment_id])
    (parent,) = [r for r in runs if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    children = {r.data.params["lr"]: r for r in runs if r is not parent}
    assert parent.info.status == "FAILED" and parent.data.metrics["runs"] == 4
    assert {lr: r.info.status for lr, r in children.items()} == {
        "1.0": "FINISHED",
        "-1": "FAILED",
        "2.0": "FINISHED",
        "3.0": "FINISHED",
    }
    assert children["-1"].data.tags["error"].startswith("ConfigError: Invalid config: lr=-1.0 is not allowed")
    out = proc.stdout
    assert "\x1b" not in out + proc.stderr
    assert re.findall(r"^\[(\d)/4 ", out, re.M) == ["1", "2", "3", "4"]
    assert out.rindex("] or lr=") < out.index("sweep: lr, 4 runs, ")
    assert "[HYDRA]" not in out + proc.stderr and "Error executing job" not in out + proc.stderr
    assert "sweep: lr, 4 runs, " in out and ": 3 of 4 runs converged, 1 failed; parent run FAILED" in out
    assert proc.stderr.strip().splitlines()[-2:] == [  # (Ray's own warnings come before)
        "1 job failed:",
        "  #1 or lr=-1 seed=0: ConfigError: Invalid config: lr=-1.0 is not allowed: a finite number > 0",
    ]
