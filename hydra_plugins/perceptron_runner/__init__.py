"""This project's Hydra plugins: the cached sweeper (sweeper.py) and launcher (launcher.py),
which share a ComposeCache (compose.py), and the parallel launcher (parallel.py).

Hydra 1.4 finds them through the `hydra.plugins` entry points that pyproject.toml declares.
Hydra 1.3 finds plugins only by scanning the `hydra_plugins` namespace, which a PEP 660 editable
install (plain `pip install -e .`) hides from it (Hydra issue #2359): `register()` tells it.
"""


def register() -> None:
    """Make the plugins known to Hydra, whatever the install and the Hydra version. Registering
    a class that Hydra found itself changes nothing."""
    from hydra.core.plugins import Plugins

    from hydra_plugins.perceptron_runner.launcher import CachedLauncher
    from hydra_plugins.perceptron_runner.parallel import ParallelLauncher
    from hydra_plugins.perceptron_runner.sweeper import CachedSweeper

    plugins = Plugins.instance()
    for plugin in (CachedSweeper, CachedLauncher, ParallelLauncher):
        plugins.register(plugin)
