"""One Hydra job: a composed config becomes a Run, printed and logged to MLflow.

    config ──► run.train ──► console (the trace, the outcome) ──► tracking.record_training

In a sweep a job prints one progress line instead of its trace (its log file keeps everything),
logs its run under the sweep's parent, and a job that fails still gets a FAILED run that says why.
"""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from runner import console, run, signals
from runner.config import ConfigError
from runner.errors import out_of_space
from runner.sweep import done_before, parent_run, progress

log = logging.getLogger("runner")  # not __name__: run as `-m runner` that is "__main__"


def job(cfg: DictConfig) -> float:
    """Train, print and log one run; returns its objective, for a sweeper that searches."""
    hydra = HydraConfig.get()
    in_sweep = hydra.mode == RunMode.MULTIRUN
    _stop_if_interrupted()  # an interrupt that some code swallowed stops the next job
    if not in_sweep and cfg.resume is not None:
        raise ConfigError("resume", cfg.resume, "null: resume continues a sweep, so it goes with -m")
    fingerprint = _fingerprint(cfg) if in_sweep else None
    if fingerprint is not None:
        kept = done_before(_sweep_dir(hydra), fingerprint)
        if kept is not None:  # a resumed sweep: this job's FINISHED run stays as it is
            _progress(hydra, f"{run.name(cfg, hydra.overrides.task)}: done before, its run {kept} kept")
            return 0.0  # what a grid sweeper ignores; a search cannot resume
    try:
        trained = run.train(cfg)
    except Exception as err:
        _stop_if_interrupted()
        if in_sweep:
            _record_failure(cfg, hydra, err, fingerprint)
        raise
    _print(trained, in_sweep)
    try:
        _record(cfg, hydra, in_sweep, trained, fingerprint)
    except Exception as err:
        _stop_if_interrupted()  # an interrupt that some code turned into another error
        full = out_of_space(err)
        if full:  # every later job would fail the same way: stop the sweep here, in one line
            raise SystemExit(
                f"Out of space while logging {run.name(cfg, hydra.overrides.task)}: {full}; free some, "
                "then run the same command again (a sweep with resume=latest)"
            ) from None
        raise
    _stop_if_interrupted()
    return trained.objective


def _fingerprint(cfg: DictConfig) -> str | None:
    """The job's fingerprint, once per job; None for a config too broken to resolve, which is
    a new job whenever it runs."""
    try:
        return run.fingerprint(cfg)
    except Exception:
        return None


def _stop_if_interrupted() -> None:
    if signals.received():
        raise KeyboardInterrupt(signals.received())


def _print(trained: run.Run, in_sweep: bool) -> None:
    """The tutorial's text; in a sweep only to the job's log file, where the console shows one
    progress line per job instead."""
    detail = logging.DEBUG if in_sweep else logging.INFO
    log.log(detail, console.setup(trained.inputs, trained.targets, trained.weights, trained.bias))
    log.log(detail, "\n" + console.epoch_tables(trained.result) + "\n")
    if not in_sweep:
        log.info(console.outcome(trained.result))
    log.log(detail, console.separability(trained.table))


def _record(
    cfg: DictConfig, hydra: DictConfig, in_sweep: bool, trained: run.Run, fingerprint: str | None
) -> None:
    """Log the run to MLflow, and say where to look."""
    from runner import tracking  # mlflow is imported once the config is known to be good

    out_dir = Path(hydra.runtime.output_dir)
    trace_csv, gate_csv = out_dir / "trace.csv", out_dir / "gate.csv"
    trained.result.trace.to_csv(trace_csv, index=False)
    trained.truth_table().to_csv(gate_csv, index=False)
    artifacts = [trace_csv, gate_csv]
    if hydra.output_subdir is not None:
        artifacts.append(out_dir / hydra.output_subdir)
    if cfg.plots:
        artifacts.append(_plot(out_dir / "plots", trained, cfg.activation.theta or 0.0))

    store, experiment, tags = _destination(cfg, hydra, in_sweep, fingerprint)
    name = run.name(cfg, hydra.overrides.task)
    run_id = tracking.record_training(
        store, experiment, name, tags, run.params(cfg, trained), trained, artifacts
    )
    if in_sweep:
        _progress(hydra, f"{name}: {console.outcome(trained.result)}")
    else:
        for line in tracking.where_to_look(store, cfg.mlflow.tracking_uri, experiment, run_id):
            log.info(line)


def _plot(folder: Path, trained: run.Run, theta: float) -> Path:
    """The run's PNGs: errors per epoch, and for a 2-input table its decision lines."""
    from runner import plots  # matplotlib is imported only by runs that draw

    folder.mkdir(exist_ok=True)
    result = trained.result
    plots.errors_per_epoch(result.errors, folder / "errors.png")
    if trained.inputs.shape[1] == 2:
        plots.decision_lines(
            trained.inputs,
            trained.targets,
            (trained.weights, trained.bias),
            result.epoch_weights,
            result.epoch_bias,
            theta,
            folder / "decision_lines.png",
        )
    return folder


def _record_failure(cfg: DictConfig, hydra: DictConfig, error: Exception, fingerprint: str | None) -> None:
    """In a sweep, a job that failed before its run was logged still gets a FAILED run, under
    the sweep's parent, that says why; so the sweep's summary shows every job."""
    from runner import tracking

    try:
        name = run.name(cfg, hydra.overrides.task)
    except Exception:  # the config may be too broken to name the run after it
        name = " ".join(hydra.overrides.task) or "job"
    try:
        store, experiment, tags = _destination(cfg, hydra, True, fingerprint)
        given = dict(o.lstrip("+~").split("=", 1) for o in hydra.overrides.task if "=" in o)
        params = {k: v for k, v in given.items() if k.split(".")[0] not in ("hydra", "mlflow")}
        tracking.record_failure(store, experiment, name, tags, error, params)
    except Exception as unlogged:  # the job's own error is the one to report
        log.warning("This job's failure could not be logged to MLflow: %s", unlogged)
    _progress(hydra, f"{name}: failed: {error}")


def _destination(cfg: DictConfig, hydra: DictConfig, in_sweep: bool, fingerprint: str | None):
    """The store (a relative sqlite path made absolute), the experiment and the sweep's tags."""
    from runner import tracking
    from runner.store import absolute, open_store

    store = open_store(absolute(cfg.mlflow.tracking_uri, hydra.runtime.cwd))
    experiment = store.experiment_id(cfg.mlflow.experiment_name)
    tags = {}
    if in_sweep:
        tags[tracking.JOB_NUM_TAG] = str(hydra.job.num)
        if fingerprint is not None:
            tags[run.FINGERPRINT_TAG] = fingerprint
        parent = parent_run(_sweep_dir(hydra), store.uri, cfg.mlflow.experiment_name)
        if parent is not None:
            tags["mlflow.parentRunId"] = parent
    return store, experiment, tags


def _progress(hydra: DictConfig, outcome: str) -> None:
    """The job's line in the sweep's progress; the sweep prints it (runner.sweep.Echo), the job's
    log file keeps it."""
    line = progress(_sweep_dir(hydra), outcome)
    log.log(logging.DEBUG if line else logging.INFO, line or outcome)


def _sweep_dir(hydra: DictConfig) -> Path:
    return Path(hydra.runtime.cwd, hydra.sweep.dir)
