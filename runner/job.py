"""One Hydra job: a composed config becomes a TrainedRun, printed and logged to MLflow.

    config ──► run.train ──► console (the trace, the outcome) ──► record.log ──► MLflow

Where its run goes and with which tags, and its line in a sweep's progress, are the tracking
layer's (runner/tracking/sweep_job.py): in a sweep a job adds one progress line instead of
printing its trace (its log file keeps everything), logs its run under the sweep's parent, and
a job that fails still gets a FAILED run that says why. A job that could not log says so in
its line, and the sweep counts it missing.
"""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from runner import config, console, helper, record, run
from runner.config import RunnerConfig, config_error_line
from runner.tracking import signals
from runner.tracking.errors import OutOfSpace, UsageError, first_line, out_of_space
from runner.tracking.sweep_job import SweepJob

log = logging.getLogger("runner")  # not __name__: run as `-m runner` that is "__main__"


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
    """Train, print and log one run; returns its objective, for a sweeper that searches. Hydra's
    config is read once, here (config.read): the rest of the job is handed the typed settings."""
    hydra = HydraConfig.get()
    place, gate_source = SweepJob.of(hydra), run.gate_source(hydra)
    signals.raise_if_received()  # an interrupt that some code swallowed stops the next job
    place = place.with_plan(cfg)
    try:
        settings = config.read(cfg)
    except Exception as err:  # a key with no value, one the schema has not, an interpolation
        signals.raise_if_received()
        if place.in_sweep:
            _record_failure(cfg, place, err, None)
        raise
    if not place.in_sweep:  # a sweep's store is checked as it starts
        run.refuse_single(settings, place.cwd)
    fingerprint = run.fingerprint(settings) if place.in_sweep else None
    kept = place.kept(fingerprint)
    if kept is not None:  # a resumed sweep: this job's FINISHED run stays as it is
        place.progress_of_kept(f"{_name(settings, place)}: done before, its run {kept} kept", kept)
        return 0.0  # what a grid sweeper ignores; a search cannot resume
    with run.own_folder(place.output_dir, place.in_sweep):
        helping = helper.INLINE if place.in_sweep else helper.start()  # a single run's other core
        try:
            return _train_and_record(settings, place, gate_source, fingerprint, helping)
        finally:
            helping.close()


def _name(cfg: RunnerConfig | DictConfig, place: SweepJob) -> str:
    """The job's run name (runner/run.py): in a sweep, its values of the keys the sweep varies."""
    return run.name(cfg, place.task, place.varying)


def _train_and_record(
    cfg: RunnerConfig, place: SweepJob, gate_source: Path, fingerprint: str | None, helping: helper.Helper
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
        _record(cfg, place, gate_source, trained, fingerprint, helping)
    except Exception as err:
        signals.raise_if_received()  # an interrupt that some code turned into another error
        full = out_of_space(err)
        if full:  # every later job would fail the same way: stop the sweep here, in one line
            raise OutOfSpace(
                f"Out of space while logging {_name(cfg, place)}: {full}; free some, "
                "then run the same command again (a sweep with resume=latest)"
            ) from None
        if place.in_sweep:
            first = first_line(err)
            outcome = console.outcome(trained.result)
            place.progress(f"{_name(cfg, place)}: {outcome}; NOT LOGGED ({first})", unlogged=True)
        raise
    signals.raise_if_received()
    return trained.objective


def _print(trained: run.TrainedRun, in_sweep: bool) -> None:
    """The tutorial's text; in a sweep only to the job's log file, where the console shows one
    progress line per job instead."""
    detail = logging.DEBUG if in_sweep else logging.INFO
    log.log(
        detail,
        console.setup(
            trained.inputs, trained.targets, trained.weights, trained.bias, trained.setup.bias_input
        ),
    )
    log.log(detail, "\n" + console.epoch_tables(trained.result) + "\n")
    if not in_sweep:
        log.info(console.outcome(trained.result))


def _record(
    cfg: RunnerConfig,
    place: SweepJob,
    gate_source: Path,
    trained: run.TrainedRun,
    fingerprint: str | None,
    helping: helper.Helper,
) -> None:
    """Log the run to MLflow, and say where to look. The PNGs are drawn by the run's helper, if
    it has one, while it opens the store."""
    out_dir = place.output_dir
    t = trained
    drawn = None
    if cfg.plots:
        stepped = run.epoch_images(cfg, place.in_sweep)
        args = (out_dir / "plots", t.inputs, t.targets, t.weights, t.bias, t.result, t.setup, stepped)
        drawn = helping.submit(record.pictures, *args)

    store, experiment, tags = place.destination(cfg, fingerprint)  # mlflow: the config is known good
    log.log(logging.DEBUG if place.in_sweep else logging.INFO, console.separability(trained.separability))
    pictures, images = drawn.result() if drawn is not None else (None, [])
    saved = place.saved_config_redacted(str(cfg.mlflow.tracking_uri))
    files = [path for path in (saved, pictures) if path is not None]
    name = _name(cfg, place)
    line = f"{name}: {console.outcome(trained.result)}"
    tags = {**tags, **place.line_tags(line)}
    args = (cfg, trained, name, tags, out_dir, gate_source, files, images, place.in_sweep)
    run_id, page = record.log(store, experiment, *args)
    if place.in_sweep:
        place.progress(line)
    else:
        for line in place.where_to_look(store, cfg, experiment, run_id, page):
            log.info(line)


def _record_failure(
    cfg: RunnerConfig | DictConfig, place: SweepJob, error: Exception, fingerprint: str | None
) -> None:
    """In a sweep, a job that failed before its run was logged still gets a FAILED run, under
    the sweep's parent, that says why; so the sweep's summary shows every job."""
    try:
        name = _name(cfg, place)
    except Exception:  # the config may be too broken to name the run after it
        name = " ".join(place.task) or "job"
    place.log_failure(cfg, fingerprint, name, error)
