"""Beyond one machine, for real: a tracking server that goes away mid-sweep, Ray nodes that do
not share the sweep's folder, and a one-node SLURM cluster. Marked `scale`: minutes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import run_cli
from mlflow import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from services import free_port, mlflow_server
from test_scale import GRID_200, LEAN, ray_nodes

pytestmark = [pytest.mark.slow, pytest.mark.scale]


@pytest.fixture
def server(tmp_path):
    with mlflow_server(tmp_path) as started:
        yield started


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


def _finished(url: str) -> int:
    """How many of the sweep's jobs have a FINISHED run."""
    _, children = _jobs(url)
    return sum(any(r.info.status == "FINISHED" for r in runs) for runs in children.values())


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
    # A line comes through its run's tag, set just before the run ends: wait for 8 ended runs.
    while _finished(server.url) < 8:
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


SLURM_CONF = """ClusterName=perceptron
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={folder}/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
NodeName={host} CPUs={cpus} RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


@pytest.fixture
def slurm(tmp_path):
    """A one-node SLURM cluster on this machine from Debian's slurm-wlm and munge, as an admin
    starts one: a munge key and daemon of its own, slurmctld and slurmd on ports of their own.
    Yields the environment that reaches it (SLURM_CONF)."""
    needed = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "scancel")
    absent = [name for name in needed if shutil.which(name) is None]
    if absent or os.geteuid() != 0:
        pytest.skip(f"no SLURM here: {' '.join(absent) or 'not root'} (apt-get install slurm-wlm munge)")
    folder = Path(tempfile.mkdtemp(prefix="slurm", dir="/tmp"))  # short: munge's socket path
    for sub in ("state", "spool"):
        (folder / sub).mkdir()
    host = socket.gethostname().split(".")[0]
    conf = SLURM_CONF.format(
        host=host, folder=folder, ctld_port=free_port(), d_port=free_port(), cpus=os.cpu_count()
    )
    (folder / "slurm.conf").write_text(conf)
    env = {**os.environ, "SLURM_CONF": str(folder / "slurm.conf")}
    subprocess.run(["mungekey", "-c", "-k", str(folder / "munge.key")], check=True, capture_output=True)
    munge = ["munged", "--force", f"--key-file={folder / 'munge.key'}", f"--socket={folder / 'munge.socket'}"]
    munge += [f"--pid-file={folder / 'munged.pid'}", f"--log-file={folder / 'munged.log'}"]
    munge += [f"--seed-file={folder / 'munge.seed'}"]
    try:
        subprocess.run(munge, check=True, capture_output=True)
        subprocess.run(["slurmctld", "-L", str(folder / "ctld.log")], env=env, check=True)
        subprocess.run(["slurmd", "-L", str(folder / "d.log")], env=env, check=True)
        deadline = time.monotonic() + 60
        while "idle" not in subprocess.run(["sinfo", "-h"], env=env, capture_output=True, text=True).stdout:
            assert time.monotonic() < deadline, (folder / "d.log").read_text()[-2000:]
            time.sleep(0.5)
        yield {"SLURM_CONF": env["SLURM_CONF"]}
    finally:
        subprocess.run(["scontrol", "shutdown"], env=env, capture_output=True)
        for pid_file in ("slurmd.pid", "slurmctld.pid", "munged.pid"):
            try:
                os.kill(int((folder / pid_file).read_text()), signal.SIGTERM)
            except (OSError, ValueError):
                pass
        time.sleep(1)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_sweep_on_a_slurm_cluster(tmp_path, slurm):
    """hydra/launcher=slurm, each job a SLURM job of one array: every run under its parent, one
    bad point failing alone with its error in its run; the array cancelled mid-sweep (scancel),
    then resume=latest completes it."""
    uri = f"sqlite:///{tmp_path}/outputs/mlflow.db"
    proc = run_cli("-m", "lr=0.5,-1,1", *LEAN, "hydra/launcher=slurm", cwd=tmp_path, env=slurm, timeout=300)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    parent, children = _jobs(uri)
    statuses = {runs[0].data.params["lr"]: runs[0].info.status for runs in children.values()}
    assert statuses == {"0.5": "FINISHED", "-1": "FAILED", "1.0": "FINISHED"}
    (bad,) = [runs[0] for runs in children.values() if runs[0].info.status == "FAILED"]
    assert bad.data.tags["error"].startswith("ConfigError: Invalid config: lr=-1.0 is not allowed")
    assert re.findall(r"^\[(\d)/3 ", proc.stdout, re.M) == ["1", "2", "3"]

    MlflowClient(uri).delete_experiment(parent.info.experiment_id)  # the next sweep on its own
    sweep = ["-m", "gate=or,and,nand,nor", "lr=0.5,1", "seed=0,1", *LEAN, "hydra/launcher=slurm"]
    sweep.append("mlflow.experiment_name=cancelled")
    base = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    with open(tmp_path / "first.txt", "w") as console:
        first = subprocess.Popen(
            [sys.executable, "-m", "runner", *sweep],
            cwd=tmp_path,
            env={**base, **slurm},
            stdout=console,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 300
    while len(re.findall(r"^\[\d+/16 ", (tmp_path / "first.txt").read_text(), re.M)) < 3:
        assert first.poll() is None and time.monotonic() < deadline, (tmp_path / "first.txt").read_text()
        time.sleep(0.2)
    subprocess.run(["scancel", "--user=root"], env={**base, **slurm}, check=True)
    try:  # submitit learns of a cancelled job from sacct: with no accounting (here), it waits on
        first.wait(timeout=15)
    except subprocess.TimeoutExpired:  # and the user stops it
        first.send_signal(signal.SIGINT)
    assert first.wait(timeout=60) != 0
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("cancelled").experiment_id
    before = client.search_runs([experiment], "attributes.status = 'FINISHED'", max_results=100)
    kept = [r for r in before if MLFLOW_PARENT_RUN_ID in r.data.tags]
    assert len(kept) < 16

    proc = run_cli(*sweep, "resume=latest", cwd=tmp_path, env=slurm, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert len(re.findall(r": done before, its run \w+ kept$", proc.stdout, re.M)) == len(kept)
    runs = client.search_runs([experiment], max_results=100)
    (parent,) = [r for r in runs if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    assert parent.info.status == "FINISHED" and parent.data.metrics["missing"] == 0
    finished = [r for r in runs if r is not parent and r.info.status == "FINISHED"]
    assert sorted(int(r.data.tags["hydra.job.num"]) for r in finished) == list(range(16))
