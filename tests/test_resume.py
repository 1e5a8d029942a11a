"""A sweep's facts read back as they were written: its identity for resume=, a job's fingerprint,
and a list-valued axis. Real sweeps on a real sqlite store, read back through MlflowClient."""

from __future__ import annotations

import dataclasses
import json
import os
import socket

import pytest
from conftest import run_in_process
from mlflow import MlflowClient

from runner import api, config, report, run
from runner.config import RunnerConfig
from runner.tracking import plan
from runner.tracking.names import HOST_TAG, NOT_PARAMS, PID_TAG, SWEEP_DIR_TAG
from runner.tracking.store import open_store

DEFAULT_FINGERPRINT = (
    "ccbd0fe39497fff4"  # `python -m runner`'s job: pinned, so that a change of what it covers shows
)


@pytest.fixture
def store(tmp_path, new_store) -> str:
    return new_store(tmp_path / "outputs" / "mlflow.db")


def sweep(tmp_path, monkeypatch, *overrides: str) -> str:
    status, said = run_in_process("-m", *overrides, cwd=tmp_path, monkeypatch=monkeypatch)
    assert status == 0, said[-2000:]
    return said


def test_a_resume_with_the_overrides_in_another_order_keeps_every_job(tmp_path, store, monkeypatch):
    sweep(tmp_path, monkeypatch, "gate=or,and", "lr=0.5,1", "plots=false")
    resumed = sweep(tmp_path, monkeypatch, "plots=false", "lr=0.5,1", "gate=or,and", "resume=latest")
    assert "4 job(s) finished before are kept" in resumed
    assert resumed.count(": done before, its run ") == 4


def test_a_resume_that_switches_how_runs_are_shown_keeps_every_job(tmp_path, store, monkeypatch):
    sweep(tmp_path, monkeypatch, "lr=0.5,1", "plots=false")
    resumed = sweep(tmp_path, monkeypatch, "lr=0.5,1", "plots=true", "max_trace_rows=5", "resume=latest")
    assert resumed.count(": done before, its run ") == 2


def test_a_resume_of_a_sweep_that_finished_every_job_says_so(tmp_path, store, monkeypatch):
    """Not silent: a resume=latest after a command that logged nothing finds the sweep before it
    (issue 30, item 11)."""
    sweep(tmp_path, monkeypatch, "lr=0.5,1", "plots=false")
    resumed = sweep(tmp_path, monkeypatch, "lr=0.5,1", "plots=false", "resume=latest")
    assert "every one of its 2 jobs had finished (FINISHED): nothing is run again" in resumed


def test_a_child_whose_end_was_lost_is_ended_failed_by_the_close(tmp_path, store, monkeypatch):
    """A job returned, but its run's end never reached the store (a server that went away and
    came back): the sweep's close ends it FAILED, saying why, never leaving it RUNNING (issue 30,
    item 3)."""
    from runner.tracking.store import Store

    real, lost = Store.end_run, []

    def end_run(self, run_id: str, status: str) -> None:
        if not lost:  # the first job's end
            lost.append(run_id)
            return
        real(self, run_id, status)

    monkeypatch.setattr(Store, "end_run", end_run)
    said = sweep(tmp_path, monkeypatch, "lr=0.5,1", "plots=false")
    client = MlflowClient(tracking_uri=store)
    run = client.get_run(lost[0])
    assert run.info.status == "FAILED"
    assert (
        run.data.tags["error"]
        == "its job returned, but its run was never ended (the store went away as it ended?)"
    )
    assert "1 job failed:" in said and ": its job returned, but its run was never ended" in said
    statuses = {r.info.status for r in client.search_runs(["1"])}
    assert "RUNNING" not in statuses


def test_a_list_valued_axis_reads_back_whole(tmp_path, store, monkeypatch, capsys):
    sweep(tmp_path, monkeypatch, "init.weights=[0,0],[1,1]", "lr=1", "plots=false")
    client = MlflowClient(tracking_uri=store)
    (parent,) = client.search_runs(["1"], "tags.`sweep.dir` LIKE '%'")
    said = json.loads(parent.data.tags["sweep.json"])
    assert said["axes"] == [
        {"key": "init.weights", "values": ["[0,0]", "[1,1]"], "numeric": False, "spec": ""}
    ]
    assert said["overrides"] == ["init.weights=[0,0],[1,1]", "lr=1", "plots=false"]
    summary = api.sweep_runs(f"mlflow.tracking_uri={store}")
    assert summary["init.weights"].tolist() == ["[0, 0]", "[1, 1]"]
    report.main(["--tracking-uri", store])
    out = capsys.readouterr().out
    assert "[0, 0]" in out and "[1, 1]" in out and "'[0'" not in out


def test_the_fingerprint_is_of_what_a_job_trains():
    def fingerprint(*overrides: str) -> str:
        return run.fingerprint(config.read(api.compose(*overrides)))

    plain = fingerprint()
    assert plain == DEFAULT_FINGERPRINT
    shown = fingerprint("plots=false", "epoch_images=true", "run_page=true", "max_trace_rows=5")
    elsewhere = fingerprint("mlflow.experiment_name=other", "mlflow.tracking_uri=sqlite:///x.db")
    assert {shown, elsewhere} == {plain}
    # a key the schema and conf/ gain later, that trains the same: no fingerprint covers it
    wider = dataclasses.make_dataclass(
        "WiderConfig", [("a_key_added_to_conf", int, 1)], bases=(RunnerConfig,)
    )
    settings = config.read(api.compose())
    added = wider(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(RunnerConfig)})
    assert run.fingerprint(added) == plain
    trains_else = [("lr=0.5",), ("seed=1",), ("gate=and",), ("rule=hebb",), ("init.weights=[0,0]",)]
    trains_else += [("convention=mitchell",), ("convention=threshold",), ("convention.strict=true",)]
    assert len({fingerprint(*o) for o in trains_else} | {plain}) == len(trains_else) + 1


def test_every_key_of_the_config_either_trains_or_only_shows():
    placed = {*run.TRAINS, *run.SHOWN_ONLY, *NOT_PARAMS}
    assert set(RunnerConfig.__dataclass_fields__) - placed == set()


def test_a_job_apart_from_the_folder_finds_the_parent_that_runs_there(tmp_path, store, monkeypatch):
    """A job on a node that does not see the sweep's folder finds its parent by the folder's tag
    (plan.look_up). A folder named by hand serves one sweep after another, and a resumed sweep's
    parent started before the sweeps that used its folder since: the one that runs is the one;
    when none runs (a job a cluster ran after its sweep was stopped), the latest started."""
    client = MlflowClient(store)
    experiment = client.create_experiment("perceptron")
    key = str(tmp_path / "shared")
    first = client.create_run(experiment, tags={SWEEP_DIR_TAG: key, HOST_TAG: "elsewhere"}).info.run_id
    client.set_terminated(first, "KILLED")
    later = client.create_run(experiment, tags={SWEEP_DIR_TAG: key}).info.run_id
    client.set_terminated(later, "FINISHED")
    assert plan.look_up(store, "perceptron", key).run_id == later
    monkeypatch.setattr(plan, "CLAIM_WAIT", 0.0)
    plan.reopen(open_store(store), first, key)  # `first` resumed here, into the same folder
    found = plan.look_up(store, "perceptron", key)
    assert found is not None and found.run_id == first and not found.shared_folder
    owner = client.get_run(first).data.tags  # owned by this process on this host, not the other's
    assert (owner[HOST_TAG], owner[PID_TAG]) == (socket.gethostname(), str(os.getpid()))
