"""What the app needs of the platform, and what it changes in the process: it runs where there
is no fcntl (Windows), and importing it sets no process-wide state."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import run_cli
from mlflow import MlflowClient

import runner

NO_FCNTL = (
    "import runpy, sys; sys.modules['fcntl'] = None; "  # `import fcntl` now raises ImportError
    "sys.argv = ['runner', *sys.argv[1:]]; runpy.run_module('runner', run_name='__main__')"
)


@pytest.mark.scale  # two commands, 10 s
def test_a_run_and_a_sweep_work_where_there_is_no_fcntl(tmp_path, new_store):
    uri = new_store(tmp_path / "outputs" / "mlflow.db")
    for overrides in (["gate=or", "lr=1"], ["-m", "gate=or,and", "plots=false"]):
        proc = run_cli("-c", NO_FCNTL, *overrides, cwd=tmp_path, python_args=True)
        assert proc.returncode == 0, proc.stderr[-2000:]
    assert "[2/2 " in proc.stdout and "sweep: gate, 2 runs, " in proc.stdout
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("perceptron").experiment_id])
    assert sorted(r.info.status for r in runs) == ["FINISHED"] * 4
    (parent,) = [r for r in runs if "sweep.dir" in r.data.tags]
    assert sum(r.data.tags.get("mlflow.parentRunId") == parent.info.run_id for r in runs) == 2


def test_importing_the_app_changes_no_process_wide_state():
    """SQLAlchemy's pool hooks and MLflow's HTTP retry settings are set when a store opens
    (runner/tracking/store.py), not when a module is imported. (MLflow sets a variable of its own,
    _MLFLOW_TELEMETRY_SESSION_ID, when it is imported.)"""
    check = textwrap.dedent(
        """
        import importlib, os, pkgutil, runner
        from sqlalchemy import event
        from sqlalchemy.pool import Pool
        from runner.tracking import fork_safety as f

        def hooked():
            return event.contains(Pool, "connect", f.owned), event.contains(Pool, "checkout", f.not_inherited)

        def ours():
            return {k: v for k, v in os.environ.items() if not k.startswith("_MLFLOW")}

        before = ours()
        for module in pkgutil.walk_packages(runner.__path__, "runner."):
            if module.name not in ("runner.__main__", "runner.report"):  # the commands: they run
                importlib.import_module(module.name)
        assert hooked() == (False, False) and ours() == before

        from runner.tracking.store import Store

        Store("http://127.0.0.1:9").client
        assert hooked() == (True, True)
        assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "2"
        """
    )
    env = {"PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_no_module_of_the_project_imports_one_that_imports_it_back():
    """No import cycle in runner/ and the plugins (import-linter checks the layers; grimp, which
    it is built on, finds cycles)."""
    import grimp

    graph = grimp.build_graph("runner", "hydra_plugins")
    ours = [m for m in graph.modules if m.startswith(("runner", "hydra_plugins.perceptron_runner"))]
    cycles = {
        tuple(sorted((module, imported)))
        for module in ours
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=imported, imported=module)
    }
    assert cycles == set()


MOST_IMPORTS = 8  # of the project's modules, by any one module (issue 28: no hubs)


def test_no_module_imports_more_than_eight_of_the_projects():
    """A module that imports many of its neighbours is a hub every change passes through (the
    sweep's parent once imported 17); each module here keeps to MOST_IMPORTS."""
    import grimp

    graph = grimp.build_graph("runner", "hydra_plugins")
    ours = [m for m in graph.modules if m.startswith(("runner", "hydra_plugins.perceptron_runner"))]
    counts = {m: len([i for i in graph.find_modules_directly_imported_by(m) if i in ours]) for m in ours}
    assert {m: n for m, n in counts.items() if n > MOST_IMPORTS} == {}
    assert max(counts.values()) == MOST_IMPORTS  # the check counts what it should


def test_the_tracking_layer_says_no_word_of_the_perceptron():
    """runner/tracking/ is Hydra to MLflow for any app: no gate, rate, epoch or perceptron in its
    code or its comments (the plugins' package name aside)."""
    words = re.compile(r"\b(gates?|lr|epochs?|perceptrons?|converge[ds]?|weights?)\b", re.I)
    said = {
        f"{path.name}:{number}": line.strip()
        for path in sorted(Path(runner.__file__).parent.joinpath("tracking").glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if words.search(line)
    }
    assert said == {}


def test_a_sweep_folder_is_held_until_its_sweep_releases_it(tmp_path):
    """output_folder.hold: a second hold of one folder is refused in one line, and the folder is
    free again once released."""
    from runner.tracking import output_folder

    held = output_folder.hold(tmp_path / "sweep")
    with pytest.raises(SystemExit, match=r"^Cannot start the sweep: hydra.sweep.dir=.* still runs: "):
        output_folder.hold(tmp_path / "sweep")
    held.release()
    output_folder.hold(tmp_path / "sweep").release()
