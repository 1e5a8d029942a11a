"""Jobs' configs composed once per choice of config groups, on Hydra's public API.

Hydra composes every job's config from scratch, twice (the sweeper checks the whole batch, then
the launcher composes each job again), and a compose with the hydra node costs about 0.2 s here:
most of a small job's time. Yet the jobs of a sweep mostly differ in plain values (`lr=0.1`,
`seed=3`) and share a few config-group choices (`gate=or`). `ComposeCache` composes once per
distinct choice of groups, with the sweep's `ConfigLoader.load_sweep_config`, and sets each job's
plain values on it as Hydra sets them (`OmegaConf.update(..., merge=True)`, the same errors),
after putting back the values the job before it set. The config is the job's until the next
job: Hydra's `run_job` copies what a job keeps (a copy here would cost 4 ms a job more).
Anything else in a job's overrides (`+key=`, `~key`, `hydra.*`, a dict value) is a choice of
its own, composed by Hydra in full. tests/test_compose.py checks every job's config against
Hydra's own compose, on each Hydra version CI runs.
"""

import copy  # no `from __future__ import annotations`: Hydra's plugin scan runs this module
import re
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from hydra.errors import ConfigCompositionException
from hydra.types import HydraContext
from omegaconf import DictConfig, OmegaConf, open_dict, read_write
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException


class ComposeCache:
    """Jobs' configs, composed once per distinct set of structural overrides."""

    def __init__(self, hydra_context: HydraContext, master_config: DictConfig) -> None:
        self.loader = hydra_context.config_loader
        self.master = master_config
        self.groups = set(master_config.hydra.runtime.choices)
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
            set_values(copy.deepcopy(base.composed()), unchecked)
            self.checked.update((key, o.input_line) for o in unchecked)

    def job(self, overrides: Sequence[str], idx: int) -> DictConfig:
        """Job `idx`'s config, as Hydra's basic launcher makes it:
        `load_sweep_config(master_config, overrides)` with `hydra.job.num` and `id` set."""
        key, values, parsed = self._split(overrides)
        config = self._base(key).set(values)
        hydra = config.hydra
        with read_write(hydra), open_dict(hydra):
            job = hydra.job
            task = [o for o in parsed if not o.is_hydra_override()]
            hydra.overrides.task = [o.input_line for o in task]
            if not OmegaConf.is_interpolation(job, "override_dirname"):  # Hydra 1.3 sets it here
                job.override_dirname = overrides_dirname(task, job.config.override_dirname)
            job.id, job.num = str(idx), idx
        OmegaConf.copy_cache(from_config=self.master, to_config=config)
        return config

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
            and override.key_or_group not in self.groups
        )


_checked: Optional[ComposeCache] = None  # the cache of the sweep whose points were checked


def sweep_cache(hydra_context: HydraContext, master_config: DictConfig) -> ComposeCache:
    """The sweep's cache: the one whose check of every point ran before the sweep's parent run
    opened (runner/sweep_check.py), so that its configs are composed once, or a new one."""
    global _checked
    if _checked is not None and _checked.master is master_config:
        return _checked
    _checked = ComposeCache(hydra_context, master_config)
    return _checked


class _Base:
    """One choice of config groups, composed; set for one job after another."""

    def __init__(self, config: DictConfig) -> None:
        self.config = config
        self.as_composed = OmegaConf.to_container(config, resolve=False)  # interpolations as given
        self.changed: List[str] = []  # the keys the last job set

    def composed(self) -> DictConfig:
        """The config as composed, with no job's values: the last job's put back."""
        for key in self.changed:
            value: Any = self.as_composed
            try:
                for part in key.split("."):
                    value = value[int(part)] if isinstance(value, list) else value[part]
            except (KeyError, IndexError, ValueError, TypeError):  # no such key: nothing was set
                continue
            OmegaConf.update(self.config, key, value, merge=False)
        self.changed = []
        return self.config

    def set(self, overrides: Sequence[Override]) -> DictConfig:
        config = self.composed()
        self.changed = [o.key_or_group for o in overrides]  # before: a bad value may stop half-way
        set_values(config, overrides)
        return config


def set_values(config: DictConfig, overrides: Sequence[Override]) -> None:
    """Set plain `key=value` overrides as Hydra's compose sets them, with its errors."""
    for override in overrides:
        try:
            try:
                OmegaConf.update(config, override.key_or_group, override.value(), merge=True)
            except (ConfigAttributeError, ConfigKeyError) as err:
                raise ConfigCompositionException(
                    f"Could not override '{override.key_or_group}'."
                    f"\nTo append to your config use +{override.input_line}"
                ) from err
        except OmegaConfBaseException as err:
            raise ConfigCompositionException(f"Error merging override {override.input_line}") from err


def overrides_dirname(overrides: Sequence[Override], options: DictConfig) -> str:
    """`hydra.job.override_dirname` as Hydra 1.3 writes it (1.4 resolves it from the overrides)."""
    lines = sorted(o.input_line for o in overrides if o.key_or_group not in options.exclude_keys)
    return re.sub("=", options.kv_sep, options.item_sep.join(lines))
