"""What the runner calls what it logs to MLflow, in one place: MLflow's system tags by the names
its documentation gives them, the runner's own tags, a sweep parent's params, and the results
that the tables, the summary and the UI's views show. (The params and metrics of a training
run are named by its config and by tracking.py; the README lists them.)"""

# MLflow's system tags
PARENT_TAG = "mlflow.parentRunId"  # a sweep's child: the id of its sweep's parent run
RUN_NAME_TAG = "mlflow.runName"  # a run's name, as the runs table sorts by it
NOTE_TAG = "mlflow.note.content"  # a run's description, shown on its page
LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"  # the artifacts the UI shows as tables
DATASET_CONTEXT_TAG = "mlflow.data.context"  # an input dataset's: what the run used it for

# The runner's tags
ERROR_TAG = "error"  # why a run FAILED (or was closed KILLED by another command)
STOP_REASON = "stop_reason"  # how training ended: a tag and a param of every training run
HOST_TAG, PID_TAG = "runner.host", "runner.pid"  # the process that owns a RUNNING run
FINGERPRINT_TAG = "runner.fingerprint"  # a sweep's child: which job it is (run.fingerprint)
JOB_NUM_TAG = "hydra.job.num"  # a sweep's child: its job number
SWEEP_DIR_TAG = "sweep.dir"  # a sweep's parent: its folder (the latest, if resumed); marks a parent
PROGRESS_TAG = "runner.progress"  # a child whose job did not see the sweep's folder: its progress line
OVERRIDES_TAG = "sweep.overrides"  # a sweep's parent: its command's overrides, for resume
BEST_TAG = "best"  # a sweep's parent: its best cell or trial, in words

# A sweep's parent's params
AXIS_PARAM = "sweep."  # sweep.<axis>: the axis's values as listed, or a search's distribution
AXES_PARAM = "sweep.axes"  # the axes, in order: gate,lr,seed
JOBS_PARAM = "sweep.jobs"  # the jobs planned
LAUNCHER_PARAM = "sweep.launcher"
SWEEPER_PARAM = "sweep.sweeper"
SEARCH_PARAM = "sweep.search"  # "true" for a sweeper that searches (Optuna)

# A sweep's parent's metric: its jobs planned that have no run in the store (their results lost)
MISSING_METRIC = "missing"

# Top-level config keys that say where a run is logged and how its sweep was started, not what
# the run is: no params of a run, no part of its fingerprint, no axis of a sweep
NOT_PARAMS = ("hydra", "mlflow", "resume")

# A training run's images: its decision line after each epoch, one step each
EPOCH_IMAGES_KEY = "decision_line"

# A training run's results, as the summary, the pivots and the UI's views show them
RESULT_METRICS = ("epochs", "converged", "updates")
