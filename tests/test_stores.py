"""A new sqlite store under hostile timing: commands started together, and a command stopped
(SIGTERM) or killed (SIGKILL) while it builds the store. Each is checked afterwards through
MlflowClient, and by the next command."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from conftest import run_cli
from mlflow import MlflowClient

from runner import api
from runner.tracking.errors import UsageError

pytestmark = [pytest.mark.slow, pytest.mark.scale]


def start(folder: Path, *overrides: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.Popen(
        [sys.executable, "-m", "runner", *overrides, "plots=false"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished_runs(folder: Path) -> list:
    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'outputs' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("perceptron")
    return [r for r in client.search_runs([experiment.experiment_id]) if r.info.status == "FINISHED"]


@pytest.mark.parametrize("attempt", range(5))
def test_four_commands_started_together_on_a_new_store_all_finish(tmp_path, attempt):
    commands = [start(tmp_path, f"seed={seed}") for seed in range(4)]
    for command in commands:
        _, err = command.communicate(timeout=300)
        assert command.returncode == 0, err[-2000:]
    assert sorted(int(r.data.params["seed"]) for r in finished_runs(tmp_path)) == [0, 1, 2, 3]
    assert run_cli("plots=false", cwd=tmp_path).returncode == 0  # and the store is usable after
    assert len(finished_runs(tmp_path)) == 5


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
@pytest.mark.parametrize("delay", [0.05, 0.1, 0.2, 0.5])
def test_a_store_stopped_while_it_is_built_is_none_or_whole(tmp_path, signum, delay):
    command = start(tmp_path)
    outputs = tmp_path / "outputs"
    deadline = time.monotonic() + 120
    while not list(outputs.glob(".mlflow.db.*.building")):  # the store's schema is being built
        assert command.poll() is None and time.monotonic() < deadline, "the store was never built aside"
        time.sleep(0.002)
    time.sleep(delay)
    command.send_signal(signum)
    command.communicate(timeout=60)
    store = outputs / "mlflow.db"
    if store.exists():  # then whole: MLflow's schema to its end (the command may even have logged)
        with closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "alembic_version" in tables and not any(t.startswith("_alembic_tmp_") for t in tables)
    before = len(finished_runs(tmp_path)) if store.exists() else 0
    after = run_cli("plots=false", cwd=tmp_path)
    assert after.returncode == 0, after.stderr[-2000:]
    assert len(finished_runs(tmp_path)) == before + 1
    assert not list(outputs.glob(".mlflow.db.*.building"))


def test_a_killed_sweep_is_closed_by_the_next_command_and_reported_incomplete(tmp_path, capsys):
    from runner import report

    sweep = start(tmp_path, "-m", "gate=or,and,nand,nor", "lr=0.1,0.5,1,2,5", "seed=0,1")  # 40 jobs
    deadline = time.monotonic() + 120
    progress = None
    while progress is None or len(progress.read_text().splitlines()) < 10:
        assert sweep.poll() is None and time.monotonic() < deadline, "the sweep ended too soon"
        progress = next(tmp_path.glob("outputs/multirun/*/*/progress.log"), None)
        time.sleep(0.05)
    sweep.kill()  # SIGKILL: no atexit, no finally, the parent stays RUNNING
    sweep.communicate(timeout=30)
    uri = f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}"
    report.main(["--tracking-uri", uri])
    out, err = capsys.readouterr()
    assert "Ended KILLED" in err and "whose process is gone" in err
    finished = len([r for r in finished_runs(tmp_path) if "mlflow.parentRunId" in r.data.tags])
    assert 10 <= finished < 40
    assert f"; incomplete: {finished} of 40 planned jobs finished" in out.splitlines()[0]
    client = MlflowClient(tracking_uri=uri)
    runs = client.search_runs([client.get_experiment_by_name("perceptron").experiment_id])
    assert "RUNNING" not in {r.info.status for r in runs}
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert parent.info.status == "KILLED" and "ended without ending it" in parent.data.tags["error"]


def test_a_killed_sweep_resumes_where_it_stopped(tmp_path):
    grid = ["-m", "gate=or,and,nand,nor", "lr=0.1,0.5,1,2,5", "seed=0,1"]  # 40 jobs
    sweep = start(tmp_path, *grid)
    deadline = time.monotonic() + 120
    progress = None
    while progress is None or len(progress.read_text().splitlines()) < 10:
        assert sweep.poll() is None and time.monotonic() < deadline, "the sweep ended too soon"
        progress = next(tmp_path.glob("outputs/multirun/*/*/progress.log"), None)
        time.sleep(0.05)
    sweep.kill()
    sweep.communicate(timeout=30)
    before = {r.data.tags["runner.fingerprint"]: r.info.run_id for r in finished_runs(tmp_path)}
    assert len(before) >= 10

    resumed = run_cli(*grid, "plots=false", "resume=latest", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"{len(before)} job(s) finished before are kept" in resumed.stdout
    assert resumed.stdout.count(": done before, its run ") == len(before)
    # only the rest is trained (counted, not timed: a time would depend on what else runs)
    trained = re.findall(r"^\[\d+/40 [^]]*\] .*: (?:Converged|Not converged)", resumed.stdout, re.M)
    assert len(trained) == 40 - len(before)
    runs = finished_runs(tmp_path)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == 40  # one parent, reopened, and it FINISHED
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parents[0].info.run_id}
    after = {r.data.tags["runner.fingerprint"]: r.info.run_id for r in children}
    assert all(after[job] == run_id for job, run_id in before.items())  # the first jobs' runs kept
    assert parents[0].data.metrics["finished"] == 40


def test_a_resume_with_other_overrides_is_refused(tmp_path):
    assert run_cli("-m", "lr=0.5,1", "plots=false", cwd=tmp_path).returncode == 0
    proc = run_cli("-m", "lr=0.5,2", "plots=false", "resume=latest", cwd=tmp_path)
    assert proc.returncode != 0
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("resume=latest: the sweep 'sweep: lr, 2 runs, ")
    assert line.endswith(
        "ran `lr=0.5,1 plots=false`, not `lr=0.5,2 plots=false`: "
        "give its overrides, or leave resume out for a new sweep"
    )
    assert len(finished_runs(tmp_path)) == 3


def test_a_resume_while_the_sweep_still_runs_is_refused(tmp_path, new_store):
    """resume=latest while the same sweep runs once ran its jobs twice, 43–48 runs for 24 jobs
    (issue 30, item 2): the parent is owned by a live process, and a second never reopens it.
    (Should the first end before the second looks, the second is a plain resume of nothing left.)"""
    client = MlflowClient(new_store(tmp_path / "outputs" / "mlflow.db"))
    sweep = ["-m", "gate=or,and", "lr=0.1,0.5,1,2", "seed=range(0,10)", "plots=false"]  # 80 jobs
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    first = subprocess.Popen(
        [sys.executable, "-m", "runner", *sweep], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120

    def children(status: str = "FINISHED") -> list:
        experiment = client.get_experiment_by_name("perceptron")
        if experiment is None:  # not made yet
            return []
        query = f"tags.`mlflow.parentRunId` LIKE '%' AND attributes.status = '{status}'"
        return client.search_runs([experiment.experiment_id], query, max_results=1000)

    while not children():
        assert first.poll() is None and time.monotonic() < deadline, "the sweep ended too soon"
        time.sleep(0.2)
    second = run_cli(*sweep, "resume=latest", cwd=tmp_path)
    first.communicate(timeout=300)
    assert first.returncode == 0
    if "Resuming" not in second.stdout:  # 80 jobs outlast its start: refused as the first still runs
        assert second.returncode == 1
        (line,) = second.stderr.strip().splitlines()
        assert " is still running (process " in line and line.endswith(
            "let it end, or stop it, then resume it"
        )
    assert len(children()) == 80 and not children("RUNNING")


def test_a_resume_of_a_run_that_is_no_sweeps_parent_is_refused(tmp_path):
    """resume=<the id of a single run> once reopened that run as a sweep's parent and rewrote it
    (issue 30, item 5); the report refuses it too."""
    assert run_cli("gate=or", "lr=1", "plots=false", cwd=tmp_path).returncode == 0
    (single,) = finished_runs(tmp_path)
    proc = run_cli("-m", "lr=0.5,1", "plots=false", f"resume={single.info.run_id}", cwd=tmp_path)
    assert proc.returncode != 0
    said = f"Run {single.info.run_id} (or lr=1 seed=0) is a single run, not a sweep's parent run: "
    assert proc.stderr.strip().splitlines() == [
        f"resume={single.info.run_id}: {said}"
        + ("give the id of the parent (its `its parent:` link), or leave it out for the latest sweep")
    ]
    (after,) = finished_runs(tmp_path)
    assert after.data.tags == single.data.tags and after.data.metrics == single.data.metrics
    report = subprocess.run(
        [sys.executable, "-m", "runner.report", "--parent", single.info.run_id],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.returncode != 0 and report.stderr.strip().startswith(said)


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs the test mounts (as root); skipped, saying why, where it cannot."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip() or mounted.returncode}"
        )
    yield folder
    subprocess.run(["umount", "--lazy", str(folder)], check=False)


@pytest.mark.parametrize("launcher", ["cached", "parallel"])
def test_a_sweep_on_a_store_that_fills_up_stops_in_one_line_and_leaves_nothing_running(
    tmp_path, small_disk, launcher
):
    store = small_disk / "mlflow.db"
    proc = run_cli(
        "-m",
        "seed=range(0,60)",
        f"mlflow.tracking_uri=sqlite:///{store}",
        f"hydra/launcher={launcher}",
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    (line,) = lines
    assert line.startswith("Out of space while logging or lr=1 seed=")
    # SQLite's words, or the system's when an artifact's copy is what found the disk full
    assert "database or disk is full" in line or "[Errno 28] No space left on device" in line
    assert line.endswith("free some, then run the same command again (a sweep with resume=latest)")
    assert "Traceback" not in proc.stdout + proc.stderr
    with closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
        statuses = dict(db.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall())
    assert "RUNNING" not in statuses and statuses["FINISHED"] >= 1 and statuses["FAILED"] >= 1


@pytest.mark.parametrize("launcher", ["parallel", "joblib", "ray_local"])
def test_a_sweep_resumes_on_parallel_launchers(tmp_path, launcher):
    """Workers in other processes find what was done in the sweep's folder."""
    sweep = ["-m", "lr=0.5,1,2", "plots=false", f"hydra/launcher={launcher}"]
    assert run_cli(*sweep, cwd=tmp_path, timeout=300).returncode == 0
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}")
    (failed,) = [r for r in finished_runs(tmp_path) if r.data.params.get("lr") == "1.0"]
    client.set_terminated(failed.info.run_id, "FAILED")  # as if that job had failed
    resumed = run_cli(*sweep, "resume=latest", cwd=tmp_path, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Downloading artifacts" not in resumed.stdout + resumed.stderr  # no tqdm bar mid-sweep
    assert resumed.stdout.count(": done before, its run ") == 2
    assert "or lr=1 seed=0: Converged" in resumed.stdout
    children = [r for r in finished_runs(tmp_path) if "mlflow.parentRunId" in r.data.tags]
    assert sorted(r.data.params["lr"] for r in children) == ["0.5", "1.0", "2.0"]


def test_five_commands_started_together_each_write_in_a_folder_of_their_own(tmp_path, new_store):
    """Two commands started in the same second once shared Hydra's folder (named by the second):
    a sweep's jobs logged under the other sweep's parent, with the other's trace."""
    new_store(tmp_path / "outputs" / "mlflow.db")
    gates = ["or", "and", "nand", "nor", "xnor"]
    commands = [start(tmp_path, "-m", f"gate={gate}", "lr=0.5,1", "seed=0,1") for gate in gates[:3]]
    commands += [start(tmp_path, f"gate={gate}") for gate in gates[3:]]
    for command in commands:
        _, err = command.communicate(timeout=300)
        assert command.returncode == 0, err[-2000:]
    assert len(list(tmp_path.glob("outputs/multirun/*/*/sweep_plan.json"))) == 3
    assert len(list(tmp_path.glob("outputs/runs/*/*/trace.csv"))) == 2
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("perceptron").experiment_id])
    trained = [r for r in runs if "gate" in r.data.params]
    assert sorted(r.data.params["gate"] for r in trained) == sorted(gates[:3] * 4 + gates[3:])
    parents = {r.info.run_id: r for r in runs if "gate" not in r.data.params}
    for run in trained:
        assert run.info.status == "FINISHED"
        parent = run.data.tags.get("mlflow.parentRunId")
        if parent is not None:  # under its own sweep's parent, the one that swept its gate
            assert f"gate={run.data.params['gate']} " in parents[parent].data.tags["sweep.overrides"]
        folder = Path(client.download_artifacts(run.info.run_id, "", str(tmp_path / run.info.run_id)))
        p = run.data.params
        own = api.train(f"gate={p['gate']}", f"lr={p['lr']}", f"seed={p['seed']}").trace
        assert (folder / "trace.csv").read_text() == own.to_csv(index=False)  # its own, no other's


@pytest.fixture
def read_only(tmp_path):
    """Makes a folder read-only with a read-only bind mount of itself (as root, for whom the
    permission bits do not count); skipped, saying why, where it cannot."""
    mounted: list[Path] = []

    def make(folder: Path) -> None:
        for command in (["mount", "--bind", folder, folder], ["mount", "-o", "remount,bind,ro", folder]):
            done = subprocess.run([str(c) for c in command], capture_output=True, text=True)
            if done.returncode != 0:
                pytest.skip(f"cannot mount {folder} read-only here: {done.stderr.strip()}")
            if folder not in mounted:
                mounted.append(folder)

    yield make
    for folder in mounted:
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


def test_a_sweep_into_the_folder_of_a_sweep_that_still_runs_is_refused(tmp_path, new_store):
    """Two sweeps given one `hydra.sweep.dir` at the same time once shared its plan: the first's
    12 jobs all logged under the second's parent. The folder is held while its sweep runs: a
    second sweep there stops before it logs anything, and one after the first has ended runs."""
    client = MlflowClient(new_store(tmp_path / "outputs" / "mlflow.db"))
    folder = ["hydra.sweep.dir=shared"]
    first = start(tmp_path, "-m", "gate=or,and", "lr=0.1,0.5,1,2", "seed=range(0,10)", *folder)  # 80 jobs
    deadline, progress = time.monotonic() + 120, tmp_path / "shared" / "progress.log"
    while not progress.is_file() or not progress.read_text():
        assert first.poll() is None and time.monotonic() < deadline, "the sweep ended too soon"
        time.sleep(0.05)
    second = run_cli("-m", "gate=nand", "lr=0.5,1", *folder, "plots=false", cwd=tmp_path)
    still_running = first.poll() is None
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]
    assert still_running, "the first sweep ended before the second started: no overlap was tested"
    assert second.returncode == 1 and second.stderr.strip() == (
        "Cannot start the sweep: hydra.sweep.dir=shared is the folder of another command, which "
        "still runs: give this one a folder of its own, or leave hydra.sweep.dir out (each command "
        "then gets one); nothing was run or logged"
    )
    third = run_cli("-m", "gate=nand", "lr=0.5,1", *folder, "plots=false", cwd=tmp_path)
    assert third.returncode == 0, third.stderr[-2000:]
    experiment = client.get_experiment_by_name("perceptron").experiment_id
    runs = client.search_runs([experiment], max_results=1000)
    parents = {r.info.run_id: r.data.tags["sweep.overrides"] for r in runs if "sweep.dir" in r.data.tags}
    assert len(parents) == 2  # the first and the third: the second logged nothing
    for run in runs:
        if run.info.run_id not in parents:
            swept = parents[run.data.tags["mlflow.parentRunId"]].split()[0]  # gate=or,and or gate=nand
            assert run.data.params["gate"] in swept.removeprefix("gate=").split(","), (run.data.params, swept)


def test_a_run_into_the_folder_of_a_run_that_still_runs_is_refused(tmp_path, new_store):
    """A run given the folder (`hydra.run.dir`) of another command's run that still runs stops in
    one line before it trains or logs (it once wrote its trace over the other's); here the other
    command is this test, holding the folder's lock as a run holds it. Once it is let go, a run
    there runs."""
    from filelock import FileLock

    from runner.tracking.output_folder import LOCK

    client = MlflowClient(new_store(tmp_path / "outputs" / "mlflow.db"))
    (tmp_path / "mine").mkdir()
    with FileLock(tmp_path / "mine" / LOCK):
        refused = run_cli("gate=or", "plots=false", "hydra.run.dir=mine", cwd=tmp_path)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip() == (
        f"Cannot start the run: hydra.run.dir={tmp_path / 'mine'} is the folder of another command, "
        "which still runs: give this one a folder of its own, or leave hydra.run.dir out (each "
        "command then gets one); nothing was run or logged"
    )
    assert client.get_experiment_by_name("perceptron") is None  # nothing logged
    ran = run_cli("gate=or", "plots=false", "hydra.run.dir=mine", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "mine" / "trace.csv").is_file()


def test_a_report_reads_a_store_in_a_read_only_folder(tmp_path, read_only, new_store):
    """Issue 30, item 8: the report only reads, so a store it cannot write is no obstacle; a run
    that would log there says so in one line."""
    shelf = tmp_path / "shelf"
    store = new_store(shelf / "mlflow.db")
    assert (
        run_cli("-m", "gate=or,and", "plots=false", f"mlflow.tracking_uri={store}", cwd=tmp_path).returncode
        == 0
    )
    read_only(shelf)
    report = subprocess.run(
        [sys.executable, "-m", "runner.report", "--tracking-uri", store],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.returncode == 0, report.stderr
    assert "runs per cell" in report.stdout and re.search(r"^and +1$", report.stdout, re.M)
    logged = run_cli("gate=or", "plots=false", f"mlflow.tracking_uri={store}", cwd=tmp_path)
    assert logged.returncode == 1 and logged.stdout == ""  # refused before it trained and printed
    assert logged.stderr.strip() == (
        f"Cannot use the MLflow tracking store {store}: Cannot write in {shelf}, the folder of the "
        f"MLflow store {shelf / 'mlflow.db'}"
    )


def test_an_immutable_store_is_refused_in_one_line(tmp_path, new_store):
    """Issue 30, item 17: `chattr +i` (which binds root too) on the store: one line, not SQL, and
    before the run trains and prints its trace."""
    path = tmp_path / "mlflow.db"
    store = new_store(path)
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i does not work on this file system")
    try:
        proc = run_cli("gate=or", "plots=false", f"mlflow.tracking_uri={store}", cwd=tmp_path)
        with pytest.raises(UsageError) as from_python:  # the API too, before it trains
            api.train("gate=or", "plots=false", f"mlflow.tracking_uri={store}", log=True)
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    assert proc.returncode == 1 and proc.stdout == ""
    assert (
        proc.stderr.strip()
        == str(from_python.value)
        == (
            f"Cannot use the MLflow tracking store {store}: {path} is read-only: make it writable, or "
            "log elsewhere (mlflow.tracking_uri=...)"
        )
    )


def test_resumes_started_together_reopen_the_sweep_once(tmp_path):
    """A parent is reopened by one command: four `resume=latest` of one killed sweep started at
    the same instant each found it stopped, and each ran its missing jobs (issue 30's design
    point: a second command never reopens a parent another one owns)."""
    grid = ["-m", "gate=or,and,nand,nor", "lr=0.5,1,2", "seed=0,1"]  # 24 jobs
    sweep = start(tmp_path, *grid)
    deadline, progress = time.monotonic() + 120, None
    while progress is None or len(progress.read_text().splitlines()) < 5:
        assert sweep.poll() is None and time.monotonic() < deadline, "the sweep ended too soon"
        progress = next(tmp_path.glob("outputs/multirun/*/*/progress.log"), None)
        time.sleep(0.05)
    sweep.kill()
    sweep.communicate(timeout=30)
    resumes = [start(tmp_path, *grid, "resume=latest") for _ in range(4)]
    ended = [(proc.wait(timeout=300), proc.communicate()) for proc in resumes]
    assert sorted(status for status, _ in ended) == [0, 1, 1, 1], [err[-500:] for _, (_, err) in ended]
    for status, (_, err) in ended:
        if status:
            assert err.strip().splitlines()[-1].startswith("resume: another command resumed the sweep ("), err
    children = [r for r in finished_runs(tmp_path) if "mlflow.parentRunId" in r.data.tags]
    fingerprints = [r.data.tags["runner.fingerprint"] for r in children]
    assert len(fingerprints) == len(set(fingerprints)) == 24  # every job once, none twice


def _reopen(uri: str, run_id: str, barrier, outcomes) -> None:
    """`plan.reopen` of `run_id` in a process of its own, released with the others by `barrier`."""
    from runner.tracking import plan
    from runner.tracking.store import open_store

    store = open_store(uri)
    store.client.get_run(run_id)  # connected before the race, so the writes are made together
    barrier.wait()
    try:
        plan.reopen(store, run_id, "key")
        outcomes.put("reopened")
    except SystemExit as stop:
        outcomes.put(str(stop).split(" (")[0])
    except Exception as err:  # noqa: BLE001 - the outcome to report across the process boundary
        outcomes.put(f"{type(err).__name__}: {err}"[:200])


def reopened_by_four_at_once(uri: str, run_id: str) -> list[str]:
    import multiprocessing

    spawn = multiprocessing.get_context("spawn")
    barrier, outcomes = spawn.Barrier(4), spawn.Queue()
    processes = [spawn.Process(target=_reopen, args=(uri, run_id, barrier, outcomes)) for _ in range(4)]
    for process in processes:
        process.start()
    ended = sorted(outcomes.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=60)
    return ended


def test_claims_written_at_one_instant_reopen_a_parent_once(tmp_path, new_store):
    """`plan.reopen` by four processes released together: the first claims race to create the tag,
    and sqlite refused all but one (UNIQUE constraint) before the loser wrote its claim again; in
    3 of 6 tries here. One reopens the parent and the others stop with the line that says why."""
    from runner.tracking.store import open_store

    for attempt in range(3):
        uri = new_store(tmp_path / f"{attempt}.db")
        store = open_store(uri)
        parent = store.create_run(store.experiment_id("sweeps"), "parent").run_id
        store.end_run(parent, "KILLED")
        ended = reopened_by_four_at_once(uri, parent)
        assert ended == ["reopened"] + ["resume: another command resumed the sweep"] * 3, ended
        assert store.client.get_run(parent).info.status == "RUNNING"
