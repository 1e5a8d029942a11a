"""Hydra's `run_job`, for a job whose config the ComposeCache made, without Hydra's copies.

Hydra's own `run_job` copies the job's whole config four times (twice in `HydraConfig.set_config`,
once for the task, once for the hydra node) and writes its three YAML files with PyYAML's pure
Python emitter: about 40 ms a job here, more than the job's training and its MLflow run together.
This does what it does, in its order, with the configs the cache shares:

- the task's config is a copy of a small node (the config without `hydra`), as in Hydra;
- the hydra node is one per choice of config groups, updated in place for each job (jobs here run
  one after another in a process, and nothing keeps a job's node once the job has ended);
- the YAML files are what `OmegaConf.to_yaml` writes, from libyaml's emitter (which wraps long
  strings at other places).
"""

import logging  # no `from __future__ import annotations`: Hydra's plugin scan runs this module
import os
from pathlib import Path
from typing import Any

import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn, JobRuntime, JobStatus, configure_log, env_override
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf
from omegaconf._utils import OmegaConfDumper

_Emitter: Any = getattr(yaml, "CDumper", yaml.Dumper)  # PyYAML built without libyaml: Python's


class _Dumper(_Emitter):
    """OmegaConf's YAML dumper (strings that read as numbers or booleans are quoted) on libyaml."""


_Dumper.add_representer(str, OmegaConfDumper.str_representer)


def to_yaml(config: Any) -> str:
    """`OmegaConf.to_yaml(config)`, also of a dict holding configs."""
    if isinstance(config, dict):
        container = {key: OmegaConf.to_container(node, enum_to_str=True) for key, node in config.items()}
    else:
        container = OmegaConf.to_container(config, enum_to_str=True)
    return yaml.dump(container, default_flow_style=False, allow_unicode=True, sort_keys=False, Dumper=_Dumper)


def run_job(
    hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig, task: DictConfig
) -> JobReturn:
    """Run one job as Hydra's `run_job(..., "hydra.sweep.dir", "hydra.sweep.subdir")` does.

    `config` is the job's whole config (its hydra node shared, and set for this job), `task` the
    same without the hydra node: what the task function gets.
    """
    hydra = config.hydra
    singleton = HydraConfig.instance()
    previous, old_cwd = singleton.cfg, os.getcwd()
    output_dir = os.path.abspath(os.path.join(str(hydra.sweep.dir), str(hydra.sweep.subdir)))
    OmegaConf.update(config, "hydra.runtime.output_dir", output_dir, force_add=True)
    singleton.cfg = config  # what set_config gives: HydraConfig.get() is this job's hydra node
    chdir = bool(hydra.job.chdir)
    try:
        ret = JobReturn()
        ret.cfg = task
        ret.overrides = list(hydra.overrides.task)
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        if chdir:
            os.chdir(output_dir)
        ret.working_dir = os.getcwd()
        configure_log(hydra.job_logging, hydra.verbose)
        if hydra.output_subdir is not None:
            saved = Path(output_dir, str(hydra.output_subdir))
            saved.mkdir(parents=True, exist_ok=True)
            for name, node in (
                ("config.yaml", task),
                ("hydra.yaml", {"hydra": hydra}),
                ("overrides.yaml", hydra.overrides.task),
            ):
                (saved / name).write_text(to_yaml(node), encoding="utf-8")
        callbacks = hydra_context.callbacks
        with env_override(hydra.job.env_set):
            callbacks.on_job_start(config=config, task_function=task_function)
            try:
                ret.return_value = task_function(task)
                ret.status = JobStatus.COMPLETED
            except Exception as err:
                ret.return_value = err
                ret.status = JobStatus.FAILED
        ret.task_name = JobRuntime.instance().get("name")
        for handler in logging.getLogger().handlers:
            handler.flush()
        callbacks.on_job_end(config=config, job_return=ret)
        return ret
    finally:
        singleton.cfg = previous
        if chdir:
            os.chdir(old_cwd)
