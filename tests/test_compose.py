"""The cached sweeper and launcher (hydra_plugins/perceptron_runner) give every job the config
Hydra's own compose gives it, and compose once per choice of config groups; the sweeper plans the
grid Hydra's basic sweeper plans. On every Hydra version CI runs: these are the tests that fail
when a release changes what the cache copies."""

from __future__ import annotations

import itertools
import re

import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException
from hydra.types import HydraContext, RunMode
from omegaconf import OmegaConf, open_dict

from hydra_plugins.perceptron_runner.compose import ComposeCache
from hydra_plugins.perceptron_runner.sweeper import grid
from runner.config import CONF_DIR
from runner.versions import version_base

HYDRA_OVERRIDES = ["hydra/launcher=joblib", "hydra.job.chdir=true"]
JOBS = [
    [f"gate={gate}", f"lr={lr}", f"seed={seed}"]
    for gate, lr, seed in itertools.product(["or", "xor", "majority"], [0.1, 1], [0, 7])
] + [
    ["rule=hebb", "activation=band", "activation.theta=0.2", "lr=0.5", "init.weights=[0,0]", "init.bias=0"],
    ["gate=custom", "gate.inputs=[[1,1],[1,0],[0,1],[0,0]]", "gate.targets=[1,-1,-1,-1]", "seed=3"],
    ["sweep=grid", "gate=nand", "lr=2", "order=shuffle", "max_trace_rows=null"],
    ["gate=or", "+extra=1", "lr=3"],  # an addition: composed by Hydra in full
    ["gate=and", "++lr=0.3", "seed=1"],  # a forced addition: likewise
    ["gate=or", "hydra.job.chdir=false", "lr=0.25"],  # Hydra's own node: likewise
    ["gate=and", "gate.n_inputs=4", "mlflow.experiment_name='élan'", "lr=1e-3"],
    # the same choice of groups again: what the jobs before set is put back
    ["gate=and", "max_epochs=7"],
    ["gate=custom", "seed=4"],
    ["gate=or", "mlflow.tracking_uri=sqlite:///x.db", "init.weights=[1,2]"],
    ["gate=or", "lr=2"],
]


@pytest.fixture
def loader_and_master():
    with initialize_config_dir(config_dir=str(CONF_DIR), **version_base()):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration("config", HYDRA_OVERRIDES, run_mode=RunMode.MULTIRUN)
        yield loader, master


def test_every_job_gets_the_config_hydra_composes(loader_and_master):
    loader, master = loader_and_master
    cache = ComposeCache(HydraContext(config_loader=loader, callbacks=None), master)
    for number, job in enumerate(JOBS):
        if number == 12:  # 3 gates × 2 lr × 2 seeds: composed 3 times, not 12 (or 24)
            assert list(cache.bases) == [("gate=or",), ("gate=xor",), ("gate=majority",)]
        try:
            hydras = loader.load_sweep_config(master, job)
        except ConfigCompositionException as refused:  # Hydra 1.4: a job may not change the sweeper
            with pytest.raises(ConfigCompositionException, match=re.escape(str(refused))):
                cache.job(job, number)
            continue
        cached = cache.job(job, number)
        with open_dict(hydras):  # as Hydra's basic launcher sets them
            hydras.hydra.job.num, hydras.hydra.job.id = number, str(number)
        assert OmegaConf.to_container(cached) == OmegaConf.to_container(hydras), job
        assert OmegaConf.is_struct(cached)
        # the job's own values, not the first job's of its choice of groups
        assert cached.hydra.sweep.subdir == str(number)
        assert cached.hydra.job.override_dirname == hydras.hydra.job.override_dirname


def test_the_grid_is_the_one_hydras_basic_sweeper_plans():
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper  # the reference, in a test only
    from hydra.core.override_parser.overrides_parser import OverridesParser

    given = [
        "gate=or,and",
        "lr=0.1,1",
        "seed=range(0,3)",
        "rule=hebb",
        "lr=2,3",
        "+x=choice(1,2)",
        "a.b=[1,2]",
    ]
    overrides = OverridesParser.create().parse_overrides(given)
    assert grid(overrides) == BasicSweeper.split_arguments(overrides, None)[0]
    assert len(grid(overrides)) == 2 * 2 * 3 * 2


def test_a_bad_value_fails_as_it_does_in_hydra(loader_and_master):
    loader, master = loader_and_master
    cache = ComposeCache(HydraContext(config_loader=loader, callbacks=None), master)
    cache.check(["gate=or", "lr=1"])  # checked once; a bad value beside it is still caught
    for job in (
        ["gate=or", "lr=abc"],
        ["gate=or", "nokey=1"],
        ["gate=nope"],
        ["~init.low"],
        ["gate=or", "lr=1", "seed=x"],
    ):
        with pytest.raises(Exception) as hydras:
            loader.load_sweep_config(master, job)
        for cached_compose in (cache.check, lambda job: cache.job(job, 0)):
            with pytest.raises(type(hydras.value)) as cached:
                cached_compose(job)
            assert str(cached.value) == str(hydras.value)
    # a job after them gets its own config, with nothing of theirs left in it
    good = ["gate=or", "max_epochs=3"]
    expected = OmegaConf.to_container(loader.load_sweep_config(master, good))
    got = OmegaConf.to_container(cache.job(good, 0))
    for field in ("id", "num"):  # set by the launcher
        expected["hydra"]["job"][field] = got["hydra"]["job"][field] = None
    assert got == expected
