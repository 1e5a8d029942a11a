"""A tag that several commands may write on one run at the same instant: two commands closing
one stale run, resumes claiming one parent.

MLflow's sqlite store writes a tag as a select, then an insert (`session.merge`), so while the
tag is new, all but one of the inserts made together fail (UNIQUE constraint). The row is there
then, and writing the tag again updates it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow import MlflowClient


def set_tag(client: MlflowClient, run_id: str, key: str, value: str) -> None:
    from mlflow.exceptions import MlflowException  # loaded with the client: not on import

    try:
        client.set_tag(run_id, key, value)
    except MlflowException:  # another command created the tag's row first
        client.set_tag(run_id, key, value)
