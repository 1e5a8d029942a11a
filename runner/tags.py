"""The MLflow system tags the runner writes and reads, by the names MLflow's documentation gives
them (its "system tags"), in one place."""

PARENT = "mlflow.parentRunId"  # a sweep's child: the id of its sweep's parent run
NOTE = "mlflow.note.content"  # a run's description, shown on its page
LOGGED_ARTIFACTS = "mlflow.loggedArtifacts"  # the artifacts the UI shows as tables
