"""Where to look in the MLflow UI: its address for a store, the command that serves it, and the
links a run or a sweep prints, all in MLflow 3's "Model training" view, where the runs table and
the run pages are. Plain text from plain values."""

from __future__ import annotations

from urllib.parse import urlparse

from runner.tracking.credentials import redacted

LOCAL_UI = "http://127.0.0.1:5000"  # where `mlflow ui` serves by default
TRAINING_VIEW = "workflowType=machine_learning"


def _served(tracking_uri: str) -> bool:
    return urlparse(tracking_uri).scheme in ("http", "https")


def base(tracking_uri: str) -> str:
    """Where the MLflow UI of this store is: the server itself (its user and password left out),
    or a local `mlflow ui`."""
    return redacted(tracking_uri).rstrip("/") if _served(tracking_uri) else LOCAL_UI


def serve_command(tracking_uri: str, shown_uri: str) -> list[str]:
    """The command that serves a local store's UI, with the store as the user gave it; nothing
    for a server, which serves its own."""
    return [] if _served(tracking_uri) else [f"MLflow UI: mlflow ui --backend-store-uri {shown_uri}"]


def runs_url(tracking_uri: str, experiment_id: str) -> str:
    return f"{base(tracking_uri)}/#/experiments/{experiment_id}/runs"


def run_url(tracking_uri: str, experiment_id: str, run_id: str) -> str:
    return f"{runs_url(tracking_uri, experiment_id)}/{run_id}?{TRAINING_VIEW}"


def artifact_url(tracking_uri: str, experiment_id: str, run_id: str, path: str) -> str:
    """A run's artifact opened in the UI's Artifacts tab: an HTML page is shown there, its
    script running."""
    return f"{runs_url(tracking_uri, experiment_id)}/{run_id}/artifacts/{path}?{TRAINING_VIEW}"


def view_url(tracking_uri: str, experiment_id: str, share_key: str, charts: bool = False) -> str:
    """The experiment's runs page opened on a saved view (one an app saved in an experiment tag)."""
    mode = "&compareRunsMode=CHART" if charts else ""
    return f"{runs_url(tracking_uri, experiment_id)}?{TRAINING_VIEW}&viewStateShareKey={share_key}{mode}"


def where_to_look(
    tracking_uri: str, shown_uri: str, experiment_id: str, run_id: str, page: str | None = None
) -> list[str]:
    """A single run's last lines: its own page (the artifact `page`, if it wrote one), its run page
    in the UI, and its experiment's runs."""
    first = [f"  {'this run:':<11}{artifact_url(tracking_uri, experiment_id, run_id, page)}"] if page else []
    return [
        *serve_command(tracking_uri, shown_uri),
        *first,
        f"  {'its run:' if page else 'this run:':<11}{run_url(tracking_uri, experiment_id, run_id)}",
        f"  {'all runs:':<11}{runs_url(tracking_uri, experiment_id)}?{TRAINING_VIEW}",
    ]
