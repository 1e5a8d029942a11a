"""Config composition through Hydra's compose API, the gates' tables, and validation."""

import shutil

import pytest
from conftest import CONF_DIR, GATES, compose_config
from hydra import compose, initialize_config_dir
from hydra.errors import HydraException

from runner import perceptron
from runner.config import ConfigError, validate
from runner.versions import version_base

TRUTH = {
    "or": lambda a, b: a or b,
    "and": lambda a, b: a and b,
    "nand": lambda a, b: not (a and b),
    "nor": lambda a, b: not (a or b),
    "xor": lambda a, b: a != b,
    "xnor": lambda a, b: a == b,
}


def test_defaults(no_tracking_env):
    cfg = compose_config()
    assert (cfg.gate.name, cfg.rule.name, cfg.activation.name, cfg.order) == (
        "or",
        "perceptron",
        "step",
        "table",
    )
    assert (cfg.gate.n_inputs, cfg.gate.inputs_encoding, cfg.gate.targets_encoding) == (
        2,
        "bipolar",
        "bipolar",
    )
    assert (cfg.lr, cfg.seed, cfg.max_epochs) == (1.0, 0, 100)
    assert cfg.init.weights is None and cfg.init.bias is None
    assert cfg.init.low < cfg.init.high
    assert cfg.mlflow.tracking_uri == "sqlite:///outputs/mlflow.db"
    assert cfg.mlflow.experiment_name == "perceptron"
    validate(cfg)


def test_overrides_as_users_write_them():
    cfg = compose_config("gate=nand", "lr=1", "seed=3", "max_epochs=20", "init.weights=[0,0]", "init.bias=0")
    assert cfg.gate.name == "nand"
    assert isinstance(cfg.lr, float) and cfg.lr == 1.0
    assert (cfg.seed, cfg.max_epochs) == (3, 20)
    assert list(cfg.init.weights) == [0.0, 0.0] and cfg.init.bias == 0.0
    validate(cfg)


def test_the_environment_variable_beats_the_default_and_an_override_beats_both(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert compose_config().mlflow.tracking_uri == "http://tracking.example:5000"
    cfg = compose_config("mlflow.tracking_uri=sqlite:///elsewhere.db")
    assert cfg.mlflow.tracking_uri == "sqlite:///elsewhere.db"


def test_gates_available():
    assert GATES == ["and", "custom", "majority", "nand", "nor", "or", "xnor", "xor"]


@pytest.mark.parametrize("gate", sorted(TRUTH))
def test_every_gate_table_in_the_tutorial_row_order(gate):
    inputs, targets = validate(compose_config(f"gate={gate}"))
    rows = [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    assert [tuple(r) for r in inputs] == rows
    assert targets.tolist() == [1 if TRUTH[gate](a == 1, b == 1) else -1 for a, b in rows]


def test_n_inputs_and_encodings():
    inputs, targets = validate(
        compose_config(
            "gate=and", "gate.n_inputs=3", "gate.inputs_encoding=binary", "gate.targets_encoding=binary"
        )
    )
    assert inputs.tolist() == [
        [0, 0, 0],
        [0, 0, 1],
        [0, 1, 0],
        [0, 1, 1],
        [1, 0, 0],
        [1, 0, 1],
        [1, 1, 0],
        [1, 1, 1],
    ]
    assert targets.tolist() == [0, 0, 0, 0, 0, 0, 0, 1]
    inputs, targets = validate(compose_config("gate=majority"))
    assert inputs.shape == (8, 3)
    assert targets.tolist() == [-1, -1, -1, 1, -1, 1, 1, 1]
    inputs, _ = validate(compose_config("gate=xor", "gate.n_inputs=16"))
    assert inputs.shape == (65536, 16)


def test_a_table_given_to_a_built_in_gate_replaces_its_own():
    inputs, targets = validate(
        compose_config(
            "gate.name=my_and", "gate.inputs=[[1,1],[1,-1],[-1,1],[-1,-1]]", "gate.targets=[1,-1,-1,-1]"
        )
    )
    assert inputs.tolist() == [[1, 1], [1, -1], [-1, 1], [-1, -1]]
    assert targets.tolist() == [1, -1, -1, -1]


def test_a_custom_table_is_used_as_given():
    inputs, targets = validate(
        compose_config("gate=custom", "gate.inputs=[[1,1],[1,0],[0,1],[0,0]]", "gate.targets=[1,-1,-1,-1]")
    )
    assert inputs.tolist() == [[1, 1], [1, 0], [0, 1], [0, 0]]
    assert targets.tolist() == [1, -1, -1, -1]
    _, targets = validate(
        compose_config(
            "gate=custom", "gate.inputs=[[0.5],[2]]", "gate.targets=[0,1]", "gate.targets_encoding=binary"
        )
    )
    assert targets.tolist() == [0, 1]


def test_every_rule_and_activation_composes():
    for rule, activation in [
        ("perceptron", "step"),
        ("hebb", "step"),
        ("adaline", "step"),
        ("perceptron", "band"),
    ]:
        cfg = compose_config(f"rule={rule}", f"activation={activation}")
        validate(cfg)
        assert (cfg.rule.name, cfg.activation.name) == (rule, activation)
    assert compose_config("rule=adaline").rule.tolerance > 0
    assert compose_config("activation=band").activation.theta == 0.2


@pytest.mark.parametrize("gate", ["or", "and", "nand", "nor"])
def test_separable_gates_converge_from_zero(gate):
    inputs, targets = validate(compose_config(f"gate={gate}"))
    result = perceptron.train(inputs, targets, [0, 0], 0, perceptron.Setup(1.0, 100))
    assert result.converged and result.epochs <= 5


@pytest.mark.parametrize(
    "override, key, shown",
    [
        ("lr=0", "lr", "0.0"),
        ("lr=-1", "lr", "-1.0"),
        ("lr=inf", "lr", "inf"),
        ("max_epochs=0", "max_epochs", "0"),
        ("seed=-1", "seed", "-1"),
        ("order=random", "order", "'random'"),
        ("init.weights=[1]", "init.weights", "[1.0]"),
        ("init.weights=[nan,1]", "init.weights", "[nan, 1.0]"),
        ("init.bias=inf", "init.bias", "inf"),
        ("init.low=1", "init.high", "0.5"),
        ("gate.n_inputs=0", "gate.n_inputs", "0"),
        ("gate.n_inputs=17", "gate.n_inputs", "17"),
        ("gate.inputs_encoding=ternary", "gate.inputs_encoding", "'ternary'"),
        ("gate.targets_encoding=ternary", "gate.targets_encoding", "'ternary'"),
        ("gate.name=foo", "gate.name", "'foo'"),
        ("gate=custom", "gate.inputs", "'???'"),
        ("gate.targets=[1,-1,1,1]", "gate.inputs", "None"),
        ("gate.inputs=[[1,1],[1,-1]] gate.targets=[1,-1] gate.n_inputs=3", "gate.n_inputs", "3"),
        ("gate.inputs=[[1,1],[1,0]] gate.targets=[1,-1]", "gate.inputs_encoding", "'bipolar'"),
        ("rule.tolerance=0.1", "rule.tolerance", "0.1"),
        ("rule=adaline rule.tolerance=0", "rule.tolerance", "0.0"),
        ("rule.name=widrow", "rule.name", "'widrow'"),
        ("activation.theta=0.2", "activation.theta", "0.2"),
        ("activation=band activation.theta=-1", "activation.theta", "-1.0"),
        ("activation=band gate.targets_encoding=binary", "activation.name", "'band'"),
        ("mlflow.experiment_name=' '", "mlflow.experiment_name", "' '"),
    ],
)
def test_bad_values_name_the_key_the_value_and_what_is_allowed(override, key, shown):
    overrides = [override] if "'" in override else override.split()
    with pytest.raises(ConfigError) as err:
        validate(compose_config(*overrides))
    message = str(err.value)
    assert message.startswith(f"Invalid config: {key}={shown} is not allowed: ")
    assert "\n" not in message


CUSTOM = ["gate=custom", "gate.targets_encoding=bipolar"]


@pytest.mark.parametrize(
    "inputs, targets, key",
    [
        ("[]", "[]", "gate.inputs"),
        ("[[1,1],[1],[0,1],[0,0]]", "[1,1,1,1]", "gate.inputs"),
        ("[[1,a],[1,0]]", "[1,1]", "gate.inputs"),
        ("[[1,nan],[1,0]]", "[1,1]", "gate.inputs"),
        ("[1,0]", "[1,1]", "gate.inputs"),
        ("[[],[]]", "[1,1]", "gate.inputs"),
        ("[[1,0],[0,1]]", "[1]", "gate.targets"),
        ("[[1,0],[0,1]]", "[1,0]", "gate.targets"),
        ("[[1,0],[0,1]]", "[1,true]", "gate.targets"),
    ],
)
def test_bad_custom_tables(inputs, targets, key):
    with pytest.raises(ConfigError) as err:
        validate(compose_config(*CUSTOM, f"gate.inputs={inputs}", f"gate.targets={targets}"))
    assert str(err.value).startswith(f"Invalid config: {key}=")


@pytest.mark.parametrize(
    "override", ["lr=abc", "seed=1.5", "max_epochs=many", "lrr=1", "gate=foo", "rule=foo", "activation=foo"]
)
def test_wrong_types_and_unknown_keys_stop_in_composition(override):
    with pytest.raises(HydraException) as err:
        compose_config(override)
    assert override.split("=")[0] in str(err.value) + str(err.value.__cause__)


def test_a_users_own_gate_file_works_like_a_built_in_one(tmp_path):
    conf = tmp_path / "conf"
    shutil.copytree(CONF_DIR, conf)
    (conf / "gate" / "fausett_and.yaml").write_text(
        "name: fausett_and\n"
        "n_inputs: null\n"
        "inputs_encoding: binary\n"
        "targets_encoding: bipolar\n"
        "inputs: [[1, 1], [1, 0], [0, 1], [0, 0]]\n"
        "targets: [1, -1, -1, -1]\n"
    )
    with initialize_config_dir(config_dir=str(conf), **version_base()):
        cfg = compose("config", overrides=["gate=fausett_and", "activation=band"])
    inputs, targets = validate(cfg)
    assert inputs.tolist() == [[1, 1], [1, 0], [0, 1], [0, 0]]
    assert targets.tolist() == [1, -1, -1, -1]


def _hydra_config(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), **version_base()):
        return compose("config", overrides=list(overrides), return_hydra_config=True)


@pytest.mark.parametrize(
    "preset, jobs",
    [("command_line", None), ("grid", 48), ("textbook", 18)],
)
def test_sweep_presets_plan_their_jobs_with_the_cached_sweeper(preset, jobs):
    from runner.tracking.axes import planned_jobs

    cfg = _hydra_config(f"sweep={preset}")
    assert cfg.hydra.sweeper._target_.endswith("sweeper.CachedSweeper")
    assert cfg.hydra.launcher._target_.endswith("launcher.CachedLauncher")
    if jobs:
        assert planned_jobs(cfg) == jobs
    if preset == "textbook":
        assert list(cfg.init.weights) == [0, 0] and cfg.init.bias == 0


def test_optuna_preset_searches_lr_and_the_initial_range():
    from runner.tracking.axes import planned_jobs

    cfg = _hydra_config("sweep=optuna", "hydra.sweeper.n_trials=7")
    assert cfg.hydra.sweeper._target_.endswith("OptunaSweeper")
    assert cfg.hydra.sweeper.direction == "minimize" and cfg.hydra.sweeper.storage is None
    assert set(cfg.hydra.sweeper.params) == {"lr", "init.low", "init.high"}
    assert planned_jobs(cfg) == 7


def test_launcher_presets_extend_hydras_launchers():
    ray = _hydra_config("hydra/launcher=ray_local").hydra.launcher
    assert ray._target_.endswith("RayLauncher")
    assert ray.ray.init.address is None and ray.ray.init._node_ip_address == "127.0.0.1"
    assert ray.ray.remote.num_cpus == 1
    # joining a cluster, nothing that ray.init refuses then (Hydra's launcher fills in a missing
    # object_store_memory, so it is there, null); the jobs are handed the sweep's store, since a
    # node's own environment has no MLFLOW_TRACKING_URI of the sweep's
    cluster = _hydra_config(
        "hydra/launcher=ray_cluster", "mlflow.tracking_uri=http://head:5000"
    ).hydra.launcher.ray.init
    assert cluster == {
        "address": "auto",
        "object_store_memory": None,
        "runtime_env": {"env_vars": {"MLFLOW_TRACKING_URI": "http://head:5000"}},
    }
    parallel = _hydra_config("hydra/launcher=parallel").hydra.launcher
    assert parallel._target_.endswith("parallel.ParallelLauncher") and parallel.n_jobs is None
    slurm = _hydra_config("hydra/launcher=slurm", "hydra.launcher.partition=gpu").hydra.launcher
    assert slurm._target_.endswith("SlurmLauncher")
    assert (slurm.timeout_min, slurm.cpus_per_task, slurm.array_parallelism, slurm.partition) == (
        10,
        1,
        64,
        "gpu",
    )


def test_every_error_a_job_raises_survives_pickling():
    """joblib, Ray and submitit carry a job's exception to the sweep's process by pickle."""
    import pickle

    from runner.config import UnknownKeyError
    from runner.tracking.errors import OutOfSpace, TrackingError, UsageError

    for error in (
        OutOfSpace("Out of space while logging or lr=1 seed=3: database or disk is full; ..."),
        ConfigError("lr", -1.0, "a finite number > 0"),
        UnknownKeyError("lrr"),
        TrackingError("Cannot use the MLflow tracking store x: y"),
        UsageError("a message"),
    ):
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and str(back) == str(error)


def test_every_config_folder_ships_in_the_wheel():
    """pyproject.toml lists each folder of conf/ once, as a package of runner.conf: a new config
    group that is not listed would be missing from a non-editable install."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later
    project = tomllib.loads((CONF_DIR.parent / "pyproject.toml").read_text())
    listed = {p for p in project["tool"]["setuptools"]["packages"] if p.startswith("runner.conf")}
    folders = {p.parent for p in CONF_DIR.rglob("*.yaml")}
    assert listed == {".".join(["runner.conf", *f.relative_to(CONF_DIR).parts]) for f in folders}


@pytest.mark.parametrize(
    "overrides, error",
    [
        (["+lrr=1"], "Unknown config key 'lrr': did you mean lr? (--cfg job shows every key)"),
        (["+gate.foo=1"], "Unknown config key 'gate.foo': the keys are gate.name, gate.n_inputs, "),
        (["~lr"], "Key 'lr' not in 'RunnerConfig'"),
        (["~init"], "Key 'init' not in 'RunnerConfig'"),
        (["lr=???"], "Invalid config: lr='???' is not allowed: no value: lr has no default, give it"),
        (["+lrr=1", "lr=???"], "Invalid config: lr='???' is not allowed: no value: lr has no default"),
        (["lr=${oc.env:NOPE}", "+lrr=1"], 'KeyError raised while resolving interpolation: "Environment'),
    ],
)
def test_reading_a_config_names_the_key_that_is_missing_added_or_removed(overrides, error):
    """config.read checks a job's keys by walking them only when the config is not the schema's
    shape (4 ms a job); the error is the one the walk, done first, always gave."""
    from runner.config import read

    with pytest.raises(Exception) as raised:
        read(compose_config(*overrides))
    assert str(raised.value).startswith(error), str(raised.value)


def test_reading_a_config_of_the_schemas_shape_gives_its_values():
    from runner.config import read

    settings = read(compose_config("gate=and", "lr=0.5", "init.weights=[0,0]"))
    assert (settings.gate.name, settings.lr, settings.init.weights) == ("and", 0.5, [0.0, 0.0])
