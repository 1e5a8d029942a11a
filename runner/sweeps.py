"""The perceptron's sweeps, as the tracking layer's sweep callback is handed them.

conf/config.yaml names `Sweeps` beside the callback (runner/tracking/callback.py). Before a sweep
opens, its points are composed (sweep_check.py); at its end the runs are reviewed (review.py:
the pivots, the pictures, sweep.html), the MLflow UI gets the sweep's ready views (views.py),
and the console the answer and the links to them.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from omegaconf import DictConfig

from runner import views
from runner.axes import layout
from runner.console import count
from runner.names import RESULT_METRICS, STOP_REASON
from runner.run import SHOWN_ONLY
from runner.tracking import ui
from runner.tracking.names import BEST_TAG, FINISHED, NOTE_TAG
from runner.tracking.readback import Columns
from runner.tracking.sweep_app import ClosedSweep, Reviewed

# What a row of a sweep's summary holds beside the axes: gate, lr and seed always, swept or not
COLUMNS = Columns(params=("gate", "lr", "seed"), metrics=RESULT_METRICS, notes=(STOP_REASON,))


class Sweeps:
    columns = COLUMNS
    shown_only = SHOWN_ONLY  # keys a resume may switch

    def __init__(self) -> None:
        self.images = False  # whether the jobs log their decision line epoch by epoch

    def start(self, config: DictConfig) -> None:
        from runner.run import epoch_images
        from runner.sweep_check import check_points

        check_points(config)  # a point that cannot be composed stops the sweep before its parent
        self.images = epoch_images(config, in_sweep=True)

    def review(self, sweep: ClosedSweep) -> Reviewed:
        from runner.review import review

        shape = layout(sweep.axes)
        done = review(sweep.summary, sweep.axes, shape, sweep.search, sweep.name, sweep.dir, sweep.commands)
        tags, cut = self._views(sweep)
        summary = sweep.summary
        converged = int(summary.loc[summary["status"] == FINISHED, "converged"].fillna(0).sum())
        return Reviewed(
            files=done.files,
            metrics=done.metrics,
            tags={NOTE_TAG: done.note, BEST_TAG: done.best},
            experiment_tags=tags,
            outcome=f"{converged} of {count(len(summary), 'run')} converged",  # not a FAILED run's
            lines=[
                *([done.answer] if done.answer else []),
                *([f"Best: {done.best}"] if done.best else []),
                *([done.importance] if done.importance else []),
            ],
            links=_links(sweep, cut),
        )

    def _views(self, sweep: ClosedSweep) -> tuple[dict[str, str], tuple[str, list[Any]] | None]:
        """The sweep's views for the MLflow UI as experiment tags, a pair per part when the UI
        cannot load the sweep whole; and the axis it was cut on, with the axis's values."""
        shape, summary = layout(sweep.axes), sweep.summary
        finished = summary[summary["status"] == FINISHED]
        counted = finished.groupby(shape.cell_keys, sort=False).size() if shape.cell_keys else pd.Series()
        cells = [c if isinstance(c, tuple) else (c,) for c in counted.index]
        args = (sweep.run_id, sweep.axes, shape, cells, len(summary), sweep.search)
        named = views.named(views.sweep_views(*args, images=self.images), sweep.name)
        cut = views.parts(shape.cell_keys, list(zip(cells, counted))) if cells else None
        for number, value in enumerate(cut[1] if cut else []):
            part = views.sweep_views(*args, part=(number, cut[0], value), images=self.images)
            named.update(views.named(part, f"{sweep.name}, {cut[0]}={value}"))
        return views.tags(named), cut


def _links(sweep: ClosedSweep, cut: tuple[str, list[Any]] | None) -> list[str]:
    """The links to the sweep's views: its runs, its charts, and those of each part."""
    uri = sweep.store.uri

    def pair(key: str, label: str) -> list[str]:
        table, charts = views.keys(key)
        return [
            f"  {label:<12}{ui.view_url(uri, sweep.experiment, table)}",
            f"  {'its charts:' if label == 'its runs:' else '':<12}"
            f"{ui.view_url(uri, sweep.experiment, charts, charts=True)}",
        ]

    lines = pair(sweep.run_id, "its runs:")
    if cut:
        loads = f"the UI loads {views.UI_PAGE} runs at a time: each {cut[0]} on its own, all of it loaded"
        lines.append(f"  ({loads})")
        for number, value in enumerate(cut[1]):
            lines += pair(f"{sweep.run_id}-{number}", f"{cut[0]}={value}:")
    return lines
