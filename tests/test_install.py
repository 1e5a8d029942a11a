"""The ways Python users install, each in a fresh virtual environment, used from another folder:
a single run and a sweep on the default (cached) sweeper and launcher; with no extras, the
launchers and sweepers that need one name the command that installs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

pytestmark = [pytest.mark.slow, pytest.mark.scale]

REPO = Path(__file__).resolve().parent.parent
LEFT_OUT = shutil.ignore_patterns(".git", ".venv", "outputs", "build", "*.egg-info", "__pycache__", "docs")


@pytest.mark.parametrize(
    "how",
    [["-e", "."], ["-e", ".", "--config-settings", "editable_mode=compat"], ["."]],
    ids=["editable", "editable compat", "wheel"],
)
def test_an_install_works_from_any_folder(tmp_path, how):
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=LEFT_OUT)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", *how], cwd=source, check=True, timeout=900)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "PYTHONPATH")}
    for command in (["gate=and"], ["-m", "lr=0.5,1", "plots=false"]):
        runner = [python, "-m", "runner", *command]
        proc = subprocess.run(runner, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
    client = MlflowClient(tracking_uri=f"sqlite:///{elsewhere / 'outputs' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("perceptron").experiment_id])
    assert sorted(r.info.status for r in runs) == ["FINISHED"] * 4  # one run, a parent, two jobs
    (parent,) = [r for r in runs if "sweep.sweeper" in r.data.params]
    assert parent.data.params["sweep.sweeper"] == "cached"
    if how == ["."]:  # a plain install has no conf/ to copy a gate into: a folder of one's own
        (elsewhere / "mine" / "gate").mkdir(parents=True)
        (elsewhere / "mine" / "gate" / "implies.yaml").write_text(
            "name: implies\nn_inputs: null\ninputs_encoding: bipolar\ntargets_encoding: bipolar\n"
            "inputs: [[-1, -1], [-1, 1], [1, -1], [1, 1]]\ntargets: [1, 1, -1, 1]\n"
        )
        own = [
            "--config-dir",
            "mine",
            "gate=implies",
            "lr=1",
            "init.weights=[0,0]",
            "init.bias=0",
            "plots=false",
        ]
        proc = subprocess.run(
            [python, "-m", "runner", *own], cwd=elsewhere, env=env, capture_output=True, text=True
        )
        assert proc.returncode == 0 and "Converged after 3 epochs" in proc.stdout, proc.stderr[-3000:]
        proc = subprocess.run(
            [python, "-m", "runner", "gate=implies"], cwd=elsewhere, env=env, capture_output=True, text=True
        )
        assert proc.returncode == 1 and proc.stderr.strip().splitlines() == [  # one line, not Hydra's 15
            "gate=implies: there is no 'implies' in gate "
            "(the choices: and, custom, majority, nand, nor, or, xnor, xor)"
        ]
    if how != ["-e", "."]:
        return
    # an install with no extras: each launcher or sweeper that needs one says how to install it
    for preset, plugin, extra in [
        ("sweep=optuna", "Hydra's Optuna sweeper", "optuna"),
        ("hydra/launcher=joblib", "Hydra's joblib launcher", "joblib"),
        ("hydra/launcher=ray_local", "Hydra's Ray launcher", "ray"),
        ("hydra/launcher=slurm", "Hydra's submitit (SLURM) launcher", "slurm"),
    ]:
        proc = subprocess.run(
            [python, "-m", "runner", "-m", preset], cwd=elsewhere, env=env, capture_output=True, text=True
        )
        assert proc.returncode == 1 and proc.stderr.strip().splitlines() == [
            f"{plugin} is not installed: pip install -e '.[{extra}]' in this project's folder "
            f"(or pip install 'perceptron-runner[{extra}]'), then run the command again"
        ], preset
