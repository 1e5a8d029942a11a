"""Every point of a grid sweep composed before the sweep starts.

A value of the wrong type (`lr=0.1,abc,1`), a choice that is not in its group (`gate=or,xorr`)
or a key that is not there (`lrr=0.1,1`, `+lrr=0.1,1`) cannot make a job's config, so no job could log it; the
sweep stops in one line before its parent run opens, with nothing run and nothing logged. A
value of the right type that `validate` refuses (`lr=0.1,-1,1`) makes a config: its job fails
alone, its run FAILED with the error, and the others go on. The check composes through the
sweep's ComposeCache, which its sweeper then uses: each choice of groups is composed once.
"""

from __future__ import annotations

from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.types import HydraContext
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from hydra_plugins.perceptron_runner.compose import sweep_cache
from hydra_plugins.perceptron_runner.sweeper import grid, sweep_overrides
from runner.config import known_keys, point_and_reason, unknown_key
from runner.tracking import signals


def check_points(config: DictConfig) -> None:
    """SystemExit with one line for the first point of the sweep that cannot be composed."""
    if not str(config.hydra.sweeper.get("_target_", "")).endswith(".CachedSweeper"):
        return  # another sweeper (Optuna's) picks its own points
    loader = GlobalHydra.instance().config_loader()
    cache = sweep_cache(HydraContext(config_loader=loader, callbacks=None), config)
    parser = OverridesParser.create(config_loader=loader)
    given = list(config.hydra.overrides.task)
    try:
        overrides = parser.parse_overrides(sweep_overrides(config.hydra.sweeper.get("params"), given))
        for o in overrides:
            key = o.key_or_group
            if o.is_hydra_override() or not (o.is_add() or o.is_delete()):
                continue
            if o.is_add() and key not in known_keys():  # `+lrr=0.1,1`: composed, as the schema lets a
                reason = unknown_key(key)  # key be added, but no job could run it, as `lrr=0.1,1`
            elif o.is_delete():  # `~lr`: composed, but every job would fail for the want of it
                reason = f"{o.input_line}: every run needs {key} (give it a value instead)"
            else:
                continue
            raise SystemExit(f"Cannot start the sweep: {reason}; nothing was run or logged")
        for job in grid(overrides):
            cache.check(job)
    except (HydraException, OmegaConfBaseException) as err:
        signals.raise_if_received()  # a Ctrl-C inside OmegaConf comes out as its error: it was the Ctrl-C
        raise SystemExit(
            f"Cannot start the sweep: {point_and_reason(err)}; nothing was run or logged"
        ) from None
