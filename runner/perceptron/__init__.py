"""The learning core: the perceptron and its relatives (learning.py), the built-in gates
(gates.py), and what the convergence theorem says of a table (separability.py).

Plain numpy, scipy and pandas: no Hydra, OmegaConf or MLflow, no config and no clock. The
training loop's names are here too, so that `from runner import perceptron; perceptron.train(...)`
reads as it says.
"""

from runner.perceptron.learning import (
    ACTIVATIONS,
    BIAS_INPUTS,
    DELTAS,
    ORDERS,
    RULES,
    Setup,
    TraceLayout,
    TrainResult,
    activation_function,
    bias_name,
    initial_parameters,
    mistakes_of,
    rule_function,
    shown_bias,
    trace_columns,
    train,
)

__all__ = [
    "ACTIVATIONS",
    "BIAS_INPUTS",
    "DELTAS",
    "ORDERS",
    "RULES",
    "Setup",
    "TraceLayout",
    "TrainResult",
    "activation_function",
    "bias_name",
    "initial_parameters",
    "mistakes_of",
    "rule_function",
    "shown_bias",
    "trace_columns",
    "train",
]
