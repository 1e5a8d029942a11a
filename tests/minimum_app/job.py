"""One job: f(x) = (x - a)², logged as an MLflow run through runner/tracking/ alone."""

import hashlib
import json
import time

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from runner.tracking import writer
from runner.tracking.sweep_job import SweepJob


def task(cfg: DictConfig) -> float:
    job = SweepJob.of(HydraConfig.get()).with_plan(cfg)
    fingerprint = hashlib.sha256(json.dumps([cfg.x, cfg.a]).encode()).hexdigest()[:16]
    name = f"x={cfg.x}"
    kept = job.kept(fingerprint)
    if kept is not None:
        job.progress_of_kept(f"{name}: done before, its run {kept} kept", kept)
        return 0.0
    f = (cfg.x - cfg.a) ** 2
    line = f"{name}: f = {f}"
    store, experiment, tags = job.destination(cfg, fingerprint if job.in_sweep else None)
    record = writer.RunRecord(
        name=name,
        params={"x": cfg.x, "a": cfg.a},
        metrics=[("f", float(f), 0)],
        tags={**tags, **job.line_tags(line)},
    )
    run_id = writer.write(store, experiment, record)
    if job.in_sweep:
        job.progress(line)
    else:
        print("\n".join([line, *job.where_to_look(store, cfg, experiment, run_id, None)]))
    time.sleep(cfg.pause)
    return float(f)
