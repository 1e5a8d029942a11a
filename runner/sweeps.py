"""The perceptron's sweeps, as the tracking layer's sweep callback is handed them.

conf/config.yaml names `Sweeps` beside the callback (runner/tracking/callback.py), which imports
this module, and with it matplotlib, whole, a Ctrl-C held until it is done. Before a sweep
opens, its points are composed (sweep_check.py); at its end the runs are reviewed (review.py:
the pivots, the pictures, sweep.html), the MLflow UI gets the sweep's ready views (views.py),
and the console the answer and the links to them.
"""

from __future__ import annotations

from omegaconf import DictConfig

from runner import views
from runner.axes import layout
from runner.names import SUMMARY_COLUMNS
from runner.review import review
from runner.run import SHOWN_ONLY
from runner.tracking.names import BEST_TAG, NOTE_TAG
from runner.tracking.sweep_app import ClosedSweep, Reviewed


class Sweeps:
    columns = SUMMARY_COLUMNS
    shown_only = SHOWN_ONLY  # keys a resume may switch

    def __init__(self) -> None:
        self.images = False  # whether the jobs log their decision line epoch by epoch

    def start(self, config: DictConfig) -> None:
        from runner.run import epoch_images
        from runner.sweep_check import check_points

        check_points(config)  # a point that cannot be composed stops the sweep before its parent
        self.images = epoch_images(config, in_sweep=True)

    def review(self, sweep: ClosedSweep) -> Reviewed:
        shape = layout(sweep.axes)
        done = review(sweep.summary, sweep.axes, shape, sweep.search, sweep.name, sweep.dir, sweep.commands)
        args = (sweep.run_id, sweep.name, sweep.axes, sweep.summary, sweep.search, self.images)
        tags, cut = views.saved(*args)
        return Reviewed(
            files=done.files,
            metrics=done.metrics,
            tags={NOTE_TAG: done.note, BEST_TAG: done.best},
            experiment_tags=tags,
            outcome=done.outcome,
            lines=[
                *([done.answer] if done.answer else []),
                *([f"Best: {done.best}"] if done.best else []),
                *([done.importance] if done.importance else []),
            ],
            links=views.links(sweep.store.uri, sweep.experiment, sweep.run_id, cut),
        )
