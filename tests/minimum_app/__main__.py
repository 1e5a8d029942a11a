"""`python -m minimum_app`: the app's entry point, its errors as one line, and the signals."""

from pathlib import Path

import hydra
from omegaconf import DictConfig

from hydra_plugins.perceptron_runner import register
from minimum_app.job import task
from runner.tracking import command, signals

CALLBACK = "runner.tracking.callback.MlflowSweep"
ARGS = {"execution_whitelist": [CALLBACK]} if hydra.__version__ >= "1.4" else {"version_base": "1.3"}


@hydra.main(config_path=str(Path(__file__).parent / "conf"), config_name="config", **ARGS)
def main(cfg: DictConfig) -> float:
    return task(cfg)


if __name__ == "__main__":
    signals.install()
    register()  # the parallel launcher
    command.run(main, lambda err: f"Error: {type(err).__name__}: {err}")
