"""The cached sweeper: Hydra's basic sweeper (the grid of the sweep's lists, in batches), whose
check of each batch composes through the ComposeCache, shared with a CachedLauncher.

    python -m runner -m ... hydra/sweeper=cached   (the default here)

It is written on Hydra's public `Sweeper` interface rather than as a subclass of the basic
sweeper, which lives in `hydra._internal`: the grid is what the basic sweeper computes (`grid`,
checked against Hydra's own in tests/test_compose.py) and the suites Hydra runs for its own
sweepers pass (tests/test_hydra_suites.py).
"""

import contextlib  # no `from __future__ import annotations`: Hydra's plugin scan runs this module
import io
import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.core.plugins import Plugins
from hydra.core.utils import JobReturn, JobStatus
from hydra.errors import HydraException
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from hydra_plugins.perceptron_runner.compose import ComposeCache, sweep_cache
from hydra_plugins.perceptron_runner.launcher import CachedLauncher

log = logging.getLogger(__name__)


def grid(overrides: Sequence[Override]) -> List[List[str]]:
    """Every job of a grid, as Hydra's basic sweeper lists them: the product of the sweep
    lists, a key given twice keeping its last value, in the order the keys were first given."""
    lists: Dict[str, List[str]] = {}
    for override in overrides:
        key = override.get_key_element()
        if not override.is_sweep_override():
            lists[key] = [f"{key}={override.get_value_element_as_str()}"]
        elif override.is_discrete_sweep():
            lists[key] = [f"{key}={value}" for value in override.sweep_string_iterator()]
        else:
            kind = override.value_type.name if override.value_type else "?"
            raise HydraException(f"The grid sweeper does not support sweep type : {kind}")
    return [list(job) for job in itertools.product(*lists.values())]


def sweep_overrides(params: Optional[Dict[str, str]], command_line: Sequence[str]) -> List[str]:
    """A sweep's overrides as a sweeper reads them: its `params` (a preset's), then the command line."""
    return [f"{key}={value}" for key, value in (params or {}).items()] + list(command_line)


class CachedSweeper(Sweeper):
    def __init__(self, max_batch_size: Optional[int] = None, params: Optional[Dict[str, str]] = None) -> None:
        super().__init__()
        if max_batch_size is not None and max_batch_size <= 0:
            raise HydraException(f"hydra.sweeper.max_batch_size={max_batch_size}: null or a number > 0")
        self.max_batch_size = max_batch_size
        self.params = params
        self.hydra_context: Optional[HydraContext] = None
        self.config: Optional[DictConfig] = None
        self.launcher: Any = None
        self.cache: Optional[ComposeCache] = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )
        self.cache = sweep_cache(hydra_context, config)
        if isinstance(self.launcher, CachedLauncher):
            self.launcher.cache = self.cache

    def sweep(self, arguments: List[str]) -> List[Sequence[JobReturn]]:
        assert self.config is not None and self.hydra_context is not None and self.launcher is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        jobs = grid(parser.parse_overrides(sweep_overrides(self.params, arguments)))
        size = self.max_batch_size or len(jobs) or 1
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        returns: List[Sequence[JobReturn]] = []
        for start in range(0, len(jobs), size):
            batch = jobs[start : start + size]
            self.validate_batch_is_legal(batch)
            results = self.launcher.launch(batch, initial_job_idx=start)
            failed = [result for result in results if result.status == JobStatus.FAILED]
            if failed:  # it raises, as in Hydra's basic sweeper; its stderr line is the sweep's to
                with contextlib.redirect_stderr(io.StringIO()):  # print, with the others, at the end
                    _ = failed[0].return_value
            returns.append(results)
        return returns

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        assert self.cache is not None
        for overrides in batch:
            self.cache.check(overrides)


@dataclass
class CachedSweeperConf:
    _target_: str = "hydra_plugins.perceptron_runner.sweeper.CachedSweeper"
    max_batch_size: Optional[int] = None  # jobs launched at once; null: the whole grid
    params: Optional[Dict[str, str]] = None  # overrides swept beside the command line's


ConfigStore.instance().store(
    group="hydra/sweeper", name="cached", node=CachedSweeperConf, provider="perceptron-runner"
)
