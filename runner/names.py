"""What the app calls what it logs beside the tracking layer's names (runner/tracking/names.py):
a training run's results, its images, and how its training ended. (The params and metrics of a
training run are named by its config and by runner/record.py; the README lists them.)"""

from runner.tracking.names import Columns

STOP_REASON = "stop_reason"  # how training ended: a tag and a param of every training run

# A training run's images: its decision line after each epoch, one step each
EPOCH_IMAGES_KEY = "decision_line"

# A training run's results, as the summary, the pivots and the UI's views show them
RESULT_METRICS = ("epochs", "converged", "updates")

# The epochs of a run that converged, logged by no other: MLflow's charts average it over the runs
# that have it, so a run stopped by max_epochs or a cycle never counts as fast in them
EPOCHS_TO_CONVERGE = "epochs_to_converge"

# What a row of a sweep's summary holds beside the axes: gate, lr and seed always, swept or not
SUMMARY_COLUMNS = Columns(params=("gate", "lr", "seed"), metrics=RESULT_METRICS, notes=(STOP_REASON,))

# The one swept value also logged as a metric, so that the UI's line charts can put it across
X_METRIC = "lr"
