"""A Hydra or MLflow the app was not tested on is named in one line, never in a traceback."""

from __future__ import annotations

import os

from conftest import run_cli

from runner import versions


def fake_hydra(folder, version: str, init: str) -> dict[str, str]:
    """A hydra-core `version` ahead of the installed one on the path, whose package runs `init`."""
    (folder / "hydra").mkdir(parents=True)
    (folder / "hydra" / "__init__.py").write_text(init)
    info = folder / f"hydra_core-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: hydra-core\nVersion: {version}\n")
    return {"PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}


def test_the_tested_versions_are_the_pins():
    pins = open(versions.__file__.replace("runner/versions.py", "pyproject.toml")).read()
    assert '"hydra-core>=1.3.8,<1.5"' in pins and '"mlflow>=3.15,<4"' in pins
    assert "'hydra-core>=1.3.8,<1.5' 'mlflow>=3.15,<4'" in versions.PIN
    assert versions.untested() == []  # what CI installs


def test_a_hydra_that_moved_what_the_app_imports_is_one_line(tmp_path):
    env = fake_hydra(tmp_path / "site", "1.5.0", "raise ImportError('cannot import name main from hydra')")
    proc = run_cli("gate=or", cwd=tmp_path, env=env)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "perceptron-runner cannot run on hydra-core 1.5.0: ImportError: cannot import name main from "
        "hydra (pip install 'hydra-core>=1.3.8,<1.5' 'mlflow>=3.15,<4')"
    ]


def test_an_untested_version_is_named_in_one_warning(monkeypatch, capsys):
    monkeypatch.setattr(versions, "version", lambda package: {"hydra-core": "1.5.0"}.get(package, "3.17.2"))
    assert versions.untested() == ["hydra-core 1.5.0"]
    versions.warn_untested()
    assert capsys.readouterr().err.splitlines() == [
        "Warning: perceptron-runner is not tested on hydra-core 1.5.0 "
        "(pip install 'hydra-core>=1.3.8,<1.5' 'mlflow>=3.15,<4')"
    ]
    monkeypatch.setattr(versions, "version", lambda package: "2.22.0")
    assert versions.untested() == ["hydra-core 2.22.0", "mlflow 2.22.0"]
