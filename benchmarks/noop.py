"""Bare Hydra over the runner's config tree: a task that does nothing, and no sweep callback.

The benchmark's floor for a sweep job: what Hydra alone costs per job with the same configs.
"""

import hydra

import runner.config  # noqa: F401  (the schema, as the runner registers it)
from runner.config import CONF_DIR
from runner.versions import version_base


@hydra.main(config_path=str(CONF_DIR), config_name="config", **version_base())
def noop(cfg) -> None:
    return None


if __name__ == "__main__":
    noop()
