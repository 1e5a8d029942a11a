"""A real multirun from the command line, read back from MLflow: its children, its parent run (name,
params, metrics, description, files), the MLflow UI views it saves, its console, and the report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import run_cli
from mlflow import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from runner import perceptron, report, views

pytestmark = pytest.mark.slow

SWEEP = ["-m", "gate=or,xor", "lr=0.5,1", "seed=0,1", "max_epochs=10"]  # 8 jobs


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """One sweep over three axes, logged to a store named by MLFLOW_TRACKING_URI."""
    folder = tmp_path_factory.mktemp("sweep")
    uri = f"sqlite:///{folder / 'team.db'}"
    proc = run_cli(*SWEEP, cwd=folder, env={"MLFLOW_TRACKING_URI": uri})
    assert proc.returncode == 0, proc.stderr
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("perceptron")
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    children = sorted((r for r in runs if r is not parent), key=lambda r: int(r.data.tags["hydra.job.num"]))
    return folder, uri, proc, client, parent, children


def download(client: MlflowClient, run_id: str, name: str, folder: Path) -> Path:
    (folder / "downloads").mkdir(exist_ok=True)
    return Path(client.download_artifacts(run_id, name, str(folder / "downloads")))


def test_the_environment_store_wins_over_the_default(swept):
    folder, *_ = swept
    assert not (folder / "outputs" / "mlflow.db").exists()


def test_every_job_is_a_child_of_one_finished_parent(swept):
    *_, parent, children = swept
    assert parent.info.status == "FINISHED"
    assert [r.info.run_name for r in children] == [
        f"{gate} lr={lr} seed={seed}" for gate in ("or", "xor") for lr in ("0.5", "1") for seed in (0, 1)
    ]
    assert {r.data.tags[MLFLOW_PARENT_RUN_ID] for r in children} == {parent.info.run_id}
    assert {r.info.status for r in children} == {"FINISHED"}


def test_each_run_logs_its_gate_as_a_dataset_the_runs_can_be_filtered_by(swept):
    _, _, _, client, parent, children = swept
    inputs = {c.info.run_name: c.inputs.dataset_inputs for c in children}
    assert {len(found) for found in inputs.values()} == {1}
    datasets = {name: found[0].dataset for name, found in inputs.items()}
    assert {name.split()[0] for name in datasets} == {d.name for d in datasets.values()} == {"or", "xor"}
    digests = {d.name: {e.digest for e in datasets.values() if e.name == d.name} for d in datasets.values()}
    assert [len(found) for found in digests.values()] == [1, 1]  # the same table, the same digest
    assert digests["or"] != digests["xor"]
    assert json.loads(datasets["or lr=1 seed=0"].source)["uri"].endswith("conf/gate/or.yaml")
    assert {i.tags[0].key: i.tags[0].value for i in inputs["or lr=1 seed=0"]} == {
        "mlflow.data.context": "training"
    }
    experiment = parent.info.experiment_id
    found = client.search_runs([experiment], "dataset.name = 'xor'")
    assert sorted(r.info.run_name for r in found) == sorted(n for n in datasets if n.startswith("xor"))
    (digest,) = digests["or"]
    assert len(client.search_runs([experiment], f"dataset.digest = '{digest}'")) == 4


def test_a_sweeps_jobs_log_no_epoch_images_unless_asked(swept):
    _, _, _, client, _, children = swept
    assert not [a for a in client.list_artifacts(children[0].info.run_id) if a.path == "images"]


def test_children_compare_side_by_side(swept):
    *_, children = swept
    assert len({frozenset(r.data.params) for r in children}) == 1
    # the same metrics, but for the one only a run that converged logs (MLflow's charts average it)
    assert len({frozenset(r.data.metrics) - {"epochs_to_converge"} for r in children}) == 1
    for run in children:
        assert ("epochs_to_converge" in run.data.metrics) == (run.data.metrics["converged"] == 1)
    assert [r.data.params["lr"] for r in children] == ["0.5"] * 2 + ["1.0"] * 2 + ["0.5"] * 2 + ["1.0"] * 2
    assert [r.data.metrics["lr"] for r in children] == [0.5] * 2 + [1.0] * 2 + [0.5] * 2 + [1.0] * 2
    for child in children:
        seed = int(child.data.params["seed"])
        weights, bias = perceptron.initial_parameters(2, seed=seed, low=-0.5, high=0.5)
        assert child.data.params["init.weights"] == " ".join(json.dumps(w) for w in weights)
        assert float(child.data.params["init.bias"]) == bias


def test_the_trace_in_the_ui_rounds_to_what_a_person_reads(swept):
    folder, _, _, client, _, children = swept
    run_id = children[0].info.run_id  # random initial weights: fractions
    full = pd.read_csv(download(client, run_id, "trace.csv", folder))
    shown = pd.read_json(download(client, run_id, "trace.json", folder), orient="split", precise_float=True)
    assert (full["W1"] != full["W1"].round(6)).any()
    for column in full.columns:
        expected = [float(f"{v:.6g}") for v in full[column]]
        assert shown[column].tolist() == pytest.approx(expected, rel=0, abs=0), column


def test_the_parent_is_named_after_what_it_swept_and_when(swept):
    *_, parent, _ = swept
    assert re.fullmatch(r"sweep: gate×lr×seed, 8 runs, \d\d:\d\d:\d\d", parent.info.run_name)


def test_the_parent_params_say_what_was_swept(swept):
    *_, parent, _ = swept
    assert parent.data.params == {
        "sweep.axes": "gate,lr,seed",
        "sweep.gate": "or,xor",
        "sweep.lr": "0.5,1",
        "sweep.seed": "0,1",
        "sweep.jobs": "8",
        "sweep.launcher": "cached",
        "sweep.sweeper": "cached",
        "sweep.search": "false",
    }
    assert parent.data.tags["sweep.overrides"] == " ".join(SWEEP[1:])


def eta_squared(values: list[float], labels: list[str]) -> float:
    """The between-group share of the variance, by hand: Σ n_g (mean_g − mean)² / Σ (x − mean)²."""
    mean = sum(values) / len(values)
    groups: dict[str, list[float]] = {}
    for value, label in zip(values, labels):
        groups.setdefault(label, []).append(value)
    between = sum(len(g) * (sum(g) / len(g) - mean) ** 2 for g in groups.values())
    return between / sum((v - mean) ** 2 for v in values)


def test_the_parent_metrics_sum_the_sweep_up(swept):
    """xor never converges: its runs' epochs (stopped by a cycle, as few as 2) count in no mean,
    no best cell and no importance; only or's runs say how fast a setting learns."""
    *_, parent, children = swept
    learned = [c for c in children if c.data.metrics["converged"] == 1]
    assert {c.data.params["gate"] for c in learned} == {"or"} and len(learned) == 4
    epochs = [c.data.metrics["epochs"] for c in learned]
    or_cells = [sum(epochs[i : i + 2]) / 2 for i in (0, 2)]
    importance = {
        f"importance.{axis}": eta_squared(epochs, [c.data.params[axis] for c in learned])
        for axis in ("gate", "lr")
    }
    assert importance["importance.gate"] == 0  # among the runs that converged, all or
    assert parent.data.metrics == pytest.approx(
        {
            "runs": 8,
            "missing": 0,  # jobs planned with no run in the store
            "finished": 8,
            "share_converged": 0.5,
            "epochs_mean": sum(epochs) / 4,
            "epochs_max": max(epochs),
            "best_cell_epochs": min(or_cells),
            **importance,  # which setting mattered: every axis but the seed
        }
    )
    best_lr = "0.5" if or_cells[0] < or_cells[1] else "1"
    assert parent.data.tags["best"].startswith(f"gate=or lr={best_lr}, ")


def test_the_parent_description_is_the_pivot_in_words(swept):
    *_, parent, children = swept
    note = parent.data.tags["mlflow.note.content"]
    assert note.startswith(f"**{parent.info.run_name}**: 8 of 8 runs finished; 4 converged (50%), in ")
    lr, gate = (round(100 * parent.data.metrics[f"importance.{axis}"]) for axis in ("lr", "gate"))
    said = f"lr explains {lr} % of the spread of epochs among the runs that converged, gate {gate} %"
    assert said in note.split("\n")[0]
    assert "xor never converges." in note.split("\n")[0]
    assert (
        "Each cell is one gate × lr setting: the epochs its runs took to converge, mean ± sd over its "
        "seeds (0, 1)" in note
    )
    assert "heatmap_epochs.png colours the cells whose every run converged" in note
    assert "## epochs (mean ± sd over the seeds that converged)" in note and "## share converged" in note
    assert "| xor    | never converged | never converged |" in note
    assert "| gate   |   lr=0.5 |   lr=1 |" in note  # share converged, columns named with their axis
    assert "| xor    |        0 |      0 |" in note


def test_the_parent_files(swept):
    folder, _, _, client, parent, children = swept
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} == {
        "summary.csv",
        "summary.json",
        "pivots.md",
        "heatmap_epochs.png",
        "importance_epochs.png",
        "pivot_epochs.csv",
        "pivot_share_converged.csv",
        "pivot_runs_per_cell.csv",
        "sweep.html",  # its page: tests/test_pages.py
        "epochs_by_lr.png",  # the answer along lr: a line per gate, cells whose every run converged
    }
    assert (
        download(client, parent.info.run_id, "heatmap_epochs.png", folder).read_bytes()[:8]
        == b"\x89PNG\r\n\x1a\n"
    )
    share = pd.read_csv(
        download(client, parent.info.run_id, "pivot_share_converged.csv", folder), index_col="gate"
    )
    assert share.to_dict() == {"0.5": {"or": 1.0, "xor": 0.0}, "1.0": {"or": 1.0, "xor": 0.0}}
    runs = pd.read_csv(
        download(client, parent.info.run_id, "pivot_runs_per_cell.csv", folder), index_col="gate"
    )
    assert runs.to_numpy().tolist() == [[2, 2], [2, 2]]  # a cell: one run per seed
    summary = pd.read_csv(download(client, parent.info.run_id, "summary.csv", folder))
    assert summary["job"].tolist() == list(range(8))
    assert summary[["gate", "lr", "seed", "converged", "stop_reason"]].to_dict("list") == {
        "gate": ["or"] * 4 + ["xor"] * 4,
        "lr": [0.5, 0.5, 1.0, 1.0] * 2,
        "seed": [0, 1] * 4,
        "converged": [1] * 4 + [0] * 4,
        "stop_reason": ["converged"] * 4 + ["cycle"] * 4,
    }
    assert summary["epochs"].tolist() == [int(c.data.metrics["epochs"]) for c in children]
    for child in children:
        plots = {a.path for a in client.list_artifacts(child.info.run_id, "plots")}
        assert plots == {"plots/errors.png", "plots/decision_lines.png"}


def test_the_sweep_saves_its_views_for_the_mlflow_ui(swept):
    *_, client, parent, children = swept
    tags = client.get_experiment(parent.info.experiment_id).tags
    table_key, charts_key = views.keys(parent.info.run_id)
    # each in the envelope of MLflow's named views: listed in the UI's views menu by its name
    saved = {key: json.loads(tags[views.TAG_PREFIX + key]) for key in (table_key, charts_key)}
    assert saved[table_key]["name"] == parent.info.run_name
    assert saved[charts_key]["name"] == f"{parent.info.run_name}: charts"
    assert all(isinstance(view["createdAt"], int) for view in saved.values())
    table, charts = (json.loads(saved[key]["state"]) for key in (table_key, charts_key))
    assert table["searchFilter"] == f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    assert table["selectedColumns"] == [
        "metrics.`epochs`",
        "metrics.`converged`",
        "metrics.`updates`",
        "params.`stop_reason`",
        "params.`gate`",
        "params.`lr`",
        "params.`seed`",
        "attributes.`Dataset`",  # the gate, as an MLflow dataset
    ]
    assert table["groupBy"]["groupByKeys"] == [{"mode": "param", "groupByData": k} for k in ("gate", "lr")]
    cells = {f"param.gate.{c.data.params['gate']},param.lr.{c.data.params['lr']}" for c in children}
    assert table["groupsExpanded"] == {cell: True for cell in cells}
    assert charts["groupBy"]["groupByKeys"] == [{"mode": "param", "groupByData": "gate"}]
    line = charts["compareRunCharts"][0]
    assert (line["type"], line["metricKey"], line["selectedXAxisMetricKey"]) == (
        "LINE",
        "epochs_to_converge",
        "lr",
    )
    assert (line["lineSmoothness"], line["useGlobalLineSmoothing"]) == (0, False)  # each point a cell's mean


def test_the_console_shows_progress_then_the_answer_and_its_links(swept):
    folder, _, proc, _, parent, _ = swept
    out = proc.stdout
    assert "Epoch 1" not in out
    assert re.findall(r"^\[(\d+)/8 \d:\d\d:\d\d, ~\d:\d\d:\d\d left\] ", out, re.M) == [
        str(k) for k in range(1, 9)
    ]
    assert "] or lr=1 seed=0: Converged" in out
    assert "] xor lr=1 seed=0: Not converged: the weights repeat every 1 epoch, so" in out
    assert f"{parent.info.run_name}, in outputs/multirun/" in out and ": 4 of 8 runs converged" in out
    experiment, run_id = parent.info.experiment_id, parent.info.run_id
    base = f"http://127.0.0.1:5000/#/experiments/{experiment}/runs?workflowType=machine_learning"
    page = f"http://127.0.0.1:5000/#/experiments/{experiment}/runs/{run_id}/artifacts/sweep.html"
    assert f"  the sweep:  {page}?workflowType=machine_learning\n" in out
    assert f"  its runs:   {base}&viewStateShareKey={run_id}\n" in out
    assert "\nlr=1 is fastest for every gate that converges; xor never converges.\n" in out
    assert f"  its charts: {base}&viewStateShareKey={run_id}-charts&compareRunsMode=CHART\n" in out
    logs = sorted((folder / "outputs" / "multirun").glob("*/*/*/runner.log"))
    assert len(logs) == 8 and all("Epoch 1" in p.read_text() for p in logs)


def test_the_report_reads_the_sweep_back(swept, capsys, tmp_path):
    _, uri, _, _, parent, _ = swept
    report.main(
        ["--tracking-uri", uri, "--csv", str(tmp_path / "report"), "--markdown", str(tmp_path / "report.md")]
    )
    printed = capsys.readouterr().out
    assert printed.startswith(
        f"{parent.info.run_name} (parent run {parent.info.run_id}, FINISHED): 8 runs, 8 finished\n"
    )
    assert (
        "runs per cell\nlr    lr=0.5  lr=1\ngate              \nor         2     2\nxor        2     2\n"
        in printed
    )
    lr, gate = (round(100 * parent.data.metrics[f"importance.{axis}"]) for axis in ("lr", "gate"))
    said = f"lr explains {lr} % of the spread of epochs among the runs that converged, gate {gate} %"
    assert f"\n{said} (each on its own, η²).\n" in printed
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == [  # as the parent names them
        "pivot_epochs.csv",
        "pivot_runs_per_cell.csv",
        "pivot_share_converged.csv",
        "summary.csv",
    ]
    assert "## share converged" in (tmp_path / "report.md").read_text()


@pytest.mark.scale  # two sweeps, 12 s: the quick loop keeps under two minutes
def test_two_identical_sweeps_get_different_names(tmp_path, new_store):
    new_store(tmp_path / "outputs" / "mlflow.db")
    for _ in range(2):
        proc = run_cli("-m", "lr=0.5,1", "plots=false", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("perceptron").experiment_id
    names = [r.info.run_name for r in client.search_runs([experiment], "tags.`sweep.dir` LIKE '%'")]
    assert len(names) == len(set(names)) == 2
    assert all(re.fullmatch(r"sweep: lr, 2 runs, \d\d:\d\d:\d\d", name) for name in names)


@pytest.mark.parametrize(
    "command, cell_keys, seeds_per_cell, panels, index_columns",
    [
        pytest.param(  # 18 jobs: gate × rule, a panel per activation
            ["sweep=textbook"], ["rule", "activation", "gate"], 1, 2, 2, marks=pytest.mark.scale
        ),
        pytest.param(["sweep=grid"], ["gate", "lr"], 3, 1, 1, marks=pytest.mark.scale),  # 48 jobs
        pytest.param(  # 16 jobs
            ["gate=and,or", "rule=perceptron,hebb", "lr=0.5,1", "seed=0,1"],
            ["rule", "gate", "lr"],
            2,
            2,
            2,
            marks=pytest.mark.scale,
        ),
        (["lr=0.5,1", "seed=0,1"], ["lr"], 2, 1, 1),  # lr down, one column
        (["seed=0,1,2"], [], 3, 1, 1),  # one cell: the seeds
    ],
    ids=["textbook", "grid", "three axes and seeds", "one axis and seeds", "seeds alone"],
)
def test_pivot_cells_hold_runs_that_differ_by_seed_alone(
    tmp_path, new_store, command, cell_keys, seeds_per_cell, panels, index_columns
):
    uri = new_store(tmp_path / "outputs" / "mlflow.db")
    proc = run_cli("-m", *command, "plots=false", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("perceptron").experiment_id
    runs = client.search_runs([experiment], max_results=1000)
    (parent,) = [r for r in runs if MLFLOW_PARENT_RUN_ID not in r.data.tags]
    children = [r for r in runs if r is not parent]
    # on the data: group the children by the cell's axes; within a cell only the seed, and what
    # it draws, may differ
    drawn = {"seed", "init.weights", "init.bias", "stop_reason"}
    cells: dict[tuple, list] = {}
    for child in children:
        cells.setdefault(tuple(child.data.params[k] for k in cell_keys), []).append(child.data.params)
    for params in cells.values():
        assert len({p["seed"] for p in params}) == len(params) == seeds_per_cell
        assert len({frozenset((k, v) for k, v in p.items() if k not in drawn) for p in params}) == 1
    # and as the sweep reports it
    path = download(client, parent.info.run_id, "pivot_runs_per_cell.csv", tmp_path)
    counts = pd.read_csv(path, index_col=list(range(index_columns))).to_numpy().ravel()
    assert set(counts[pd.notna(counts)].astype(int)) == {seeds_per_cell}
    assert pd.notna(counts).sum() == len(cells)
    note = parent.data.tags["mlflow.note.content"]
    title = "epochs (mean ± sd over the seeds that converged)" if seeds_per_cell > 1 else "epochs"
    assert f"## {title}\n" in note
    assert note.count("### ") == (0 if panels == 1 else 3 * panels)  # a table per panel, for each of 3 tables


@pytest.mark.parametrize(
    "start_method",
    ["fork", pytest.param("spawn", marks=pytest.mark.scale)],  # spawn: where there is no fork
)
def test_the_parallel_launcher_runs_jobs_on_two_processes_and_reads_the_same(
    tmp_path, new_store, start_method
):
    """hydra/launcher=parallel: the sweep's process and a worker (forked, or spawned and handed
    Hydra's state) share the jobs; every run is whole, the progress lines come in order before
    the summary, and nothing is left RUNNING."""
    uri = new_store(tmp_path / "outputs" / "mlflow.db")
    sweep = ["-m", "gate=or,and", "lr=0.5,1,2", "hydra/launcher=parallel", "hydra.launcher.n_jobs=2"]
    sweep.append(f"hydra.launcher.start_method={start_method}")
    proc = run_cli(*sweep, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("perceptron").experiment_id
    runs = client.search_runs([experiment])
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(children) == 6 and {r.info.status for r in runs} == {"FINISHED"}
    assert len({r.data.tags["runner.pid"] for r in children}) == 2
    for run in children:
        assert {a.path for a in client.list_artifacts(run.info.run_id, "plots")} == {
            "plots/errors.png",
            "plots/decision_lines.png",
        }
    assert re.findall(r"^\[(\d)/6 ", proc.stdout, re.M) == ["1", "2", "3", "4", "5", "6"]
    assert proc.stdout.rindex("/6 ") < proc.stdout.index("sweep: gate×lr, 6 runs, ")
    assert "Traceback" not in proc.stderr


@pytest.mark.scale
def test_a_second_sweep_into_the_same_folder_prints_its_own_progress_only(tmp_path, new_store):
    """A hydra.sweep.dir the user sets is used as it is: the second sweep into it once replayed
    the first's lines, `[5/4] … [8/4]` (issue 30, item 10)."""
    new_store(tmp_path / "outputs" / "mlflow.db")
    sweep = ["-m", "gate=or,and", "lr=0.5,1", "plots=false", "hydra.sweep.dir=mine"]
    for _ in range(2):
        proc = run_cli(*sweep, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert re.findall(r"^\[(\d)/4 ", proc.stdout, re.M) == ["1", "2", "3", "4"]


@pytest.mark.parametrize("where", ["--csv", "--markdown"])
def test_the_report_says_in_one_line_where_it_cannot_write(swept, tmp_path, where):
    """A folder through a file, or a file in a folder that is not there: one line, not a
    traceback (issue 30, item 16)."""
    _, uri, _, _, _, _ = swept
    (tmp_path / "a_file").write_text("")
    target = tmp_path / "a_file" / "x" if where == "--csv" else tmp_path / "no" / "dir" / "r.md"
    with pytest.raises(SystemExit) as stopped:
        report.main(["--tracking-uri", uri, where, str(target)])
    why = "Not a directory" if where == "--csv" else "No such file or directory"
    assert str(stopped.value).startswith("Cannot write the report to ") and str(stopped.value).endswith(why)
