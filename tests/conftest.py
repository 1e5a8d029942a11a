"""Shared helpers: the real command line in a subprocess, and Hydra's compose API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

import runner.config  # noqa: F401  (registers the schema with Hydra's ConfigStore)
from runner.__main__ import CONF_DIR

GATES = sorted(p.stem for p in (CONF_DIR / "gate").glob("*.yaml"))


def run_cli(*overrides: str, cwd: Path, env: dict[str, str] | None = None):
    """`python -m runner OVERRIDES...` in `cwd`, with no MLFLOW_TRACKING_URI unless given."""
    base = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.run(
        [sys.executable, "-m", "runner", *overrides],
        cwd=cwd,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def compose_config(*overrides: str):
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        return compose("config", overrides=list(overrides))


@pytest.fixture
def no_tracking_env(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
