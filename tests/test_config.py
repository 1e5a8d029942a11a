"""Config composition through Hydra's compose API, the gates' tables, and validation."""


import pytest
from hydra.errors import HydraException

from conftest import GATES, compose_config
from runner import perceptron
from runner.config import ConfigError, validate

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
    assert cfg.gate.name == "or"
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
    assert GATES == ["and", "nand", "nor", "or", "xnor", "xor"]


@pytest.mark.parametrize("gate", sorted(TRUTH))
def test_every_gate_table_in_the_tutorial_row_order(gate):
    cfg = compose_config(f"gate={gate}")
    assert cfg.gate.name == gate
    rows = [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    assert [tuple(r) for r in cfg.gate.inputs] == rows
    expected = [1 if TRUTH[gate](a == 1, b == 1) else -1 for a, b in rows]
    assert list(cfg.gate.targets) == expected
    validate(cfg)


@pytest.mark.parametrize("gate", ["or", "and", "nand", "nor"])
def test_separable_gates_converge_from_zero(gate):
    cfg = compose_config(f"gate={gate}")
    result = perceptron.train(cfg.gate.inputs, cfg.gate.targets, [0, 0], 0, 1.0, 100)
    assert result.converged and result.epochs <= 5


@pytest.mark.parametrize("gate", ["xor", "xnor"])
def test_xor_and_xnor_never_converge(gate):
    cfg = compose_config(f"gate={gate}", "max_epochs=30")
    result = perceptron.train(cfg.gate.inputs, cfg.gate.targets, [0, 0], 0, 1.0, cfg.max_epochs)
    assert not result.converged and result.epochs == 30


@pytest.mark.parametrize(
    "override, key, shown",
    [
        ("lr=0", "lr", "0.0"),
        ("lr=-1", "lr", "-1.0"),
        ("lr=inf", "lr", "inf"),
        ("max_epochs=0", "max_epochs", "0"),
        ("seed=-1", "seed", "-1"),
        ("init.weights=[1]", "init.weights", "[1.0]"),
        ("init.weights=[nan,1]", "init.weights", "[nan, 1.0]"),
        ("init.bias=inf", "init.bias", "inf"),
        ("init.low=1", "init.high", "0.5"),
        ("gate.targets=[1,0,1,1]", "gate.targets", "[1.0, 0.0, 1.0, 1.0]"),
        ("gate.targets=[1,1]", "gate.targets", "[1.0, 1.0]"),
        ("gate.inputs=[[1,1],[1],[0,1],[0,0]]", "gate.inputs", "[[1, 1], [1], [0, 1], [0, 0]]"),
        ("gate.inputs=[]", "gate.inputs", "[]"),
        ("mlflow.experiment_name=' '", "mlflow.experiment_name", "' '"),
    ],
)
def test_bad_values_name_the_key_the_value_and_what_is_allowed(override, key, shown):
    with pytest.raises(ConfigError) as err:
        validate(compose_config(override))
    message = str(err.value)
    assert message.startswith(f"Invalid config: {key}={shown} is not allowed: ")
    assert "\n" not in message


@pytest.mark.parametrize("override", ["lr=abc", "seed=1.5", "max_epochs=many", "lrr=1", "gate=foo"])
def test_wrong_types_and_unknown_keys_stop_in_composition(override):
    with pytest.raises(HydraException) as err:
        compose_config(override)
    assert override.split("=")[0] in str(err.value) + str(err.value.__cause__)
