"""A store's user and password (`http://user:password@host`) never reach the screen or the store:
a tracking server is shared, and its tags and artifacts are read by all who can read the
experiment. The quick tests read the text; the one marked `scale` runs a sweep and a single run
on a real `mlflow server` and searches everything they printed and logged."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli
from mlflow import MlflowClient

from runner.tracking import ui
from runner.tracking.credentials import redact_files, redacted
from runner.tracking.errors import UsageError

SECRET = "s3cret-Pa55"


def test_a_uri_loses_its_user_and_password_wherever_it_is_in_a_text():
    said = f"mlflow.tracking_uri=http://ada:{SECRET}@example.org:5000 and https://bob@h/x, sqlite:///a/b.db"
    assert redacted(said) == "mlflow.tracking_uri=http://example.org:5000 and https://h/x, sqlite:///a/b.db"
    escaped = (
        f"- mlflow.tracking_uri=http\\://ada\\:{SECRET}@127.0.0.1\\:5000"  # as Hydra's overrides.yaml has it
    )
    assert redacted(escaped) == "- mlflow.tracking_uri=http\\://127.0.0.1\\:5000"
    assert ui.run_url(f"http://ada:{SECRET}@host:5000/", "1", "r") == (
        "http://host:5000/#/experiments/1/runs/r?workflowType=machine_learning"
    )
    assert SECRET not in str(UsageError(f"Cannot use the MLflow tracking store http://ada:{SECRET}@host"))


def test_hydras_saved_config_is_rewritten_without_them(tmp_path):
    (tmp_path / "overrides.yaml").write_text(f"- mlflow.tracking_uri=http://ada:{SECRET}@host:5000\n- lr=1\n")
    (tmp_path / "config.yaml").write_text("lr: 1.0\n")
    redact_files(tmp_path)
    assert (tmp_path / "overrides.yaml").read_text() == "- mlflow.tracking_uri=http://host:5000\n- lr=1\n"
    assert (tmp_path / "config.yaml").read_text() == "lr: 1.0\n"


@pytest.mark.slow
@pytest.mark.scale
def test_a_sweep_and_a_run_on_a_server_keep_its_password_out_of_everything(tmp_path):
    from services import mlflow_server

    with mlflow_server(tmp_path) as server:
        with_password = server.url.replace("http://", f"http://grace:{SECRET}@")
        given = f"mlflow.tracking_uri={with_password}"
        swept = run_cli("-m", "gate=or,and", "lr=1", "plots=false", given, cwd=tmp_path)
        single = run_cli("gate=or", "lr=1", "plots=false", given, cwd=tmp_path)
        assert swept.returncode == single.returncode == 0, swept.stderr + single.stderr
        for printed in (swept.stdout, swept.stderr, single.stdout, single.stderr):
            assert SECRET not in printed and "grace" not in printed  # no hex digit: not in a run id
        assert f"  the sweep:  {server.url}/#/experiments/" in swept.stdout  # its links, without them
        client = MlflowClient(server.url)
        runs = client.search_runs([client.get_experiment_by_name("perceptron").experiment_id])
        assert len(runs) == 4  # a parent, two jobs, a single run
        folder = tmp_path / "downloads"
        for run in runs:
            assert SECRET not in repr(run.data.tags) + repr(run.data.params)
            target = folder / run.info.run_id
            target.mkdir(parents=True)
            client.download_artifacts(run.info.run_id, "", str(target))
            texts = [p.read_text(errors="replace") for p in Path(target).rglob("*") if p.is_file()]
            assert texts and not [t for t in texts if SECRET in t], run.info.run_name
