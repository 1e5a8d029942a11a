"""The real command line, end to end: `python -m runner` in a fresh folder, read back from MLflow."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import GATES, run_cli, run_in_process
from mlflow import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from runner import perceptron, report
from runner.perceptron import trace_columns

pytestmark = pytest.mark.slow


def store(folder: Path, name: str = "outputs/mlflow.db") -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{folder / name}")


def all_runs(client: MlflowClient):
    experiment = client.get_experiment_by_name("perceptron")
    return client.search_runs([experiment.experiment_id]) if experiment else []


def read_table(client: MlflowClient, run, name: str, folder: Path) -> pd.DataFrame:
    """A table logged with log_table, as the UI finds it: tagged, and stored as split JSON."""
    assert {"path": name, "type": "table"} in json.loads(run.data.tags["mlflow.loggedArtifacts"])
    path = client.download_artifacts(run.info.run_id, name, str(folder / "downloads"))
    return pd.read_json(path, orient="split")


@pytest.fixture(scope="module")
def or_run(tmp_path_factory):
    """The tutorial's worked case, run once from a folder that is not the repo."""
    folder = tmp_path_factory.mktemp("single")
    proc = run_cli("gate=or", "lr=1", "init.weights=[0,0]", "init.bias=0", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    client = store(folder)
    (run,) = all_runs(client)
    return folder, proc, client, run


def test_single_run_console_shows_the_tutorial(or_run):
    folder, proc, _, run = or_run
    out = proc.stdout
    assert "Input vectors X:  (-1, -1), (-1, 1), (1, -1), (1, 1)" in out
    assert "Target vector T:  (-1, 1, 1, 1)" in out
    assert "Initial weights:  W = (0, 0), b = 0" in out
    assert out.index("Epoch 1") < out.index("Epoch 2")
    header = " epoch  X1  X2  T  yin  Y  W1  W2  b  delW1  delW2  delb"
    assert out.count(header) == 2
    assert "     1  -1   1  1   -1 -1   0   2  0     -1      1     1" in out
    assert "Converged after 2 epochs with 3 updates: final W = (1, 1), b = 1" in out
    assert (
        "The table is linearly separable: from zero weights the perceptron makes at most (R/γ)² = 9 updates"
        in out
    )
    assert "mlflow ui --backend-store-uri sqlite:///outputs/mlflow.db" in out
    experiment, run_id = run.info.experiment_id, run.info.run_id
    base = f"http://127.0.0.1:5000/#/experiments/{experiment}/runs"
    assert f"\n  this run:  {base}/{run_id}/artifacts/run.html?workflowType=machine_learning\n" in out
    assert f"\n  its run:   {base}/{run_id}?workflowType=machine_learning\n" in out
    assert f"\n  all runs:  {base}?workflowType=machine_learning" in out
    (log_file,) = (folder / "outputs" / "runs").glob("*/*/runner.log")
    assert "Converged after 2 epochs with 3 updates" in log_file.read_text()
    assert header in log_file.read_text()


def test_single_run_logs_params_with_the_values_used(or_run):
    _, _, _, run = or_run
    params = run.data.params
    assert params["gate"] == "or"
    assert params["lr"] == "1.0"
    assert params["seed"] == "0"
    assert params["max_epochs"] == "100"
    assert params["init.weights"] == "0 0"  # a vector or a table on one line, exactly
    assert params["init.bias"] == "0.0"
    assert params["init.low"] == "-0.5" and params["init.high"] == "0.5"
    assert params["gate.inputs"] == "-1 -1; -1 1; 1 -1; 1 1"

    assert params["gate.targets"] == "-1 1 1 1"
    assert (params["gate.n_inputs"], params["gate.inputs_encoding"], params["gate.targets_encoding"]) == (
        "2",
        "bipolar",
        "bipolar",
    )
    assert (params["rule"], params["rule.tolerance"]) == ("perceptron", "null")
    assert (params["activation"], params["activation.theta"]) == ("step", "null")
    assert (params["order"], params["stop_reason"]) == ("table", "converged")
    assert not any(key.startswith("mlflow") for key in params)


def test_single_run_logs_metrics_per_epoch_and_a_summary(or_run):
    _, _, client, run = or_run
    run_id = run.info.run_id

    def history(key):
        return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]

    assert history("errors") == [(1, 3), (2, 0)]
    assert history("w1") == [(1, 1), (2, 1)]
    assert history("w2") == [(1, 1), (2, 1)]
    assert history("b") == [(1, 1), (2, 1)]
    assert history("mse") == [(1, (1 + 4 + 9 + 4) / 4), (2, (0 + 0 + 0 + 4) / 4)]
    metrics = run.data.metrics
    assert (metrics["epochs"], metrics["converged"], metrics["updates"]) == (2, 1, 3)
    assert (metrics["separable"], metrics["cycle_length"]) == (1, 0)
    assert metrics["update_bound"] == 9  # whole, as (R/γ)² is: not 9.000000000000014
    assert run.data.tags["stop_reason"] == "converged"


def test_single_run_artifacts_status_and_name(or_run):
    folder, _, client, run = or_run
    run_id = run.info.run_id
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "or lr=1 seed=0 init.weights=[0,0] init.bias=0"  # not the random start's name
    expected = perceptron.train(
        [[-1, -1], [-1, 1], [1, -1], [1, 1]], [-1, 1, 1, 1], [0, 0], 0, perceptron.Setup(1, 100)
    ).trace
    downloads = folder / "downloads"
    downloads.mkdir(exist_ok=True)
    csv = client.download_artifacts(run_id, "trace.csv", str(downloads))
    pd.testing.assert_frame_equal(pd.read_csv(csv), expected)
    pd.testing.assert_frame_equal(read_table(client, run, "trace.json", folder), expected)
    gate = pd.read_csv(client.download_artifacts(run_id, "gate.csv", str(downloads)))
    assert gate.to_dict("list") == {"X1": [-1, -1, 1, 1], "X2": [-1, 1, -1, 1], "T": [-1, 1, 1, 1]}
    names = {a.path for a in client.list_artifacts(run_id, "hydra")}
    assert names == {"hydra/config.yaml", "hydra/overrides.yaml", "hydra/hydra.yaml"}
    overrides = Path(client.download_artifacts(run_id, "hydra/overrides.yaml", str(downloads)))
    assert "init.weights=[0,0]" in overrides.read_text()
    # artifacts stay under outputs/, beside the store; its page too, and in the run's folder
    assert (folder / "outputs" / "mlartifacts" / run_id / "artifacts" / "trace.csv").is_file()
    logged = folder / "outputs" / "mlartifacts" / run_id / "artifacts" / "run.html"
    (written,) = (folder / "outputs" / "runs").glob("*/*/run.html")
    assert logged.read_text() == written.read_text() and "Converged after 2 epochs" in written.read_text()
    assert {p.name for p in folder.iterdir()} - {"downloads"} == {"outputs"}


def test_single_run_steps_through_its_epochs_as_mlflow_images(or_run):
    """The run's page shows its decision line as an image chart with MLflow's step slider: the
    start (step 0) and each epoch, a full picture and the UI's compressed one per step."""
    _, _, client, run = or_run
    images = [a.path for a in client.list_artifacts(run.info.run_id, "images")]
    steps = sorted({int(p.split("+step+")[1].split("+")[0]) for p in images})
    assert steps == [0, 1, 2] and len(images) == 6
    assert all(p.startswith("images/decision_line+step+") for p in images)
    assert sum(p.endswith("+compressed.webp") for p in images) == 3
    assert run.data.tags["mlflow.loggedImages"] == "True"


def test_single_run_logs_its_epochs_as_an_animation_for_slides(or_run, tmp_path):
    """The decision line through the epochs as a looping GIF, a frame an epoch (issue 31, item 4)."""
    from PIL import Image

    _, _, client, run = or_run
    assert "plots/decision_lines.gif" in {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    gif = client.download_artifacts(run.info.run_id, "plots/decision_lines.gif", str(tmp_path))
    with Image.open(gif) as animation:
        assert animation.format == "GIF" and animation.n_frames == 3  # the start and 2 epochs
        assert animation.info["loop"] == 0


def test_single_run_logs_its_gate_as_a_dataset(or_run):
    _, _, _, run = or_run
    (found,) = run.inputs.dataset_inputs
    assert found.dataset.name == "or" and json.loads(found.dataset.source)["uri"].endswith(
        "conf/gate/or.yaml"
    )
    assert json.loads(found.dataset.profile) == {"num_rows": 4, "num_elements": 12}
    assert [c["name"] for c in json.loads(found.dataset.schema)["mlflow_colspec"]] == ["X1", "X2", "T"]


def test_epoch_images_are_a_setting(tmp_path, new_store, monkeypatch):
    new_store(tmp_path / "outputs" / "mlflow.db")
    status, said = run_in_process("gate=or", "epoch_images=false", cwd=tmp_path, monkeypatch=monkeypatch)
    assert status == 0, said
    (run,) = all_runs(store(tmp_path))
    assert not client_images(store(tmp_path), run) and "mlflow.loggedImages" not in run.data.tags
    assert run.data.params["epoch_images"] == "false"


def client_images(client: MlflowClient, run) -> list[str]:
    return [a.path for a in client.list_artifacts(run.info.run_id, "images")]


def test_xor_ends_cleanly_not_converged(tmp_path, new_store):
    new_store(tmp_path / "outputs" / "mlflow.db")
    # hydra.job.chdir=true: jobs run in their own folders, yet log to the one store
    proc = run_cli(
        "-m", "gate=xor", "order=table,shuffle", "max_epochs=20", "hydra.job.chdir=true", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("*.db")] == [Path("outputs/mlflow.db")]
    assert "] xor lr=1 seed=0: Not converged: the weights repeat every " in proc.stdout
    assert "] xor shuffled lr=1 seed=0: Not converged after 20 epochs (max_epochs reached)" in proc.stdout
    logs = sorted((tmp_path / "outputs" / "multirun").glob("*/*/*/runner.log"))
    assert all("The table is not linearly separable" in p.read_text() for p in logs)
    runs = {r.info.run_name: r for r in all_runs(store(tmp_path))}
    (parent,) = [runs.pop(name) for name in list(runs) if name.startswith("sweep: order, 2 runs, ")]
    assert {r.data.tags[MLFLOW_PARENT_RUN_ID] for r in runs.values()} == {parent.info.run_id}
    cycled, shuffled = runs["xor lr=1 seed=0"], runs["xor shuffled lr=1 seed=0"]
    for run in (cycled, shuffled):
        assert run.info.status == "FINISHED"
        assert (run.data.metrics["converged"], run.data.metrics["separable"]) == (0, 0)
        assert math.isnan(run.data.metrics["update_bound"])
    assert cycled.data.tags["stop_reason"] == cycled.data.params["stop_reason"] == "cycle"
    assert cycled.data.metrics["epochs"] <= 5 and cycled.data.metrics["cycle_length"] >= 1
    assert shuffled.data.tags["stop_reason"] == "max_epochs"
    assert (shuffled.data.metrics["epochs"], shuffled.data.metrics["cycle_length"]) == (20, 0)


def test_own_gate_file_override_beats_the_environment_and_long_values_become_an_artifact(
    tmp_path, new_store, monkeypatch
):
    """A gate file of the user's (here in a folder added with --config-dir) with a big table."""
    rows = [[-1, -1], [-1, 1], [1, -1], [1, 1]] * 260  # 6,238 characters on one line
    targets = [-1, 1, 1, 1] * 260
    (tmp_path / "extra" / "gate").mkdir(parents=True)
    (tmp_path / "extra" / "gate" / "big_or.yaml").write_text(
        "name: big_or\nn_inputs: 2\ninputs_encoding: bipolar\ntargets_encoding: bipolar\n"
        f"inputs: {json.dumps(rows)}\ntargets: {json.dumps(targets)}\n"
    )
    new_store(tmp_path / "chosen.db")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'env.db'}")
    status, said = run_in_process(
        "--config-dir",
        str(tmp_path / "extra"),
        "gate=big_or",
        "max_epochs=1",
        f"mlflow.tracking_uri=sqlite:///{tmp_path / 'chosen.db'}",
        cwd=tmp_path,
        monkeypatch=monkeypatch,
    )
    assert status == 0, said
    assert not (tmp_path / "env.db").exists()
    (run,) = all_runs(store(tmp_path, "chosen.db"))
    assert run.info.run_name == "big_or lr=1 seed=0 max_epochs=1"  # every value set that tells it apart
    assert "gate.inputs" not in run.data.params
    assert run.data.params["gate.targets"] == " ".join(map(str, targets))
    path = store(tmp_path, "chosen.db").download_artifacts(
        run.info.run_id, "params_too_long.json", str(tmp_path)
    )
    assert json.loads(Path(path).read_text()) == {"gate.inputs": rows}  # whole, as JSON
    (found,) = run.inputs.dataset_inputs  # its own table, its own file: its own digest
    assert found.dataset.name == "big_or"
    assert json.loads(found.dataset.source)["uri"] == str(tmp_path / "extra" / "gate" / "big_or.yaml")
    assert json.loads(found.dataset.profile)["num_rows"] == 1040


BAD_INPUTS = {
    "lr=abc": ["lr", "abc"],
    "lr=0": ["lr", "0", "> 0"],
    "lr=-1": ["lr", "-1", "> 0"],
    "max_epochs=0": ["max_epochs", "0", ">= 1"],
    "seed=1.5": ["seed", "1.5", "Integer"],
    "init.weights=[1]": ["init.weights", "[1.0]", "2 finite numbers"],
    "init.weights=[nan,1]": ["init.weights", "nan", "2 finite numbers"],
    "gate=foo": ["gate", "foo", *GATES],
    "gate=custom gate.inputs=[[1e200,1],[1,1]] gate.targets=[1,-1]": ["gate.inputs", "squared length"],
    "resume=latest": ["resume='latest'", "a sweep, so it goes with -m"],
    "lrr=1": ["Unknown config key 'lrr': did you mean lr?"],
    "+lrr=1": ["Unknown config key 'lrr': did you mean lr?"],  # not Hydra's "use +lrr=1", nor a junk param
    "gate.n_input=3": ["Unknown config key 'gate.n_input': did you mean gate.n_inputs"],
    # issue 30, items 7, 18, 19: each once a traceback, Hydra's lines or numpy's, or a late failure
    "gate=xorr": ["gate=xorr: there is no 'xorr' in gate (the choices: and, custom,"],
    "~lr": ["Invalid config: lr: "],
    "lr=${lr}": ["Invalid config: Recursive interpolation detected"],
    "init.low=-1e308 init.high=1e308": ["init.high=1e+308", "high − low must be finite"],
    "seed=1180591620717411303424": [
        "seed=1180591620717411303424",
        "a whole number from 0 to 9223372036854775807",
    ],
    f"mlflow.experiment_name={'x' * 600}": [
        "mlflow.experiment_name=",
        "(600 characters)",
        "at most 500 characters",
    ],
    f"gate.name={'g' * 600}": ["gate.name=", "(600 characters)", "a name of 1 to 500 characters"],
}


@pytest.mark.parametrize("override", BAD_INPUTS)
def test_bad_input_is_one_clear_error_and_nothing_is_logged(tmp_path, override, monkeypatch):
    status, said = run_in_process(*override.split(), cwd=tmp_path, monkeypatch=monkeypatch)
    assert status != 0
    assert "Traceback" not in said
    assert len(said.strip().splitlines()) == 1, said  # one line, whatever went wrong
    for piece in BAD_INPUTS[override]:
        assert piece in said, said
    assert not (tmp_path / "outputs" / "mlflow.db").exists()


def test_our_own_errors_are_one_line(tmp_path, monkeypatch):
    assert run_in_process("init.weights=[1]", cwd=tmp_path, monkeypatch=monkeypatch) == (
        1,
        "Invalid config: init.weights=[1.0] is not allowed: null (random) or a list of 2 finite "
        "numbers, one per input of gate 'or'\n",
    )
    assert run_in_process("lrr=1", cwd=tmp_path, monkeypatch=monkeypatch) == (
        1,
        "Unknown config key 'lrr': did you mean lr? (--cfg job shows every key)\n",
    )


def test_a_bad_sweep_point_fails_alone_and_no_run_stays_running(tmp_path, new_store):
    new_store(tmp_path / "outputs" / "mlflow.db")
    proc = run_cli("-m", "lr=0,1", cwd=tmp_path)
    assert proc.returncode != 0
    assert "Invalid config: lr=0.0 is not allowed" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    runs = {r.info.run_name: r for r in all_runs(store(tmp_path))}
    statuses = sorted((name, r.info.status) for name, r in runs.items())
    assert statuses[:2] == [("or lr=0 seed=0", "FAILED"), ("or lr=1 seed=0", "FINISHED")]
    assert statuses[2][0].startswith("sweep: lr, 2 runs, ") and statuses[2][1] == "FAILED"
    failed, parent = runs["or lr=0 seed=0"], runs[statuses[2][0]]
    assert failed.data.tags["error"].startswith("ConfigError: Invalid config: lr=0.0 is not allowed")
    assert failed.data.tags[MLFLOW_PARENT_RUN_ID] == parent.info.run_id
    summary = pd.read_csv(
        store(tmp_path).download_artifacts(parent.info.run_id, "summary.csv", str(tmp_path))
    )
    assert summary["status"].tolist() == ["FAILED", "FINISHED"]
    assert summary["error"].fillna("").str.startswith("ConfigError").tolist() == [True, False]


@pytest.mark.parametrize(
    "sweep, why",
    [
        (["lr=0.1,abc,1"], "lr=abc: Value 'abc' of type 'str' could not be converted to Float"),
        (["seed=0,1.5"], "seed=1.5: Value '1.5' of type 'float' could not be converted to Integer"),
        (
            ["gate=or,xorr"],
            "gate=xorr: there is no 'xorr' in gate "
            "(the choices: and, custom, majority, nand, nor, or, xnor, xor)",
        ),
        (["lrr=0.1,1"], "Unknown config key 'lrr': did you mean lr? (--cfg job shows every key)"),
        (["+lrr=0.1,1"], "Unknown config key 'lrr': did you mean lr? (--cfg job shows every key)"),
        (["~lr", "gate=or,and"], "~lr: every run needs lr (give it a value instead)"),
        (
            ["lr=${oc.env:RUNNER_NO_SUCH_VARIABLE},1"],
            "InterpolationResolutionError: KeyError raised while resolving interpolation: "
            "\"Environment variable 'RUNNER_NO_SUCH_VARIABLE' not found\"",
        ),
        (["sweep=textbook", "rule=hebb,perceptronn"], "rule=perceptronn: there is no 'perceptronn' in rule"),
    ],
    ids=[
        "wrong type",
        "float for a whole number",
        "unknown gate",
        "key typo",
        "key added",
        "key removed",
        "no such variable",
        "a preset's axis",
    ],
)
def test_a_sweep_point_that_cannot_be_composed_stops_the_sweep_in_one_line_with_no_parent(
    tmp_path, new_store, sweep, why, monkeypatch
):
    new_store(tmp_path / "outputs" / "mlflow.db")
    status, said = run_in_process("-m", *sweep, "plots=false", cwd=tmp_path, monkeypatch=monkeypatch)
    assert status == 1
    (line,) = said.strip().splitlines()
    assert line.startswith(f"Cannot start the sweep: {why}") and line.endswith("; nothing was run or logged")
    assert all_runs(store(tmp_path)) == [] and not list(tmp_path.glob("outputs/multirun/*/*/0"))


def test_a_deleted_experiment_is_one_clear_error(tmp_path, new_store, monkeypatch):
    uri = new_store(tmp_path / "outputs" / "mlflow.db")
    client = MlflowClient(tracking_uri=uri)
    client.delete_experiment(client.create_experiment("perceptron"))
    status, said = run_in_process("gate=and", cwd=tmp_path, monkeypatch=monkeypatch)
    assert status != 0
    assert said.strip().splitlines()[-1:] == [
        f"MLflow experiment 'perceptron' was deleted in {uri}: restore it in the MLflow UI, "
        "or log to another one with mlflow.experiment_name=..."
    ]
    assert client.search_runs([client.get_experiment_by_name("perceptron").experiment_id]) == []


def test_fausett_example_from_the_command_line(tmp_path, new_store, monkeypatch):
    new_store(tmp_path / "outputs" / "mlflow.db")
    status, said = run_in_process(
        "gate=custom",
        "gate.inputs=[[1,1],[1,0],[0,1],[0,0]]",
        "gate.targets=[1,-1,-1,-1]",
        "activation=band",
        "activation.theta=0.2",
        "init.weights=[0,0]",
        "init.bias=0",
        cwd=tmp_path,
        monkeypatch=monkeypatch,
    )
    assert status == 0, said
    assert "Converged after 10 epochs with 22 updates: final W = (2, 3), b = -4" in said
    (run,) = all_runs(store(tmp_path))
    assert run.info.run_name == (
        "custom band θ=0.2 lr=1 seed=0 gate.inputs=[[1,1],[1,0],[0,1],[0,0]] gate.targets=[1,-1,-1,-1] "
        "init.weights=[0,0] init.bias=0"
    )  # every value set on the command line: no other run shares its name
    p, m = run.data.params, run.data.metrics
    assert (p["gate"], p["activation"], p["activation.theta"], p["stop_reason"]) == (
        "custom",
        "band",
        "0.2",
        "converged",
    )
    assert (m["epochs"], m["updates"], m["w1"], m["w2"], m["b"]) == (10, 22, 2, 3, -4)


def test_rules_encodings_widths_and_order_reach_mlflow_from_a_sweep(tmp_path, new_store):
    new_store(tmp_path / "outputs" / "mlflow.db")
    proc = run_cli(
        "-m",
        "rule=hebb,adaline",
        "gate=majority",
        "gate.inputs_encoding=binary",
        "order=shuffle",
        "lr=0.05",
        "max_epochs=300",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    runs = {r.info.run_name: r for r in all_runs(store(tmp_path)) if r.info.run_name[:5] != "sweep"}
    assert sorted(runs) == [
        "majority adaline shuffled lr=0.05 seed=0",
        "majority hebb shuffled lr=0.05 seed=0",
    ]
    hebb, adaline = (
        runs["majority hebb shuffled lr=0.05 seed=0"],
        runs["majority adaline shuffled lr=0.05 seed=0"],
    )
    assert hebb.data.params["stop_reason"] == "single_pass" and hebb.data.metrics["epochs"] == 1
    assert adaline.data.params["stop_reason"] in ("tolerance", "max_epochs")
    for run in (hebb, adaline):
        p = run.data.params
        assert (p["gate.n_inputs"], p["gate.inputs_encoding"], p["order"]) == ("3", "binary", "shuffle")
        assert p["gate.inputs"].startswith("0 0 0; 0 0 1; ")
        assert {"w1", "w2", "w3", "b", "mse", "errors"} <= set(run.data.metrics)
        assert run.data.metrics["separable"] == 1
    client = store(tmp_path)
    mse = [m.value for m in client.get_metric_history(adaline.info.run_id, "mse")]
    assert mse[-1] < mse[0]
    trace = pd.read_csv(client.download_artifacts(adaline.info.run_id, "trace.csv", str(tmp_path)))
    assert list(trace.columns) == trace_columns(3)


def test_the_report_says_when_there_is_no_sweep(tmp_path, new_store):
    uri = new_store(tmp_path / "empty.db")
    MlflowClient(tracking_uri=uri).create_experiment("perceptron")
    with pytest.raises(SystemExit) as stop:
        report.main(["--tracking-uri", uri])
    assert str(stop.value) == f"No sweep in experiment 'perceptron' of {uri}"
    with pytest.raises(SystemExit) as stop:
        report.main(["--tracking-uri", uri, "--experiment", "other"])
    assert str(stop.value) == f"No MLflow experiment 'other' in {uri}"


def test_the_report_only_reads(tmp_path):
    """A store that is not there is an error, never created; nor is any file asked for."""
    missing = tmp_path / "nothing" / "mlflow.db"
    with pytest.raises(SystemExit) as stop:
        report.main(
            [
                "--tracking-uri",
                f"sqlite:///{missing}",
                "--csv",
                str(tmp_path / "csv"),
                "--markdown",
                str(tmp_path / "report.md"),
            ]
        )
    assert str(stop.value).startswith(f"No MLflow store at {missing} ")
    assert list(tmp_path.iterdir()) == []


def test_an_overflow_is_diverged_never_converged(tmp_path, monkeypatch):
    overrides = ["gate=xor", "lr=1e308", "init.weights=[1e308,1e308]", "init.bias=1e308", "plots=false"]
    status, said = run_in_process(*overrides, cwd=tmp_path, monkeypatch=monkeypatch)
    assert status == 0, said
    assert "Diverged after 1 epoch: a weight, the bias or a net input overflowed" in said
    (run,) = all_runs(store(tmp_path))
    assert (run.data.params["stop_reason"], run.data.metrics["converged"]) == ("diverged", 0)


@pytest.mark.scale
def test_a_sweep_with_a_seed_past_64_bits_fails_that_job_and_is_still_reviewed(tmp_path):
    """The seed's job fails with its one line; the parent keeps every job's row (the seed as
    typed) and its review; the report reads it back (issue 30, item 7: the parent once ended with
    no summary, the command with exit status 0, the report with a traceback)."""
    huge = "1180591620717411303424"
    proc = run_cli("-m", f"seed={huge},1", "plots=false", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"#0 or lr=1 seed={huge}: ConfigError: Invalid config: seed={huge} is not allowed" in proc.stderr
    client = store(tmp_path)
    (parent,) = [r for r in all_runs(client) if "mlflow.parentRunId" not in r.data.tags]
    assert parent.info.status == "FAILED" and parent.data.metrics["runs"] == 2
    assert "sweep.html" in {a.path for a in client.list_artifacts(parent.info.run_id)}
    report = subprocess.run(
        [sys.executable, "-m", "runner.report"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert report.returncode == 0 and "Traceback" not in report.stderr, report.stderr
