"""What the tracking layer calls what it logs to MLflow, in one place: MLflow's system tags, the
tags it sets on every run and on a sweep's runs, a sweep parent's params, and the config keys
it reads.

MLflow's own names are spelled here rather than imported from `mlflow.utils.mlflow_tags`, which
imports all of MLflow (1.1 s measured here), while these are needed before a run knows it will
log; tests/test_mlflow_contract.py checks each against MLflow's, as the statuses too.
"""

from dataclasses import dataclass

# MLflow's system tags (mlflow.utils.mlflow_tags)
PARENT_TAG = "mlflow.parentRunId"  # MLFLOW_PARENT_RUN_ID: a sweep's child: its parent run's id
RUN_NAME_TAG = "mlflow.runName"  # MLFLOW_RUN_NAME: a run's name, as the runs table sorts by it
NOTE_TAG = "mlflow.note.content"  # MLFLOW_RUN_NOTE: a run's description, shown on its page
LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"  # MLFLOW_LOGGED_ARTIFACTS: the tables the UI shows
DATASET_CONTEXT_TAG = "mlflow.data.context"  # MLFLOW_DATASET_CONTEXT: what a run used a dataset for

# MLflow's run statuses (mlflow.entities.RunStatus), as the store takes and gives them
RUNNING, FINISHED, FAILED, KILLED = "RUNNING", "FINISHED", "FAILED", "KILLED"

# The tags of every run, and of a sweep's runs
ERROR_TAG = "error"  # why a run FAILED (or was closed KILLED by another command)
HOST_TAG, PID_TAG = "runner.host", "runner.pid"  # the process that owns a RUNNING run
CLAIM_TAG = "runner.claim"  # the last command to claim a sweep's parent, to resume it (plan.reopen)
FINGERPRINT_TAG = "runner.fingerprint"  # a sweep's child: which job it is (what it trains)
JOB_NUM_TAG = "hydra.job.num"  # a sweep's child: its job number
SWEEP_DIR_TAG = "sweep.dir"  # a sweep's parent: its folder (the latest, if resumed); marks a parent
PROGRESS_TAG = "runner.progress"  # a child whose job did not see the sweep's folder: its progress line
OVERRIDES_TAG = "sweep.overrides"  # a sweep's parent: its command's overrides, for a person
SWEEP_TAG = "sweep.json"  # a sweep's parent: its axes, overrides, search and jobs, as JSON for code
POINT_TAG = "sweep.point"  # a sweep's child: its values on the sweep's axes, as JSON
MAX_TAG = 8000  # characters MLflow keeps of a tag's value (mlflow.utils.validation.MAX_TAG_VAL_LENGTH)
BEST_TAG = "best"  # a sweep's parent: its best cell or trial, in words

# A sweep's parent's params
AXIS_PARAM = "sweep."  # sweep.<axis>: the axis's values as listed, or a search's distribution
AXES_PARAM = "sweep.axes"  # the axes, in order
JOBS_PARAM = "sweep.jobs"  # the jobs planned
LAUNCHER_PARAM = "sweep.launcher"
SWEEPER_PARAM = "sweep.sweeper"
SEARCH_PARAM = "sweep.search"  # "true" for a sweeper that searches (Optuna)

# A sweep's parent's metric: its jobs planned that have no run in the store (their results lost)
MISSING_METRIC = "missing"

# Top-level config keys that say where a run is logged and how its sweep was started, not what
# the run is: no params of a run, no part of its fingerprint, no axis of a sweep
NOT_PARAMS = ("hydra", "mlflow", "resume")


@dataclass(frozen=True)
class Columns:
    """What a sweep's summary (readback.py) holds beside its axes, as an app names them."""

    params: tuple[str, ...] = ()  # in every row, swept or not (read as the values logged)
    metrics: tuple[str, ...] = ()  # the results, whole numbers
    notes: tuple[str, ...] = ()  # params read as text after the results
