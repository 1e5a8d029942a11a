"""This project's Hydra plugins: the cached sweeper and launcher (cached_compose.py), and the
parallel launcher (parallel.py)."""


def register() -> None:
    """Make them known to Hydra where its plugin scan cannot see them: a PEP 660 editable install
    (plain `pip install -e .`) hides this folder from the scan (Hydra issue #2359).

    The scan runs first: it loads Hydra's own plugin modules afresh, and the cached sweeper must
    subclass the BasicSweeper that the scan leaves in place, not one imported before it.
    Registering a class that the scan found as well changes nothing.
    """
    from hydra.core.plugins import Plugins

    plugins = Plugins.instance()  # scans, once
    from hydra_plugins.perceptron_runner.cached_compose import CachedLauncher, CachedSweeper
    from hydra_plugins.perceptron_runner.parallel import ParallelLauncher

    for plugin in (CachedSweeper, CachedLauncher, ParallelLauncher):
        plugins.register(plugin)
