"""runner.api, as a notebook uses it: the same configs and overrides as the command line, the same
trace, the same one-line errors, and a run logged as the command line logs it."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli, run_in_process
from mlflow import MlflowClient
from test_readme import example

from runner import api
from runner.tracking.errors import UsageError


def test_a_run_from_python_prints_the_readmes_trace():
    overrides, shown = example()
    training = api.train(*overrides)
    assert training.text() == shown.split("\nMLflow UI:")[0]
    assert training.name == "or lr=1 seed=0 init.weights=[0,0] init.bias=0" and training.run_id is None
    assert training.trace[["epoch", "W1", "W2", "b"]].iloc[-1].tolist() == [2, 1, 1, 1]
    assert training.result.converged and training.result.epochs == 2


@pytest.mark.parametrize("override", ["lr=abc", "lr=-1", "lrr=1", "gate=xorr", "resume=latest"])
def test_bad_input_is_the_command_lines_error(override, tmp_path, monkeypatch):
    with pytest.raises(UsageError) as raised:
        api.train("gate=or", override)
    status, printed = run_in_process("gate=or", override, cwd=tmp_path, monkeypatch=monkeypatch)
    assert status == 1
    assert str(raised.value) == printed.strip()
    error = raised.value  # and no error of Hydra's inside, to print as "During handling ..."
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_a_run_logged_from_python_is_the_command_lines_run(tmp_path, new_store, monkeypatch):
    uri = new_store(tmp_path / "outputs" / "mlflow.db")
    monkeypatch.chdir(tmp_path)  # the default store, relative to the current folder
    overrides = ["gate=or", "lr=1", "init.weights=[0,0]", "init.bias=0"]
    logged = api.train(*overrides, log=True)
    assert run_cli(*overrides, cwd=tmp_path).returncode == 0
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("perceptron").experiment_id
    ours, theirs = client.search_runs([experiment], order_by=["attributes.start_time ASC"])
    assert ours.info.run_id == logged.run_id and ours.info.status == "FINISHED"
    assert ours.info.run_name == theirs.info.run_name == "or lr=1 seed=0 init.weights=[0,0] init.bias=0"
    assert ours.data.params == theirs.data.params
    assert ours.data.metrics == theirs.data.metrics
    assert ours.inputs.dataset_inputs[0].dataset.digest == theirs.inputs.dataset_inputs[0].dataset.digest

    def listed(run, folder: str | None = None) -> set[str]:
        return {a.path.split("+timestamp+")[0] for a in client.list_artifacts(run.info.run_id, folder)}

    assert listed(ours) == listed(theirs)  # tables, hydra/, plots/, images/
    assert listed(ours, "plots") == listed(theirs, "plots")
    assert listed(ours, "images") == listed(theirs, "images")  # the same steps
    assert listed(ours, "hydra") == listed(theirs, "hydra") - {"hydra/hydra.yaml"}  # no Hydra job ran
    config = client.download_artifacts(ours.info.run_id, "hydra/config.yaml", str(tmp_path))
    assert "lr: 1.0" in open(config).read()


def test_a_sweeps_runs_read_back_from_python(tmp_path, new_store):
    uri = new_store(tmp_path / "outputs" / "mlflow.db")
    assert run_cli("-m", "gate=or,and", "lr=0.5,1", "plots=false", cwd=tmp_path).returncode == 0
    runs = api.sweep_runs(f"mlflow.tracking_uri={uri}")
    assert runs[["gate", "lr", "status"]].values.tolist() == [
        ["or", 0.5, "FINISHED"],
        ["or", 1.0, "FINISHED"],
        ["and", 0.5, "FINISHED"],
        ["and", 1.0, "FINISHED"],
    ]
    parent = MlflowClient(uri).get_run(runs["run_id"][0]).data.tags["mlflow.parentRunId"]
    assert api.sweep_runs(f"mlflow.tracking_uri={uri}", parent=parent).equals(runs)
    assert json.loads(runs.to_json())  # plain values, for a notebook's table
