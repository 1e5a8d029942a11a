"""The cached launcher: Hydra's basic launcher (jobs one after another, in this process), each
job's config made by the ComposeCache and run by Hydra's own `run_job`.

    python -m runner -m ... hydra/launcher=cached   (the default here)
"""

import logging  # no `from __future__ import annotations`: Hydra's plugin scan runs this module
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

from hydra.core.config_store import ConfigStore
from hydra.core.utils import JobReturn, configure_log, filter_overrides, run_job, setup_globals
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig

from hydra_plugins.perceptron_runner.compose import ComposeCache

log = logging.getLogger(__name__)


class KeptJobReturn(JobReturn):
    """A job's JobReturn as a launcher returns it, to be kept until the sweep ends: its configs
    pickled and compressed, made again (equal) when read. Live, a job's two configs take about
    120 KB, which a 10,000-job sweep would hold to its end (Hydra's callbacks see the live
    JobReturn, in `run_job`); kept, 5 KB."""

    def __init__(self, ret: JobReturn) -> None:
        self.__dict__.update(vars(ret))  # every field of this Hydra version's JobReturn
        for name in ("cfg", "hydra_cfg"):
            setattr(self, name, vars(ret)[name])

    cfg = property(lambda self: _unpack(self._kept_cfg), lambda self, config: _pack(self, "cfg", config))
    hydra_cfg = property(
        lambda self: _unpack(self._kept_hydra_cfg), lambda self, config: _pack(self, "hydra_cfg", config)
    )


def _pack(ret: JobReturn, name: str, config: Optional[DictConfig]) -> None:
    vars(ret).pop(name, None)
    vars(ret)[f"_kept_{name}"] = None if config is None else zlib.compress(pickle.dumps(config, 5), 1)


def _unpack(packed: Optional[bytes]) -> Optional[DictConfig]:
    return None if packed is None else pickle.loads(zlib.decompress(packed))


class CachedLauncher(Launcher):
    """Runs a batch's jobs in this process. A CachedSweeper hands it the compose cache it
    checked the batch with; under another sweeper (Optuna) it makes its own."""

    def __init__(self) -> None:
        super().__init__()
        self.config: Optional[DictConfig] = None
        self.task_function: Optional[TaskFunction] = None
        self.hydra_context: Optional[HydraContext] = None
        self.cache: Optional[ComposeCache] = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config, self.hydra_context, self.task_function = config, hydra_context, task_function

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        self.prepare()
        log.debug(f"Launching {len(job_overrides)} jobs locally")
        runs: List[JobReturn] = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.debug(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
            runs.append(self.run(overrides, idx))
        return runs

    def prepare(self) -> None:
        """What Hydra's basic launcher does before a batch: its globals, its log, the folder."""
        setup_globals()
        assert self.hydra_context is not None and self.config is not None and self.task_function is not None
        if self.cache is None:
            self.cache = ComposeCache(self.hydra_context, self.config)
        self._hydra_log()
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)

    def run(self, overrides: Sequence[str], idx: int) -> JobReturn:
        """Job `idx`, in this process, as Hydra's basic launcher runs it."""
        assert self.hydra_context is not None and self.cache is not None and self.task_function is not None
        config = self.cache.job(overrides, idx)
        ret = run_job(
            hydra_context=self.hydra_context,
            task_function=self.task_function,
            config=config,
            job_dir_key="hydra.sweep.dir",
            job_subdir_key="hydra.sweep.subdir",
        )
        self._hydra_log()
        return KeptJobReturn(ret)

    def _hydra_log(self) -> None:
        """Hydra's log around the jobs, set as its basic launcher sets it: on Hydra 1.4 through
        the app's execution whitelist, where it has one."""
        assert self.config is not None
        whitelist = getattr(self.hydra_context, "execution_whitelist", None)  # Hydra 1.4
        trusted = {} if whitelist is None else {"execution_whitelist": whitelist}
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose, **trusted)


@dataclass
class CachedLauncherConf:
    _target_: str = "hydra_plugins.perceptron_runner.launcher.CachedLauncher"


ConfigStore.instance().store(
    group="hydra/launcher", name="cached", node=CachedLauncherConf, provider="perceptron-runner"
)
