"""Beyond one machine, for real: a tracking server that goes away mid-sweep, Ray nodes that do
not share the sweep's folder, and a one-node SLURM cluster. Marked `scale`: minutes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_cli
from mlflow import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from test_scale import GRID_200, LEAN, free_port, ray_nodes, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.scale]


class Server:
    """`mlflow server` on a port of its own, in its own process group (the CLI starts its
    workers as children: the whole group is what goes away and comes back)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(self.port)),
                *("--backend-store-uri", f"sqlite:///{self.folder}/server.db"),
                *("--artifacts-destination", str(self.folder / "served"), "--workers", "2"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(self.url + "/health", self.process, seconds=90)

    def signal(self, number: int) -> None:
        os.killpg(self.process.pid, number)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def server(tmp_path):
    started = Server(tmp_path)
    started.start()
    yield started
    try:
        started.signal(signal.SIGCONT)
        started.kill()
    except ProcessLookupError:
        pass


def _sweep_in_background(tmp_path: Path, url: str, *extra: str) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / f"console{len(list(tmp_path.glob('console*')))}.txt"
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    command = [sys.executable, "-m", "runner", "-m", *GRID_200, *LEAN, *extra]
    with open(out, "w") as console:
        proc = subprocess.Popen(
            command,
            cwd=tmp_path,
            env={**env, "MLFLOW_TRACKING_URI": url},
            stdout=console,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return proc, out


def _wait_for_lines(out: Path, lines: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 300
    while len(re.findall(r"^\[\d+/200 ", out.read_text(), re.M)) < lines:
        assert proc.poll() is None and time.monotonic() < deadline, out.read_text()[-3000:]
        time.sleep(0.1)


def _jobs(url: str) -> tuple[object, dict[str, list]]:
    """The sweep's one parent, and its children by job number."""
    client = MlflowClient(url)
    runs = client.search_runs([client.get_experiment_by_name("perceptron").experiment_id], max_results=5000)
    (parent,) = [r for r in runs if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    children: dict[str, list] = {}
    for run in runs:
        if run is not parent:
            assert run.data.tags[MLFLOW_PARENT_RUN_ID] == parent.info.run_id
            children.setdefault(run.data.tags["hydra.job.num"], []).append(run)
    return parent, children


@pytest.mark.parametrize("outage", ["killed, back 10 s later", "stopped 20 s"])
def test_a_tracking_server_that_goes_away_mid_sweep_loses_no_result_without_a_word(tmp_path, server, outage):
    """Every job has a FINISHED run or says NOT LOGGED; the jobs with no run are counted
    `missing`; the sweep ends non-zero if any job is not FINISHED, within a minute of the
    server's return; resume=latest then logs exactly those, and every run is whole."""
    proc, out = _sweep_in_background(tmp_path, server.url)
    _wait_for_lines(out, 20, proc)
    if outage.startswith("killed"):
        server.kill()
        time.sleep(10)
        server.start()
    else:
        server.signal(signal.SIGSTOP)
        time.sleep(20)
        server.signal(signal.SIGCONT)
    back = time.monotonic()
    proc.wait(timeout=300)
    assert time.monotonic() - back < 60
    console = out.read_text()
    assert "Traceback" not in console and "View run" not in console
    parent, children = _jobs(server.url)
    finished = {job for job, runs in children.items() if any(r.info.status == "FINISHED" for r in runs)}
    unlogged = len(re.findall(r"^\[\d+/200 .*; NOT LOGGED \(", console, re.M))
    missing = 200 - len(children)
    assert parent.data.metrics["missing"] == missing
    assert unlogged >= 200 - len(finished)  # every job that did not finish said so
    assert (proc.returncode != 0) == (len(finished) < 200)
    if missing:
        gap = f"; {missing} missing (no run in the store: resume=latest runs them); parent run FAILED"
        assert gap in console
    assert len(re.findall(r"^\[\d+/200 ", console, re.M)) == 200  # each job's line, none lost

    proc, out = _sweep_in_background(tmp_path, server.url, "resume=latest")
    assert proc.wait(timeout=300) == 0, out.read_text()[-3000:]
    console = out.read_text()
    assert len(re.findall(r": done before, its run \w+ kept$", console, re.M)) == len(finished)
    parent, children = _jobs(server.url)
    assert parent.info.status == "FINISHED" and parent.data.metrics["missing"] == 0
    client = MlflowClient(server.url)
    for job, runs in children.items():
        (run,) = [r for r in runs if r.info.status == "FINISHED"]  # exactly one run finished per job
        epochs = int(run.data.metrics["epochs"])
        steps = [m.step for m in client.get_metric_history(run.info.run_id, "errors")]
        assert steps == list(range(1, epochs + 1)), job  # no batch logged twice by a retry
    assert len(children) == 200


@pytest.fixture
def ray_node_apart(tmp_path):
    """A Ray cluster whose head runs no job (no CPU) and whose one worker node sees none of the
    head's folders under tmp_path: it runs in a mount namespace of its own, with an empty tmpfs
    over tmp_path and a HOME of its own there."""
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare -m is not allowed here (it needs root or user namespaces)")
    apart = (
        "unshare",
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount -t tmpfs tmpfs "$0" && mkdir "$0/home" && HOME="$0/home" exec "$@"',
        str(tmp_path),
    )
    with ray_nodes(head_cpus=0, worker_prefix=apart) as cluster:
        yield cluster


RAY_SWEEP = ["gate=or,and,nand,nor", "lr=0.5,1", "seed=range(0,5)", *LEAN, "hydra/launcher=ray_cluster"]


def test_a_ray_sweep_whose_worker_sees_no_shared_folder(tmp_path, ray_node_apart, server):
    """The jobs find their parent and the jobs done before in the store, and their progress
    lines reach the sweep's console through it; killed, the sweep resumes with only what is
    missing."""
    address, auth = ray_node_apart
    login = tmp_path / "login"  # the sweep's folder, under what the worker cannot see
    login.mkdir()
    env = {**auth, "MLFLOW_TRACKING_URI": server.url}
    command = ["-m", *RAY_SWEEP, f"hydra.launcher.ray.init.address={address}"]
    base = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    with open(tmp_path / "first.txt", "w") as console:
        proc = subprocess.Popen(
            [sys.executable, "-m", "runner", *command],
            cwd=login,
            env={**base, **env},
            stdout=console,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 300
    while len(re.findall(r"^\[\d+/40 ", (tmp_path / "first.txt").read_text(), re.M)) < 8:
        assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "first.txt").read_text()
        time.sleep(0.2)
    proc.kill()  # the sweep's process, outright
    proc.wait()
    first = (tmp_path / "first.txt").read_text()
    assert "found no sweep plan" not in first
    assert not list(login.glob("outputs/multirun/*/*/0"))  # the jobs ran where this folder is not
    _, before = _jobs(server.url)
    kept = {job for job, runs in before.items() if any(r.info.status == "FINISHED" for r in runs)}
    assert len(kept) >= 8

    proc = run_cli(*command, "resume=latest", cwd=login, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "found no sweep plan" not in out + proc.stderr
    assert len(re.findall(r": done before, its run \w+ kept$", out, re.M)) == len(kept)
    assert re.findall(r"^\[(\d+)/40 ", out, re.M) == [str(n) for n in range(1, 41)]  # every line arrived
    assert out.rindex("[40/40 ") < re.search(r"^sweep: .*, in outputs/multirun/", out, re.M).start()
    parent, children = _jobs(server.url)
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics["runs"] == 40 and parent.data.metrics["missing"] == 0
    assert sorted(children, key=int) == [str(n) for n in range(40)]
    for job, runs in children.items():
        assert [r.info.status for r in runs].count("FINISHED") == 1, job
        if job in kept:  # run once, before the kill
            assert len(runs) == 1
