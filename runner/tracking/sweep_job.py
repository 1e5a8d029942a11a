"""One Hydra job as the tracking layer sees it: where its run goes, with which tags, and its line
in the sweep's progress.

`SweepJob.of` reads what it needs of Hydra's config once (a DictConfig resolves on every access).
The job's own config is handed to the methods as Hydra's DictConfig or as the app's typed object
with the same attributes: they read `mlflow.tracking_uri`, `mlflow.experiment_name` and the
values of the sweep's axes, nothing else.
In a sweep, the job finds the sweep's plan (plan.py) in the sweep's folder, or in the store when
its machine does not see the folder (`with_plan`); its run then goes under the sweep's parent,
tagged with its job number, its fingerprint and its values on the sweep's axes, and its line
goes to progress.log, or with its run as a tag (progress.py). Outside a sweep it is a single
run: none of that.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.types import RunMode
from omegaconf import DictConfig

from runner.tracking import plan, progress, ui
from runner.tracking.credentials import redact_files, redacted
from runner.tracking.errors import first_line
from runner.tracking.names import (
    FINGERPRINT_TAG,
    JOB_NUM_TAG,
    NOT_PARAMS,
    PARENT_TAG,
    POINT_TAG,
    PROGRESS_TAG,
)
from runner.tracking.store import Store, open_store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepJob:
    in_sweep: bool
    task: list[str]  # the job's overrides
    cwd: Path  # where the command was run
    output_dir: Path
    saved_config: Path | None  # Hydra's .hydra folder, unless hydra.output_subdir is null
    sweep_dir: Path
    job_num: int
    choices: dict[str, str]  # the config groups' choices
    plan: plan.Plan | None  # the sweep's plan, None outside a sweep (or a sweep with none found)

    @classmethod
    def of(cls, hydra: DictConfig) -> SweepJob:
        in_sweep = hydra.mode == RunMode.MULTIRUN
        output_dir = Path(hydra.runtime.output_dir)
        sweep_dir = Path(hydra.runtime.cwd, hydra.sweep.dir)
        return cls(
            in_sweep=in_sweep,
            task=list(hydra.overrides.task),
            cwd=Path(hydra.runtime.cwd),
            output_dir=output_dir,
            saved_config=None if hydra.output_subdir is None else output_dir / hydra.output_subdir,
            sweep_dir=sweep_dir,
            job_num=hydra.job.num if in_sweep else 0,
            choices=dict(hydra.runtime.choices),
            plan=plan.read(sweep_dir) if in_sweep else None,
        )

    @property
    def varying(self) -> list[str] | None:
        """The keys the sweep varies, when known."""
        return self.plan.axes if self.plan is not None else None

    def with_plan(self, config: Any) -> SweepJob:
        """This job of a sweep, its plan found in the store when the sweep's folder had none. A
        job that finds neither says so, and logs its run with no parent."""
        if not self.in_sweep or self.plan is not None:
            return self
        store = open_store(config.mlflow.tracking_uri, self.cwd)
        key = plan.sweep_key(str(self.cwd), str(self.sweep_dir))
        found = plan.look_up(store.uri, config.mlflow.experiment_name, key)
        if found is None:
            log.warning(
                f"This job found no sweep plan in {self.sweep_dir} nor a sweep of that folder in "
                f"{store.uri}: its run is logged with no parent"
            )
        return dataclasses.replace(self, plan=found)

    def kept(self, fingerprint: str | None) -> str | None:
        """The id of this job's FINISHED run in the sweep being resumed, if there is one."""
        if fingerprint is None or self.plan is None:
            return None
        return self.plan.done_before(fingerprint)

    def destination(self, config: Any, fingerprint: str | None) -> tuple[Store, str, dict[str, str]]:
        """The store (a relative sqlite path made absolute), the experiment's id and the run's
        tags as a job of its sweep."""
        store = open_store(config.mlflow.tracking_uri, self.cwd)
        experiment = store.experiment_id(config.mlflow.experiment_name)
        tags = {}
        if self.in_sweep:
            tags[JOB_NUM_TAG] = str(self.job_num)
            if fingerprint is not None:
                tags[FINGERPRINT_TAG] = fingerprint
            parent = self.plan and self.plan.parent_in(store.uri, config.mlflow.experiment_name)
            if parent:
                tags[PARENT_TAG] = parent
            if self.plan is not None and self.plan.axes:
                tags[POINT_TAG] = json.dumps(self.plan.point(config, self.choices))
        return store, experiment, tags

    def log_failure(self, config: Any, fingerprint: str | None, name: str, error: Exception) -> None:
        """A FAILED run named `name` that says why (`error`), with the values the job's overrides
        set as its params (all it is known by), and the job's line; a job that cannot log it
        says so in its line."""
        from runner.tracking import writer

        line = f"{name}: failed: {error}"
        given = dict(o.lstrip("+~").split("=", 1) for o in self.task if "=" in o)
        params = {k: v for k, v in given.items() if k.split(".")[0] not in NOT_PARAMS}
        try:
            store, experiment, tags = self.destination(config, fingerprint)
            writer.record_failure(store, experiment, name, {**tags, **self.line_tags(line)}, error, params)
        except Exception as unlogged:  # the job's own error is the one to report
            self.progress(f"{line}; NOT LOGGED ({first_line(unlogged)})", unlogged=True)
            return
        self.progress(line)

    def where_to_look(
        self, store: Store, config: Any, experiment: str, run_id: str, page: str | None
    ) -> list[str]:
        """A single run's last lines: its page (the artifact `page`), its run, its experiment's runs."""
        return ui.where_to_look(store.uri, config.mlflow.tracking_uri, experiment, run_id, page)

    def saved_config_redacted(self, tracking_uri: str) -> Path | None:
        """Hydra's .hydra folder, to be logged with the run: the store's user and password taken
        out first, should the URI carry them (only then: a job's hot path)."""
        if self.saved_config is not None and redacted(tracking_uri) != tracking_uri:
            redact_files(self.saved_config)
        return self.saved_config

    def line_tags(self, line: str) -> dict[str, str]:
        """The job's progress line as a tag of its run, for a job that cannot write it in the
        sweep's folder: the sweep's process reads it from the store."""
        if self.plan is None or self.plan.shared_folder:
            return {}
        return {PROGRESS_TAG: progress.stamped(line)}

    def progress_of_kept(self, line: str, run_id: str) -> None:
        """A resumed job's line; one that does not see the sweep's folder tags its kept run with it."""
        for tag, value in self.line_tags(line).items():
            open_store(self.plan.tracking_uri).client.set_tag(run_id, tag, value)
        self.progress(line)

    def progress(self, line: str, unlogged: bool = False) -> None:
        """The job's line in the sweep's progress, which the sweep prints (progress.py); the job's
        log file keeps it. A job whose plan came from the store sent it with its run; one with no
        plan, or whose run did not reach the store, prints it."""
        shared = self.plan is not None and self.plan.shared_folder
        if shared:
            progress.append(self.sweep_dir, line)
        log.log(logging.DEBUG if shared or (self.plan and not unlogged) else logging.WARNING, line)
