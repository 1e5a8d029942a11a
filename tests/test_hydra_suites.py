"""Hydra's own test suites for launchers and sweepers, run against this project's plugins as
Hydra's joblib launcher runs them against its own (plugins/hydra_joblib_launcher/tests)."""

from __future__ import annotations

import sys

import pytest
from hydra import version
from hydra.core.plugins import Plugins
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.test_utils.launcher_common_tests import (
    BatchedSweeperTestSuite,
    IntegrationTestSuite,
    LauncherTestSuite,
)

from hydra_plugins.perceptron_runner import register
from hydra_plugins.perceptron_runner.launcher import CachedLauncher
from hydra_plugins.perceptron_runner.parallel import ParallelLauncher
from hydra_plugins.perceptron_runner.sweeper import CachedSweeper
from runner.versions import version_base

# the suites run without a version_base: Hydra 1.3 warns that its jobs change folder
pytestmark = pytest.mark.filterwarnings("ignore:Future Hydra versions will no longer change working dir")

LAUNCHERS = [("cached", []), ("parallel", ["hydra.launcher.n_jobs=2"])]

# The integration suite runs its apps as scripts, in a new process: registered there too, for a
# Hydra 1.3 that cannot see the plugins of an editable install (Hydra 1.4 reads the entry points).
BOOT = (
    "import runpy, sys; from hydra_plugins.perceptron_runner import register; register(); "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


@pytest.fixture(autouse=True)
def as_the_suites_expect():
    """The plugins registered before each test: the suites' fixture restores Hydra's singletons
    after each, which finds plugins anew by scanning, and Hydra 1.3's scan cannot see an editable
    install (unless the current folder, the repository, is on sys.path, as with `python -m
    pytest`). And the suites expect Hydra's defaults for an app that gives no version_base: 1.1's
    on Hydra 1.3 (a job's chdir, for one). The app's tests in this process set 1.3's."""
    register()
    if version_base():
        version.setbase("1.1")


def test_hydra_finds_the_plugins():
    def found(kind: type) -> set[str]:
        return {f"{c.__module__}.{c.__name__}" for c in Plugins.instance().discover(kind)}

    ours = {f"{c.__module__}.{c.__name__}" for c in (CachedLauncher, ParallelLauncher, CachedSweeper)}
    assert ours <= found(Launcher) | found(Sweeper), found(Launcher) | found(Sweeper)


@pytest.mark.parametrize("launcher_name, overrides", LAUNCHERS)
class TestLaunchers(LauncherTestSuite):
    pass


@pytest.mark.parametrize(
    "launcher_name, overrides",
    [
        (launcher, ["hydra/sweeper=cached", "hydra.sweeper.max_batch_size=2", *more])
        for launcher, more in [("basic", []), *LAUNCHERS]
    ],
)
class TestCachedSweeper(BatchedSweeperTestSuite):
    pass


@pytest.mark.slow
@pytest.mark.parametrize(
    "task_launcher_cfg, extra_flags",
    [
        ({"defaults": [{"override hydra/launcher": launcher}]}, ["-m", *more, "hydra/sweeper=cached"])
        for launcher, more in LAUNCHERS
    ],
)
class TestIntegration(IntegrationTestSuite):
    def generate_custom_cmd(self):
        def command(cmd: list[str], filename: str) -> list[str]:
            return [sys.executable, "-c", BOOT, *cmd[1:]]

        return command
