"""Shared helpers: the real command line in a subprocess, and Hydra's compose API."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

import runner.config  # noqa: F401  (registers the schema with Hydra's ConfigStore)
from runner.config import CONF_DIR
from runner.versions import version_base

GATES = sorted(p.stem for p in (CONF_DIR / "gate").glob("*.yaml"))


def run_cli(
    *overrides: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    python_args: bool = False,
):
    """`python -m runner OVERRIDES...` in `cwd`, with no MLFLOW_TRACKING_URI unless given; with
    `python_args`, `python OVERRIDES...` (the first of them Python's own, such as `-c CODE`)."""
    base = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    command = [sys.executable, *overrides] if python_args else [sys.executable, "-m", "runner", *overrides]
    return subprocess.run(
        command,
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_in_process(*overrides: str, cwd: Path, monkeypatch) -> tuple[int, str]:
    """The entry point called in this process, for checks that must not pay Python's start-up:
    returns the exit status and what was printed, as the real command line would."""
    import contextlib
    import io

    from runner.__main__ import cli

    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", ["runner", *overrides])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        try:
            cli()
            status = 0
        except SystemExit as done:
            status = done.code
    if isinstance(status, str):  # Python prints such a message on stderr and exits with 1
        printed.write(status + "\n")
        status = 1
    return status, printed.getvalue()


def compose_config(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), **version_base()):
        return compose("config", overrides=list(overrides))


@pytest.fixture(scope="session")
def empty_store(tmp_path_factory) -> Path:
    """An sqlite file with MLflow's schema already in place (creating one takes seconds)."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def new_store(empty_store):
    """Copy the empty store to `path`, as if an earlier run had created it; returns its URI."""

    def make(path: Path) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(empty_store, path)
        return f"sqlite:///{path}"

    return make


@pytest.fixture
def no_tracking_env(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
