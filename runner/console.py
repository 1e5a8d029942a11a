"""What a run prints, as the tutorial did: the data, the starting point, each epoch's trace
table, and one summary line. Functions of plain values that return text; the entry point
decides where the text goes (Python logging, so it also lands in the Hydra job's log file).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the types only: the console needs neither numpy nor scipy to format text
    from runner.perceptron import TrainResult
    from runner.perceptron.separability import Separability


def number(value: object) -> str:
    """A value as people write it: 1 rather than 1.0, 0.1 rather than 0.1000000000000000055;
    anything but a float as it prints."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def vector(values: Sequence[float]) -> str:
    return "(" + ", ".join(number(v) for v in values) + ")"


def setup(
    inputs: Sequence[Sequence[float]],
    targets: Sequence[float],
    weights: Sequence[float],
    bias: float,
    bias_input: float | None = None,
) -> str:
    patterns = ", ".join(vector(row) for row in inputs)
    return "\n".join(
        [
            f"Input vectors X:  {patterns}",
            f"Target vector T:  {vector(targets)}",
            f"Initial weights:  W = {vector(weights)}, {bias_words(bias, bias_input)}",
        ]
    )


def epoch_tables(result: TrainResult) -> str:
    """The trace, one table per epoch, and what was left out."""
    tables = [
        f"Epoch {epoch}\n" + rows.to_string(index=False, float_format=number)
        for epoch, rows in result.trace.groupby("epoch", sort=False)
    ]
    if len(result.trace) < result.presented:
        tables.append(
            f"(the trace stops after {len(result.trace)} of {result.presented} rows, "
            f"max_trace_rows; the per-epoch metrics cover all {result.epochs} epochs)"
        )
    return "\n\n".join(tables)


def outcome(result: TrainResult) -> str:
    """How training ended, in one line."""
    final = f"final W = {vector(result.weights)}, {bias_words(result.bias, result.bias_input)}"
    epochs = count(result.epochs, "epoch")
    done = f"{epochs} with {count(result.updates, 'update')}"
    classifies = "they classify every pattern" if result.converged else "they misclassify some patterns"
    return {
        "converged": f"Converged after {done}: {final}",
        "max_epochs": f"Not converged after {epochs} (max_epochs reached) with "
        f"{count(result.updates, 'update')}: {final}",
        "cycle": f"Not converged: the weights repeat every {count(result.cycle_length or 0, 'epoch')}, "
        f"so training would cycle forever; stopped after {done}: {final}",
        "tolerance": f"Settled after {done} (no weight changed by the tolerance over the last "
        f"epoch), mse = {number(result.mse[-1])}: {final}; {classifies}",
        "single_pass": f"One pass with {count(result.updates, 'update')}: {final}; {classifies}",
        "diverged": f"Diverged after {epochs}: a weight, the bias or a net input overflowed to "
        "inf or NaN (is lr, or a value of the table or of init, too large?); not converged",
    }[result.stop_reason]


def bias_symbol(bias_input: float | None) -> str:
    """The bias as written: b, or θ and W0, the weights of an input fixed at -1 and at +1."""
    from runner.perceptron import bias_name  # numpy's, loaded by then: a result is at hand

    name = bias_name(bias_input)
    return "θ" if name == "theta" else name


def bias_words(b: float, bias_input: float | None) -> str:
    """`b = 1`; a bias folded into an input fixed at -1 or +1, as the trace shows it: `θ = -1`, `W0 = 1`."""
    from runner.perceptron import shown_bias

    return f"{bias_symbol(bias_input)} = {number(shown_bias(b, bias_input) + 0.0)}"


def count(n: int, word: str) -> str:
    """`1 epoch`, `3 epochs`."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def separability(table: Separability) -> str:
    """What the table allows, in one line."""
    if not table.separable:
        return "The table is not linearly separable: no weights classify every pattern."
    return (
        f"The table is linearly separable: from zero weights the perceptron makes at most "
        f"(R/γ)² = {number(table.update_bound)} updates (R = {number(table.radius)}, "
        f"γ = {number(table.margin)})."
    )
