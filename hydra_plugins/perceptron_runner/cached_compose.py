"""Hydra's basic sweeper and launcher, composing each config once per choice of config groups.

Hydra composes every job's config from scratch, twice (the sweeper checks the whole batch, then
the launcher composes each job again), and a compose with the hydra node costs about 0.2 s here:
most of a small job's time. Yet the jobs of a sweep mostly differ in plain values (`lr=0.1`,
`seed=3`) and share a few config-group choices (`gate=or`). `ComposeCache` composes once per
distinct choice of groups, with Hydra's own loader, and gives each job a copy with its plain value
overrides applied by Hydra's own override code; tests/test_cached_compose.py checks that every
config equals the one Hydra composes. Anything else in a job's overrides (`+key=`, `~key`,
`hydra.*`, a dict value) is a choice of its own, composed by Hydra in full.

The launcher runs each job with lean_job.run_job, which is Hydra's run_job without its copies.

    python -m runner -m ... hydra/sweeper=cached hydra/launcher=cached   (the defaults here)
"""

import copy  # no `from __future__ import annotations`: Hydra's plugin scan runs this module

# before it is in sys.modules, where dataclasses look string annotations up
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname
from hydra._internal.core_plugins.basic_launcher import BasicLauncher
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from hydra.core.utils import JobReturn, configure_log, filter_overrides, setup_globals
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from hydra_plugins.perceptron_runner.lean_job import run_job

log = logging.getLogger(__name__)


class ComposeCache:
    """Jobs' configs, composed once per distinct set of structural overrides."""

    def __init__(self, hydra_context: HydraContext, master_config: DictConfig) -> None:
        self.loader = hydra_context.config_loader
        self.master = master_config
        self.parser = OverridesParser.create()
        self.bases: Dict[tuple, _Base] = {}
        self.parsed: Dict[str, Tuple[Override, bool]] = {}  # jobs share their override strings
        self.checked: Set[Tuple[tuple, str]] = set()

    def check(self, overrides: Sequence[str]) -> None:
        """Raise what Hydra's compose would raise for these overrides. A plain value is checked
        once per choice of config groups: it is set on its own key, whatever else the job sets."""
        key, values, _ = self._split(overrides)
        base = self._base(key)
        unchecked = [o for o in values if (key, o.input_line) not in self.checked]
        if unchecked:
            ConfigLoaderImpl._apply_overrides_to_config(unchecked, copy.deepcopy(base.task))
            self.checked.update((key, o.input_line) for o in unchecked)

    def job(self, overrides: Sequence[str], idx: int) -> Tuple[DictConfig, DictConfig]:
        """Job `idx`'s whole config, as `config_loader.load_sweep_config(master_config, overrides)`
        returns it with `hydra.job.num` and `id` set, and the same without its hydra node.

        The whole config shares its hydra node with every job of its choice of config groups: it
        holds this job's values until the next call.
        """
        key, values, parsed = self._split(overrides)
        base = self._base(key)
        config, task = base.copy()
        for copy_ in (config, task):
            ConfigLoaderImpl._apply_overrides_to_config(values, copy_)
        hydra = base.hydra
        with read_write(hydra), open_dict(hydra):
            job = hydra.job
            task_overrides = [o for o in parsed if not o.is_hydra_override()]
            hydra.overrides.task = [o.input_line for o in task_overrides]
            job.override_dirname = get_overrides_dirname(
                overrides=task_overrides,
                kv_sep=job.config.override_dirname.kv_sep,
                item_sep=job.config.override_dirname.item_sep,
                exclude_keys=job.config.override_dirname.exclude_keys,
            )
            job.id = job.num = idx
        OmegaConf.copy_cache(from_config=self.master, to_config=config)
        return config, task

    def _split(self, overrides: Sequence[str]) -> Tuple[tuple, List[Override], List[Override]]:
        """The job's choice of config groups (its key in `bases`), its plain values, and all of
        its overrides, parsed."""
        missing = [line for line in overrides if line not in self.parsed]
        for override in self.parser.parse_overrides(missing) if missing else ():
            self.parsed[override.input_line] = (override, self._is_plain_value(override))
        values, structure, parsed = [], [], []
        for line in overrides:
            override, is_value = self.parsed[line]
            (values if is_value else structure).append(override)
            parsed.append(override)
        return tuple(o.input_line for o in structure), values, parsed

    def _base(self, key: tuple) -> "_Base":
        if key not in self.bases:
            self.bases[key] = _Base(self.loader.load_sweep_config(self.master, list(key)))
        return self.bases[key]

    def _is_plain_value(self, override: Override) -> bool:
        """`key=value` that sets a value in the composed config, and nothing else: not a config
        group's choice, not an addition or deletion, not Hydra's own node."""
        return (
            override.type == OverrideType.CHANGE
            and override.package is None
            and not override.is_hydra_override()
            and not override.is_sweep_override()
            and not isinstance(override.value(), dict)
            and not self.loader.repository.group_exists(override.key_or_group)
        )


class _Base:
    """One choice of config groups composed: its hydra node, and the rest, which jobs copy."""

    def __init__(self, config: DictConfig) -> None:
        self.config = config
        self.hydra = config.hydra
        self.task = copy.deepcopy(config)
        with read_write(self.task), open_dict(self.task):
            del self.task["hydra"]

    def copy(self) -> Tuple[DictConfig, DictConfig]:
        """A job's whole config, its hydra node not copied but shared (and made its child), and a
        copy of the task's config."""
        config = copy.deepcopy(self.config, {id(self.hydra): self.hydra})
        self.hydra._set_parent(config)
        return config, copy.deepcopy(self.task)


def run_cached(
    hydra_context: HydraContext,
    cache: ComposeCache,
    task_function: TaskFunction,
    overrides: Sequence[str],
    idx: int,
) -> JobReturn:
    """Job `idx`, composed through the cache and run by lean_job, in this process. Its JobReturn
    comes without its config: the sweeper keeps every JobReturn until the sweep ends and reads
    only the return values, and the callbacks have seen the config by now. Kept, a long sweep's
    memory grows."""
    config, task = cache.job(overrides, idx)
    ret = run_job(hydra_context, task_function, config, task)
    ret.cfg = None
    return ret


class CachedLauncher(BasicLauncher):
    """Hydra's basic launcher (jobs one after another, in this process), with cached composes
    and lean_job's run_job."""

    cache: Optional[ComposeCache] = None

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        setup_globals()
        assert self.hydra_context is not None and self.config is not None and self.task_function is not None
        if self.cache is None:
            self.cache = ComposeCache(self.hydra_context, self.config)
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        log.info(f"Launching {len(job_overrides)} jobs locally")
        runs: List[JobReturn] = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
            runs.append(run_cached(self.hydra_context, self.cache, self.task_function, overrides, idx))
            configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        return runs


class CachedSweeper(BasicSweeper):
    """Hydra's basic sweeper, whose check of each batch composes through the cache, which it
    shares with a CachedLauncher."""

    def setup(self, *, hydra_context, task_function, config) -> None:
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)
        self.cache = ComposeCache(hydra_context, config)
        if isinstance(self.launcher, CachedLauncher):
            self.launcher.cache = self.cache

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        for overrides in batch:
            self.cache.check(overrides)


@dataclass
class CachedSweeperConf:
    _target_: str = "hydra_plugins.perceptron_runner.cached_compose.CachedSweeper"
    max_batch_size: Optional[int] = None
    params: Optional[Dict[str, str]] = None


@dataclass
class CachedLauncherConf:
    _target_: str = "hydra_plugins.perceptron_runner.cached_compose.CachedLauncher"


ConfigStore.instance().store(
    group="hydra/sweeper", name="cached", node=CachedSweeperConf, provider="perceptron-runner"
)
ConfigStore.instance().store(
    group="hydra/launcher", name="cached", node=CachedLauncherConf, provider="perceptron-runner"
)
