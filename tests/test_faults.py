"""Faults and interrupts, for real: signals to a running sweep, a store that cannot be reached."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli, run_in_process
from mlflow import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

pytestmark = pytest.mark.slow

SWEEP = ["-m", "gate=or,and,nand", "lr=0.5,1"]  # 6 jobs


def runs_by_status(client: MlflowClient) -> dict[str, list]:
    experiment = client.get_experiment_by_name("perceptron")
    found: dict[str, list] = {}
    for run in client.search_runs([experiment.experiment_id]) if experiment else []:
        found.setdefault(run.info.status, []).append(run)
    return found


@pytest.mark.parametrize(
    "signum",
    [pytest.param(signal.SIGINT, marks=pytest.mark.scale), signal.SIGTERM],  # both in CI
)
def test_an_interrupted_sweep_keeps_what_finished_and_leaves_nothing_running(tmp_path, new_store, signum):
    uri = new_store(tmp_path / "outputs" / "mlflow.db")
    client = MlflowClient(tracking_uri=uri)
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    sweep = subprocess.Popen(
        [sys.executable, "-m", "runner", *SWEEP],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while len(runs_by_status(client).get("FINISHED", [])) < 2:
        assert sweep.poll() is None and time.monotonic() < deadline, "the sweep ended too soon"
        time.sleep(0.1)
    sweep.send_signal(signum)
    sent = time.monotonic()
    _, err = sweep.communicate(timeout=30)
    assert time.monotonic() - sent < 25, (
        "the sweep did not stop promptly"
    )  # about 2 s measured, ten times that
    assert sweep.returncode == -signum  # killed by its signal, as the shell expects (issue 30, item 22)
    assert "Traceback" not in err and "Interrupted" in err

    runs = runs_by_status(client)
    assert "RUNNING" not in runs
    (parent,) = [r for r in sum(runs.values(), []) if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    assert parent.info.status == "KILLED"
    finished = runs["FINISHED"]
    assert 2 <= len(finished) < 6
    for run in finished:
        assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"trace.csv", "trace.json"}
        assert run.data.tags[MLFLOW_PARENT_RUN_ID] == parent.info.run_id
    assert all(
        r.data.tags[MLFLOW_PARENT_RUN_ID] == parent.info.run_id
        for r in runs.get("KILLED", [])
        if r is not parent
    )

    if signum == signal.SIGINT:  # the same command again makes a whole new sweep
        again = run_cli(*SWEEP, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        new_parent = [
            r for r in runs_by_status(client)["FINISHED"] if MLFLOW_PARENT_RUN_ID not in r.data.tags
        ]
        (new_parent,) = new_parent
        children = client.search_runs(
            [new_parent.info.experiment_id], f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{new_parent.info.run_id}'"
        )
        assert sorted(r.info.status for r in children) == ["FINISHED"] * 6
        # the same config and seed give the same trace, byte for byte
        first, second = sorted((tmp_path / "outputs" / "multirun").glob("*/*"))
        for job in sorted(p.parent.name for p in first.glob("*/trace.csv")):
            assert (first / job / "trace.csv").read_bytes() == (second / job / "trace.csv").read_bytes()


@pytest.mark.parametrize(
    "where, sweep",
    [
        ("http://127.0.0.1:9", False),
        pytest.param("http://127.0.0.1:9", True, marks=pytest.mark.scale),  # 6 s of retries
        ("sqlite:////etc/hostname/mlflow.db", False),
        ("sqlite:///{tmp}", False),
        ("sqlite:///{tmp}", True),
    ],
    ids=["closed port", "closed port, sweep", "file for a folder", "folder for a file", "folder, sweep"],
)
def test_a_store_that_cannot_be_used_fails_fast_with_one_line(tmp_path, where, sweep, monkeypatch):
    """A sweep stops before its first job, rather than trying the store in every job. (A single
    run is run in this process: what it prints is on its stdout, before the error's line.)"""
    where = where.format(tmp=tmp_path)
    start = time.monotonic()
    if sweep:
        proc = run_cli("-m", "lr=0.5,1,2", cwd=tmp_path, env={"MLFLOW_TRACKING_URI": where})
        status, last = proc.returncode, proc.stderr.strip().splitlines()
        assert len(last) == 1 and "] or lr=" not in proc.stdout
        assert not (tmp_path / "outputs" / "multirun").exists()
    else:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", where)
        status, said = run_in_process("plots=false", cwd=tmp_path, monkeypatch=monkeypatch)
        last = said.strip().splitlines()[-1:]  # the error's line last, and whole
        assert "Traceback" not in said and said.count("Cannot use") == 1, said
    assert time.monotonic() - start < 15
    assert status == 1 and last[0].startswith(f"Cannot use the MLflow tracking store {where}: ")


def half_built(path, runs: bool) -> None:
    """A store left as an interrupted schema migration leaves it: with a temporary table."""
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE _alembic_tmp_tags (x INTEGER)")
        if not runs:
            for table in ("tags", "params", "metrics", "latest_metrics", "runs"):
                db.execute(f"DELETE FROM {table}")


def test_a_half_built_store_with_runs_is_refused_with_what_to_do(tmp_path, new_store, monkeypatch):
    uri = new_store(tmp_path / "outputs" / "mlflow.db")
    client = MlflowClient(tracking_uri=uri)
    client.create_run(client.create_experiment("perceptron"))
    store = tmp_path / "outputs" / "mlflow.db"
    half_built(store, runs=True)
    status, said = run_in_process("plots=false", cwd=tmp_path, monkeypatch=monkeypatch)
    assert status == 1
    line = said.strip().splitlines()[-1]  # after the run's own lines, and whole
    assert "Traceback" not in said and said.count("half-built") == 1, said
    assert f"The MLflow store {store} was left half-built by an interrupted schema change" in line
    assert f"sqlite3 {store} 'DROP TABLE _alembic_tmp_tags' && mlflow db upgrade sqlite:///{store}" in line


def test_a_half_built_store_without_runs_is_built_again(tmp_path, new_store, monkeypatch):
    new_store(tmp_path / "outputs" / "mlflow.db")
    store = tmp_path / "outputs" / "mlflow.db"
    half_built(store, runs=False)
    status, said = run_in_process("plots=false", cwd=tmp_path, monkeypatch=monkeypatch)
    assert status == 0, said
    client = MlflowClient(tracking_uri=f"sqlite:///{store}")
    (run,) = client.search_runs([client.get_experiment_by_name("perceptron").experiment_id])
    assert run.info.status == "FINISHED"


@pytest.mark.scale
def test_ctrl_c_to_a_parallel_sweep_stops_it_in_one_line_and_leaves_nothing_running(tmp_path, new_store):
    """Ctrl-C reaches every process of the terminal's group: the sweep's process stops handing
    out jobs, its workers end the job they have, and the sweep ends KILLED, its runs ended."""
    uri = new_store(tmp_path / "outputs" / "mlflow.db")
    client = MlflowClient(tracking_uri=uri)
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    sweep = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runner",
            "-m",
            "seed=range(0,200)",
            "hydra/launcher=parallel",
            "hydra.launcher.n_jobs=2",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own, as a terminal's foreground job
    )
    deadline = time.monotonic() + 120
    while len(runs_by_status(client).get("FINISHED", [])) < 10:
        assert sweep.poll() is None and time.monotonic() < deadline, "the sweep ended too soon"
        time.sleep(0.1)
    os.killpg(sweep.pid, signal.SIGINT)
    _, err = sweep.communicate(timeout=60)
    assert sweep.returncode == -signal.SIGINT
    assert err.strip().splitlines()[-1] == "Interrupted (SIGINT)" and "Traceback" not in err
    runs = runs_by_status(client)
    assert "RUNNING" not in runs
    (parent,) = [r for r in sum(runs.values(), []) if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    assert parent.info.status == "KILLED"
    assert 10 <= len(runs["FINISHED"]) < 200
    assert len({r.data.tags["runner.pid"] for r in runs["FINISHED"]}) == 2


SIGNAL_AFTER = """
import importlib, os, runpy, signal, sys
module, _, name = sys.argv[1].partition(":")
*path, attr = name.split(".")
owner = importlib.import_module(module)
for part in path:
    owner = getattr(owner, part)
real = getattr(owner, attr)
def then_ctrl_c(*args, **kwargs):
    setattr(owner, attr, real)  # once
    result = real(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGINT)
    return result
setattr(owner, attr, then_ctrl_c)
sys.argv = ["runner", *sys.argv[2:]]
runpy.run_module("runner", run_name="__main__")
"""


def ctrl_c_after(instant: str, *overrides: str, cwd: Path) -> None:
    """The command, sent a real SIGINT as `instant` ("module:function") first returns: it ends
    interrupted, in one line."""
    proc = run_cli("-c", SIGNAL_AFTER, instant, *overrides, "plots=false", cwd=cwd, python_args=True)
    assert proc.returncode == -signal.SIGINT, proc.stderr  # at every instant (issue 30, item 22)
    assert proc.stderr.strip().splitlines()[-1] == "Interrupted (SIGINT)", proc.stderr
    assert "Traceback" not in proc.stderr


def first_runs(client: MlflowClient) -> list:
    """The runs with no parent: a sweep's parent, or a single run."""
    return [r for r in sum(runs_by_status(client).values(), []) if MLFLOW_PARENT_RUN_ID not in r.data.tags]


@pytest.mark.parametrize(
    "instant, command",
    [
        ("runner.tracking.store:Store.create_run", SWEEP),  # the parent exists; nothing holds its id yet
        pytest.param("runner.tracking.parent:start", SWEEP, marks=pytest.mark.scale),  # no close yet
        pytest.param(
            "runner.tracking.store:Store.create_run", ["gate=or"], marks=pytest.mark.scale
        ),  # one run
    ],
    ids=["sweep's start", "sweep opened", "one run's start"],
)
def test_a_ctrl_c_as_a_run_starts_or_a_sweep_opens_ends_it_killed(tmp_path, new_store, instant, command):
    """The instants between two store calls where a run had no owner to end it: a Ctrl-C there
    once left a sweep's parent RUNNING (one try in fifty of test_interrupts.py)."""
    client = MlflowClient(tracking_uri=new_store(tmp_path / "outputs" / "mlflow.db"))
    ctrl_c_after(instant, *command, cwd=tmp_path)
    (first,) = first_runs(client)  # the parent, or the run
    assert first.info.status == "KILLED"
    runs = sum(runs_by_status(client).values(), [])
    assert [r for r in runs if MLFLOW_PARENT_RUN_ID in r.data.tags] == []


@pytest.mark.scale
@pytest.mark.parametrize(
    "instant",
    [
        "runner.tracking.progress:Printer.stop",  # the close's first step
        "runner.tracking.readback:sweep_summary",  # halfway
        "runner.review:review",  # the review written
    ],
)
def test_a_ctrl_c_as_a_sweep_closes_waits_for_its_summary(tmp_path, new_store, instant):
    """Every job FINISHED: a Ctrl-C as the sweep closes (it once ended the parent KILLED with no
    summary at all) lets the close finish, whole, then stops the command."""
    client = MlflowClient(tracking_uri=new_store(tmp_path / "outputs" / "mlflow.db"))
    ctrl_c_after(instant, *SWEEP, cwd=tmp_path)
    (parent,) = first_runs(client)
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["runs"] == 6 and parent.data.metrics["missing"] == 0
    assert "sweep.html" in {f.path for f in client.list_artifacts(parent.info.run_id)}
    runs = sum(runs_by_status(client).values(), [])
    assert [r.info.status for r in runs if MLFLOW_PARENT_RUN_ID in r.data.tags] == ["FINISHED"] * 6


@pytest.mark.scale
def test_a_sweep_stopped_twice_then_resumed_ends_with_one_parent_and_a_row_a_job(tmp_path, new_store):
    """Ctrl-C after the first job, Ctrl-C as the resumed sweep reopens its parent, then the whole
    resume: each close ends the parent KILLED, then FINISHED, and its summary is replaced, not
    appended to (MlflowClient.log_table appends: 1 + 1 + 6 rows, and the second close failed)."""
    client = MlflowClient(tracking_uri=new_store(tmp_path / "outputs" / "mlflow.db"))
    for instant, resume in (
        ("runner.tracking.writer:write", []),
        ("runner.tracking.plan:reopen", ["resume=latest"]),
    ):
        ctrl_c_after(instant, *SWEEP, *resume, cwd=tmp_path)
        (parent,) = first_runs(client)
        assert parent.info.status == "KILLED"
    done = run_cli(*SWEEP, "plots=false", "resume=latest", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    runs = runs_by_status(client)
    assert "RUNNING" not in runs and len(runs["FINISHED"]) == 7  # the parent, reopened, and 6 jobs
    (parent,) = first_runs(client)
    table = client.download_artifacts(parent.info.run_id, "summary.json", str(tmp_path))
    assert sorted(pd.read_json(table, orient="split")["job"]) == list(range(6))


@pytest.mark.scale
def test_a_ctrl_c_in_the_report_says_interrupted_in_one_line(tmp_path):
    """`python -m runner.report` stopped as it reads the sweep back: no traceback (issue 30,
    item 16)."""
    assert run_cli("-m", "lr=0.5,1", "plots=false", cwd=tmp_path).returncode == 0
    script = SIGNAL_AFTER.replace('sys.argv = ["runner", ', 'sys.argv = ["report", ').replace(
        'runpy.run_module("runner",', 'runpy.run_module("runner.report",'
    )
    proc = run_cli("-c", script, "runner.tracking.readback:sweep_summary", cwd=tmp_path, python_args=True)
    assert proc.returncode == -signal.SIGINT
    assert proc.stderr.strip().splitlines() == ["Interrupted (SIGINT)"], proc.stderr


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux: /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.scale
def test_a_killed_parallel_worker_is_named_with_its_job_and_leaves_nothing_running(tmp_path, new_store):
    """A worker killed outright (the OOM killer, by hand) was a bare `BrokenProcessPool`, its job
    listed with an empty reason (issue 30, item 20)."""
    client = MlflowClient(tracking_uri=new_store(tmp_path / "outputs" / "mlflow.db"))
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    sweep = subprocess.Popen(
        [sys.executable, "-m", "runner", "-m", "gate=or,and,nand,nor", "lr=0.1,0.5,1,2,5", "seed=range(0,4)"]
        + ["hydra/launcher=parallel", "hydra.launcher.n_jobs=2"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline, progress = time.monotonic() + 120, None
    while progress is None or len(progress.read_text().splitlines()) < 5:
        assert sweep.poll() is None and time.monotonic() < deadline, "the sweep ended too soon"
        progress = next(tmp_path.glob("outputs/multirun/*/*/progress.log"), None)
        time.sleep(0.05)
    (worker,) = children_of(sweep.pid)
    os.kill(worker, signal.SIGKILL)
    _, err = sweep.communicate(timeout=120)
    assert sweep.returncode != 0
    last = err.strip().splitlines()[-1]
    assert re.fullmatch(
        r"Error: WorkerDied: The worker process that ran job #\d+ \(.+\) died: killed, or out of memory; "
        r"the sweep stops here \(resume=latest runs what is left\)",
        last.split(" (overrides:")[0],
    ), err
    runs = runs_by_status(client)
    assert "RUNNING" not in runs
    unsaid = [
        r.info.run_name
        for r in runs.get("FAILED", []) + runs.get("KILLED", [])
        if not r.data.tags.get("error")
    ]
    assert unsaid == []


def in_session(session: int) -> list[int]:
    """The processes of a session (Linux: /proc), however they were reparented."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.scale
def test_a_sweep_killed_outright_on_joblib_leaves_no_worker_holding_its_output(tmp_path, new_store):
    """SIGKILL of the sweep's own process on hydra/launcher=joblib orphaned its 2 loky workers and
    2 resource trackers for 10 minutes and more, holding the command's stdout open, so that
    `… | tee log` hung (issue 30, item 14). Now its output closes, and nothing of it is left."""
    new_store(tmp_path / "outputs" / "mlflow.db")
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    sweep = subprocess.Popen(
        [sys.executable, "-m", "runner", "-m", "seed=range(0,300)", "plots=false", "hydra/launcher=joblib"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a session of its own, to find its orphans by
    )
    deadline, progress = time.monotonic() + 120, None
    while progress is None or len(progress.read_text().splitlines()) < 5:
        assert sweep.poll() is None and time.monotonic() < deadline, "the sweep ended too soon"
        progress = next(tmp_path.glob("outputs/multirun/*/*/progress.log"), None)
        time.sleep(0.05)
    assert len(children_of(sweep.pid)) >= 2  # its workers (and resource trackers)
    sweep.kill()
    sweep.wait(30)  # reaped: no zombie of it in its session
    closed = threading.Event()
    threading.Thread(target=lambda: (sweep.stdout.read(), closed.set()), daemon=True).start()
    assert closed.wait(60), f"its output is still held open by {in_session(sweep.pid)}"  # at once, measured
    deadline = time.monotonic() + 60
    while in_session(sweep.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert in_session(sweep.pid) == []
