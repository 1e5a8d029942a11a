"""What the runner does by hand where MLflow's public client would read a run back: each checked
against the client's own result, so that a MLflow release that changes it fails here, by name.
(docs/architecture.md lists these uses and what they save.)"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from runner import record
from runner.tracking import writer
from runner.tracking.store import Store


@pytest.mark.parametrize("name", [record.TRACE_TABLE, writer.SUMMARY_TABLE])
def test_a_table_logged_by_hand_is_what_log_table_logs(tmp_path, new_store, name):
    uri = new_store(tmp_path / "mlflow.db")
    client, store = MlflowClient(tracking_uri=uri), Store(uri)
    experiment = client.create_experiment("contract")
    table = pd.DataFrame({"epoch": [1, 1], "X1": [-1, 1], "yin": [0.5, -0.25], "Y": [1, -1]})
    by_client = client.create_run(experiment).info.run_id
    client.log_table(by_client, table, name)
    by_hand = store.create_run(experiment, "by hand", writer.table_tag(name))
    writer.write_table(table, tmp_path / name)
    writer.log_artifacts(store, by_hand, [tmp_path / name])

    def logged(run_id: str) -> tuple[str, object, list[str]]:
        tag = client.get_run(run_id).data.tags["mlflow.loggedArtifacts"]
        path = client.download_artifacts(run_id, name, str(tmp_path / run_id))
        content = json.loads(Path(path).read_text())
        return tag, content, [a.path for a in client.list_artifacts(run_id)]

    assert logged(by_hand.run_id) == logged(by_client)


def test_jobs_that_log_the_same_new_table_at_once_all_log_it(tmp_path, new_store):
    """MLflow's store looks a dataset up, then inserts it: two jobs logging the same new table at
    once race, and the loser's insert fails on the store's unique key (seen in a 400-job
    parallel sweep). writer.log_dataset tries again, and finds it."""
    import threading

    from mlflow.entities import Dataset

    from runner.tracking.store import Store

    uri = new_store(tmp_path / "mlflow.db")
    store = Store(uri)
    experiment = store.experiment_id("race")
    failures = []
    for round_ in range(5):
        gate = Dataset(f"gate{round_}", f"d{round_}", "local", '{"uri": "x"}', None, None)
        runs = [store.start_run(experiment, f"r{round_}-{k}") for k in range(6)]
        start = threading.Barrier(len(runs))

        def log(run_id: str, gate=gate, start=start) -> None:
            start.wait()
            try:
                writer.log_dataset(store, run_id, gate)
            except Exception as err:  # noqa: BLE001 - what the test counts
                failures.append(err)

        threads = [threading.Thread(target=log, args=(r,)) for r in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for run_id in runs:
            assert [d.dataset.name for d in store.client.get_run(run_id).inputs.dataset_inputs] == [gate.name]
    assert failures == []


def test_the_names_spelled_by_hand_are_mlflows():
    """MLflow's tag names and statuses, spelled in runner/tracking/names.py so that a run that
    does not log never imports MLflow: the same as MLflow's own."""
    from mlflow.entities import RunStatus
    from mlflow.utils import mlflow_tags

    from runner.tracking import names

    assert names.PARENT_TAG == mlflow_tags.MLFLOW_PARENT_RUN_ID
    assert names.RUN_NAME_TAG == mlflow_tags.MLFLOW_RUN_NAME
    assert names.NOTE_TAG == mlflow_tags.MLFLOW_RUN_NOTE
    assert names.LOGGED_ARTIFACTS_TAG == mlflow_tags.MLFLOW_LOGGED_ARTIFACTS
    assert names.DATASET_CONTEXT_TAG == mlflow_tags.MLFLOW_DATASET_CONTEXT
    for status in ("RUNNING", "FINISHED", "FAILED", "KILLED"):
        assert getattr(names, status) == RunStatus.to_string(getattr(RunStatus, status))


def test_the_limits_spelled_by_hand_are_mlflows():
    """The longest experiment and gate (dataset) names the config allows, checked before a run
    trains rather than refused by MLflow after it (issue 30, item 18)."""
    from mlflow.utils import validation

    from runner import config

    assert config.MAX_EXPERIMENT_NAME == validation.MAX_EXPERIMENT_NAME_LENGTH
    assert config.MAX_GATE_NAME == validation.MAX_DATASET_NAME_SIZE
