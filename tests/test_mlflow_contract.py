"""What the runner does by hand where MLflow's public client would read a run back: each checked
against the client's own result, so that a MLflow release that changes it fails here, by name.
(docs/architecture.md lists these uses and what they save.)"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from mlflow import MlflowClient

from runner import tracking
from runner.store import Store


def test_a_table_logged_by_hand_is_what_log_table_logs(tmp_path, new_store):
    uri = new_store(tmp_path / "mlflow.db")
    client, store = MlflowClient(tracking_uri=uri), Store(uri)
    experiment = client.create_experiment("contract")
    table = pd.DataFrame({"epoch": [1, 1], "X1": [-1, 1], "yin": [0.5, -0.25], "Y": [1, -1]})
    by_client = client.create_run(experiment).info.run_id
    client.log_table(by_client, table, tracking.TRACE_TABLE)
    by_hand = store.create_run(experiment, "by hand", tracking.TABLE_TAG)
    tracking.write_table(table, tmp_path / tracking.TRACE_TABLE)
    tracking.log_artifacts(store, by_hand, [tmp_path / tracking.TRACE_TABLE])

    def logged(run_id: str) -> tuple[str, object, list[str]]:
        tag = client.get_run(run_id).data.tags["mlflow.loggedArtifacts"]
        path = client.download_artifacts(run_id, tracking.TRACE_TABLE, str(tmp_path / run_id))
        content = json.loads(Path(path).read_text())
        return tag, content, [a.path for a in client.list_artifacts(run_id)]

    assert logged(by_hand.run_id) == logged(by_client)
