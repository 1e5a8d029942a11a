"""One Hydra job: a composed config becomes a TrainedRun, printed and logged to MLflow.

    config ──► run.train ──► console (the trace, the outcome) ──► record ──► tracking.writer

In a sweep a job adds one progress line instead of printing its trace (its log file keeps
everything), logs its run under the sweep's parent, as the sweep's plan says (tracking/plan.py:
from the sweep's folder, or from the store where the job's machine does not see the folder),
and a job that fails still gets a FAILED run that says why. A job that could not log says so in
its line, and the sweep counts it missing.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from runner import console, helper, run
from runner.config import config_error_line
from runner.tracking import plan, progress, signals
from runner.tracking.axes import point
from runner.tracking.errors import OutOfSpace, UsageError, first_line, out_of_space
from runner.tracking.names import (
    FINGERPRINT_TAG,
    JOB_NUM_TAG,
    NOT_PARAMS,
    PARENT_TAG,
    POINT_TAG,
    PROGRESS_TAG,
)

log = logging.getLogger("runner")  # not __name__: run as `-m runner` that is "__main__"


@dataclass(frozen=True)
class JobContext:
    """What a job reads of Hydra's config, read once: a DictConfig resolves on every access."""

    in_sweep: bool
    task: list[str]  # the job's overrides
    cwd: Path  # where the command was run
    output_dir: Path
    saved_config: Path | None  # Hydra's .hydra folder, unless hydra.output_subdir is null
    sweep_dir: Path
    job_num: int
    choices: dict[str, str]  # the config groups' choices
    gate_source: Path  # the gate's config file (run.gate_source)
    plan: plan.Plan | None  # the sweep's plan, None outside a sweep (or a sweep with none found)

    def run_name(self, cfg: DictConfig) -> str:
        """The job's run name (runner/run.py): in a sweep, its values of the keys the sweep varies."""
        varying = self.plan.axes if self.plan is not None else None
        return run.name(cfg, self.task, varying)

    @classmethod
    def of(cls, hydra: DictConfig) -> JobContext:
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
            gate_source=run.gate_source(hydra),
            plan=plan.read(sweep_dir) if in_sweep else None,
        )


def task(cfg: DictConfig) -> float:
    """Hydra's task: one job. A bad value ends a single run with its one-line error; in a sweep
    it fails this job, the sweep goes on, and Hydra reports it at the end."""
    try:
        return job(cfg)
    except UsageError as err:
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            raise
        raise SystemExit(str(err)) from None  # one line on stderr, exit status 1
    except OmegaConfBaseException as err:  # a key removed (~lr), an interpolation that cannot resolve
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            raise
        raise SystemExit(config_error_line(err)) from None


def job(cfg: DictConfig) -> float:
    """Train, print and log one run; returns its objective, for a sweeper that searches."""
    place = JobContext.of(HydraConfig.get())
    in_sweep = place.in_sweep
    signals.raise_if_received()  # an interrupt that some code swallowed stops the next job
    if not in_sweep:
        run.refuse_resume(cfg)
    elif place.plan is None:
        place = dataclasses.replace(place, plan=_plan_from_store(cfg, place))
    fingerprint = _fingerprint(cfg) if in_sweep else None
    if fingerprint is not None and place.plan is not None:
        kept = place.plan.done_before(fingerprint)
        if kept is not None:  # a resumed sweep: this job's FINISHED run stays as it is
            _progress_of_kept(place, f"{place.run_name(cfg)}: done before, its run {kept} kept", kept)
            return 0.0  # what a grid sweeper ignores; a search cannot resume
    helping = helper.INLINE if in_sweep else helper.start()  # a single run's other core
    try:
        return _train_and_record(cfg, place, fingerprint, helping)
    finally:
        helping.close()


def _train_and_record(
    cfg: DictConfig, place: JobContext, fingerprint: str | None, helping: helper.Helper
) -> float:
    try:
        trained = run.train(cfg, helping)
    except Exception as err:
        signals.raise_if_received()
        if place.in_sweep:
            _record_failure(cfg, place, err, fingerprint)
        raise
    _print(trained, place.in_sweep)
    try:
        _record(cfg, place, trained, fingerprint, helping)
    except Exception as err:
        signals.raise_if_received()  # an interrupt that some code turned into another error
        full = out_of_space(err)
        if full:  # every later job would fail the same way: stop the sweep here, in one line
            raise OutOfSpace(
                f"Out of space while logging {place.run_name(cfg)}: {full}; free some, "
                "then run the same command again (a sweep with resume=latest)"
            ) from None
        if place.in_sweep:
            first = first_line(err)
            outcome = console.outcome(trained.result)
            _progress(place, f"{place.run_name(cfg)}: {outcome}; NOT LOGGED ({first})", unlogged=True)
        raise
    signals.raise_if_received()
    return trained.objective


def _fingerprint(cfg: DictConfig) -> str | None:
    """The job's fingerprint, once per job; None for a config too broken to resolve, which is
    a new job whenever it runs."""
    try:
        return run.fingerprint(cfg)
    except Exception:
        return None


def _print(trained: run.TrainedRun, in_sweep: bool) -> None:
    """The tutorial's text; in a sweep only to the job's log file, where the console shows one
    progress line per job instead."""
    detail = logging.DEBUG if in_sweep else logging.INFO
    log.log(detail, console.setup(trained.inputs, trained.targets, trained.weights, trained.bias))
    log.log(detail, "\n" + console.epoch_tables(trained.result) + "\n")
    if not in_sweep:
        log.info(console.outcome(trained.result))


def _record(
    cfg: DictConfig,
    place: JobContext,
    trained: run.TrainedRun,
    fingerprint: str | None,
    helping: helper.Helper,
) -> None:
    """Log the run to MLflow, and say where to look. The PNGs are drawn by the run's helper, if
    it has one, while it opens the store."""
    out_dir = place.output_dir
    t, activation = trained, cfg.activation
    drawn = None
    if cfg.plots:
        stepped = run.epoch_images(cfg, place.in_sweep)
        args = (out_dir / "plots", t.inputs, t.targets, t.weights, t.bias, t.result, activation.name)
        drawn = helping.submit(_draw, *args, activation.theta or 0.0, stepped)

    from runner import record  # mlflow is imported once the config is known to be good
    from runner.pages import run_page
    from runner.tracking import credentials, ui, writer

    store, experiment, tags = _destination(cfg, place, fingerprint)
    log.log(logging.DEBUG if place.in_sweep else logging.INFO, console.separability(trained.separability))
    pictures, images = drawn.result() if drawn is not None else (None, [])
    uri = str(cfg.mlflow.tracking_uri)
    if place.saved_config is not None and credentials.redacted(uri) != uri:  # only then: a job's hot path
        credentials.redact_files(place.saved_config)  # the store's user and password stay here
    files = [path for path in (place.saved_config, pictures) if path is not None]
    name = place.run_name(cfg)
    line = f"{name}: {console.outcome(trained.result)}"
    tags = {**tags, **_line_in_store(place, line)}
    page = run.run_page(cfg, place.in_sweep)
    made = record.training_record(cfg, trained, name, tags, out_dir, place.gate_source, files, images, page)
    run_id = writer.write(store, experiment, made)
    if place.in_sweep:
        _progress(place, line)
    else:
        shown = run_page.FILE if page else None
        for line in ui.where_to_look(store.uri, cfg.mlflow.tracking_uri, experiment, run_id, shown):
            log.info(line)


def _draw(*args) -> tuple[Path, list]:
    with signals.held():  # a Ctrl-C halfway through importing matplotlib breaks it for the
        from runner import plots  # sweep's review (`KeyError: 'Text:kwdoc'`); it takes 0.3 s

    return plots.run_pictures(*args)


def _record_failure(cfg: DictConfig, place: JobContext, error: Exception, fingerprint: str | None) -> None:
    """In a sweep, a job that failed before its run was logged still gets a FAILED run, under
    the sweep's parent, that says why; so the sweep's summary shows every job."""
    from runner.tracking import writer

    try:
        name = place.run_name(cfg)
    except Exception:  # the config may be too broken to name the run after it
        name = " ".join(place.task) or "job"
    line = f"{name}: failed: {error}"
    try:
        store, experiment, tags = _destination(cfg, place, fingerprint)
        given = dict(o.lstrip("+~").split("=", 1) for o in place.task if "=" in o)
        params = {k: v for k, v in given.items() if k.split(".")[0] not in NOT_PARAMS}
        writer.record_failure(store, experiment, name, {**tags, **_line_in_store(place, line)}, error, params)
    except Exception as unlogged:  # the job's own error is the one to report
        first = first_line(unlogged)
        _progress(place, f"{line}; NOT LOGGED ({first})", unlogged=True)
        return
    _progress(place, line)


def _destination(cfg: DictConfig, place: JobContext, fingerprint: str | None):
    """The store (a relative sqlite path made absolute), the experiment and the sweep's tags."""
    from runner.tracking.sqlite_store import absolute
    from runner.tracking.store import open_store

    store = open_store(absolute(cfg.mlflow.tracking_uri, place.cwd))
    experiment = store.experiment_id(cfg.mlflow.experiment_name)
    tags = {}
    if place.in_sweep:
        tags[JOB_NUM_TAG] = str(place.job_num)
        if fingerprint is not None:
            tags[FINGERPRINT_TAG] = fingerprint
        parent = place.plan and place.plan.parent_in(store.uri, cfg.mlflow.experiment_name)
        if parent:
            tags[PARENT_TAG] = parent
        if place.plan is not None and place.plan.axes:
            tags[POINT_TAG] = json.dumps(point(cfg, place.choices, place.plan.axes))
    return store, experiment, tags


def _plan_from_store(cfg: DictConfig, place: JobContext) -> plan.Plan | None:
    """The plan of a job that does not see the sweep's folder: from its parent run in the
    store. A job that finds neither says so, and logs its run with no parent."""
    from runner.tracking.sqlite_store import absolute

    uri = absolute(cfg.mlflow.tracking_uri, place.cwd)
    key = plan.sweep_key(str(place.cwd), str(place.sweep_dir))
    found = plan.look_up(uri, cfg.mlflow.experiment_name, key)
    if found is None:
        log.warning(
            f"This job found no sweep plan in {place.sweep_dir} nor a sweep of that folder in {uri}: "
            "its run is logged with no parent"
        )
    return found


def _line_in_store(place: JobContext, line: str) -> dict[str, str]:
    """The job's progress line as a tag of its run, for a job that cannot write it in the
    sweep's folder: the sweep's process reads it from the store."""
    if place.plan is None or place.plan.shared_folder:
        return {}
    return {PROGRESS_TAG: progress.stamped(line)}


def _progress_of_kept(place: JobContext, line: str, run_id: str) -> None:
    """A resumed job's line; one that does not see the sweep's folder tags its kept run with it."""
    for tag, value in _line_in_store(place, line).items():
        from runner.tracking.store import open_store

        open_store(place.plan.tracking_uri).client.set_tag(run_id, tag, value)
    _progress(place, line)


def _progress(place: JobContext, outcome: str, unlogged: bool = False) -> None:
    """The job's line in the sweep's progress, which the sweep prints (runner/tracking/progress.py); the
    job's log file keeps it. A job whose plan came from the store sent it with its run; one
    with no plan, or whose run did not reach the store, prints it."""
    shared = place.plan is not None and place.plan.shared_folder
    if shared:
        progress.append(place.sweep_dir, outcome)
    log.log(logging.DEBUG if shared or (place.plan and not unlogged) else logging.WARNING, outcome)
