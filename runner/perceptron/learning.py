"""The learning core: a single-layer perceptron and its textbook relatives, from scratch in numpy.

Plain values in, plain values out. Nothing here knows about Hydra or MLflow, reads a config
or a clock, or prints: the entry point decides what to do with a `TrainResult`.

Every rule here changes the weights by a multiple of the pattern, ΔW = α·δ·x and Δb = α·δ:
  perceptron  δ = t on a mistake (bipolar targets), δ = t − Y (binary targets), else 0; or, with
              delta="error", δ = t − Y on every pattern (0 when Y = t, 2t on a bipolar mistake)
  hebb        δ = t for every pattern, one pass over the table
  adaline     δ = t − yin for every pattern (the delta, or LMS, rule)
The textbooks differ in more than the rule (see `Setup`): whether Y = 1 at yin = 0 (`strict`),
and whether the bias is a weight of its own or the weight of an input fixed at −1 (a threshold θ)
or +1 (`bias_input`). Folding the bias into an input changes no number but its sign: with x0 = c,
yin = W·x + c·w0, so the run keeps b = c·w0 and only the trace shows w0 (θ when c = −1).

The weights are kept as W₀ + α·k, where k sums the δ·x. With integer patterns and targets the
perceptron's k is exact: from zero weights the sign of yin never depends on how α rounds (lr=0.1
takes exactly the steps lr=1 takes), and a weight state seen before is recognised exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

RULES = ("perceptron", "hebb", "adaline")
ACTIVATIONS = ("step", "band")
ORDERS = ("table", "shuffle")
DELTAS = ("target", "error")  # the perceptron's δ: t on a mistake, or t − Y on every pattern
BIAS_INPUTS = (-1.0, 1.0)  # the fixed input a bias folded into the weights sits on


def activation_function(
    name: str, theta: float = 0.0, off: float = -1.0, strict: bool = False
) -> Callable[[float], float]:
    """Y for a net input yin.

    step: 1 if yin >= 0 (yin > 0 when `strict`) else `off` (-1 for bipolar targets, 0 for binary).
    band: 1 if yin > θ, 0 if -θ <= yin <= θ, -1 if yin < -θ (bipolar only; 0 is never right).
    """
    if name == "band":
        return lambda yin: 1.0 if yin > theta else (-1.0 if yin < -theta else 0.0)
    if name == "step" and strict:
        return lambda yin: 1.0 if yin > 0 else off
    if name == "step":
        return lambda yin: 1.0 if yin >= 0 else off
    raise ValueError(f"unknown activation {name!r}, expected one of {ACTIVATIONS}")


def rule_function(
    name: str, binary_targets: bool = False, delta: str = "target"
) -> Callable[[float, float, float], float]:
    """δ(t, Y, yin), the multiple of the pattern that the rule adds to the weights (before α).

    The perceptron's δ = t on a mistake is, for binary targets, t − Y: the same step toward the
    target, as delta="error" takes on every pattern."""
    if name == "perceptron":
        if binary_targets or delta == "error":
            return lambda t, y, yin: t - y
        return lambda t, y, yin: t if y != t else 0.0
    if name == "hebb":
        return lambda t, y, yin: t
    if name == "adaline":
        return lambda t, y, yin: t - yin
    raise ValueError(f"unknown rule {name!r}, expected one of {RULES}")


def initial_parameters(
    n_inputs: int,
    seed: int,
    low: float,
    high: float,
    weights: Sequence[float] | None = None,
    bias: float | None = None,
) -> tuple[np.ndarray, float]:
    """The starting weights and bias: the given ones, or uniform draws from [low, high).

    All n_inputs + 1 values are always drawn from one Generator seeded by `seed`, then the given
    ones replace their draws, so fixing the weights never changes the bias drawn for a seed.
    """
    drawn = np.random.default_rng(seed).uniform(low, high, size=n_inputs + 1)
    w = np.array(weights, dtype=float) if weights is not None else drawn[:n_inputs]
    b = float(bias) if bias is not None else float(drawn[n_inputs])
    return w, b


@dataclass(frozen=True)
class TrainResult:
    """What one training run produced; every array is indexed by epoch (epoch k is row k-1)."""

    trace: pd.DataFrame  # one row per pattern presented; columns from `trace_columns`
    errors: np.ndarray  # patterns with Y != t, per epoch
    mse: np.ndarray  # mean of (t - yin)² over the patterns, per epoch
    epoch_weights: np.ndarray  # weights at the end of each epoch, shape (epochs, n_inputs)
    epoch_bias: np.ndarray  # bias at the end of each epoch
    updates: int  # rows in which the weights changed
    converged: bool  # perceptron: the last epoch was clean; hebb, adaline: the final weights
    #                  classify every pattern
    stop_reason: str  # converged, max_epochs, cycle, tolerance, single_pass or diverged
    cycle_length: int | None = None  # epochs in the repeating cycle, when stop_reason is cycle
    presented: int = 0  # patterns presented in all; the trace keeps the first max_trace_rows
    bias_input: float | None = None  # Setup's: the bias and epoch_bias are b, the trace shows x0·b

    @property
    def epochs(self) -> int:
        return len(self.errors)

    @property
    def weights(self) -> np.ndarray:
        return self.epoch_weights[-1]

    @property
    def bias(self) -> float:
        return float(self.epoch_bias[-1])


@dataclass(frozen=True)
class Setup:
    """How to train: the learning rate and everything else a run chooses besides its data."""

    lr: float = 1.0
    max_epochs: int = 100
    rule: str = "perceptron"
    activation: str = "step"
    theta: float = 0.0  # the band's half-width
    binary_targets: bool = False
    tolerance: float = 0.0  # adaline's
    order: str = "table"
    seed: int = 0  # of the shuffled order
    max_trace_rows: int | None = None
    strict: bool = False  # the step's Y = 1 only when yin > 0, not at yin = 0
    delta: str = "target"  # the perceptron's δ, one of DELTAS
    bias_input: float | None = None  # None: the bias is a weight of its own; -1 or 1: the weight
    #                                  of an input fixed at that value, as the trace shows it

    @property
    def bias_name(self) -> str:
        return bias_name(self.bias_input)

    def shown_bias(self, b: float) -> float:
        return shown_bias(b, self.bias_input)


def shown_bias(b: float | np.ndarray, bias_input: float | None) -> float | np.ndarray:
    """The bias b (a number or an array) as the trace shows it: the folded weight x0·b (θ = −b),
    or b itself; and back, as x0 is ±1."""
    return b if bias_input is None else bias_input * b


def bias_name(bias_input: float | None) -> str:
    """The bias as the trace names it: b, theta (the weight of an input fixed at −1) or W0."""
    return {None: "b", -1.0: "theta", 1.0: "W0"}[bias_input]


class TraceLayout:
    """Where each value sits in a trace row, for n inputs: the one place that knows it.

    epoch, X1..Xn, T, yin, Y, W1..Wn, b, delW1..delWn, delb
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.x = slice(1, n + 1)
        self.t, self.yin, self.y = n + 1, n + 2, n + 3
        self.w = slice(n + 4, 2 * n + 4)
        self.b = 2 * n + 4
        self.dw = slice(2 * n + 5, 3 * n + 5)
        self.db = 3 * n + 5
        self.width = 3 * n + 6
        xs, ws, dws = ([f"{name}{i}" for i in range(1, n + 1)] for name in ("X", "W", "delW"))
        self.columns = ["epoch", *xs, "T", "yin", "Y", *ws, "b", *dws, "delb"]


def trace_columns(n_inputs: int, bias_input: float | None = None) -> list[str]:
    """The trace's columns; with the bias folded into an input, X0 (that input) comes first and
    its weight (theta or W0, and its change) before the other weights."""
    at = TraceLayout(n_inputs)
    if bias_input is None:
        return at.columns
    name, shown = bias_name(bias_input), at.columns
    return ["epoch", "X0", *shown[at.x], "T", "yin", "Y", name, *shown[at.w], f"del{name}", *shown[at.dw]]


@dataclass
class _Pass:
    """What one epoch's pass works on: the table in this epoch's order, the starting point, the
    rule, and where its trace rows go. `k` (the weights' update count) changes in place."""

    x: np.ndarray
    t: np.ndarray
    yin0: np.ndarray  # the part of each row's yin that the updates do not change: x·W₀ + b₀
    k: np.ndarray
    kb: float
    w0: np.ndarray
    b0: float
    lr: float
    rows: np.ndarray  # this epoch's trace rows (as many as max_trace_rows still allows)
    layout: TraceLayout
    act: Callable[[float], float]
    delta: Callable[[float, float, float], float]

    def write(self, r: int, x, t, yin, y, d: float) -> None:
        """Trace row r: X, T, yin, Y, the weights and bias after the row, ΔW = α·δ·x, Δb = α·δ."""
        row, at = self.rows[r], self.layout
        row[at.x] = x
        row[at.t], row[at.yin], row[at.y] = t, yin, y
        row[at.w] = self.w0 + self.lr * self.k
        row[at.b] = self.b0 + self.lr * self.kb
        row[at.dw] = self.lr * d * x
        row[at.db] = self.lr * d


def train(
    inputs: Sequence[Sequence[float]],
    targets: Sequence[float],
    weights: Sequence[float],
    bias: float,
    setup: Setup = Setup(),
) -> TrainResult:
    """Train pattern by pattern; see the module's docstring for the rules.

    Stops, by rule:
      perceptron  after the first clean epoch (converged); when the weights at the start of an
                  epoch repeat an earlier epoch's (cycle: it would repeat forever; detected when
                  patterns and targets are integers and the order is the table's); or at max_epochs
      hebb        after one pass (single_pass)
      adaline     when no weight or the bias changed by `tolerance` or more over an epoch
                  (tolerance), or at max_epochs
    and for any rule when a weight, the bias or a net input stops being a finite number
    (diverged). With order="shuffle" the patterns are presented in a new order each epoch, drawn
    from a Generator seeded by `seed` (a stream apart from the one `initial_parameters` draws from).

    The trace keeps the first `max_trace_rows` rows (all when None), so that a wide table over
    many epochs stays within memory; the per-epoch results are always complete.
    """
    s = setup
    if s.order not in ORDERS:
        raise ValueError(f"unknown order {s.order!r}, expected one of {ORDERS}")
    if s.bias_input not in (None, *BIAS_INPUTS) or s.delta not in DELTAS:
        raise ValueError(
            f"bias_input {s.bias_input!r} or delta {s.delta!r}: expected {BIAS_INPUTS} and {DELTAS}"
        )
    x = np.asarray(inputs, dtype=float)
    t = np.asarray(targets, dtype=float)
    w0 = np.asarray(weights, dtype=float)
    b0 = float(bias)
    n_rows, n = x.shape
    layout = TraceLayout(n)
    act = activation_function(s.activation, s.theta, 0.0 if s.binary_targets else -1.0, s.strict)
    is_wrong = mistakes_of(s.activation, s.theta, s.strict)
    delta = rule_function(s.rule, s.binary_targets, s.delta)
    shuffler = (
        np.random.default_rng(np.random.SeedSequence(s.seed).spawn(1)[0]) if s.order == "shuffle" else None
    )
    exact = s.rule == "perceptron" and shuffler is None and _integral(x) and _integral(t)
    last_epoch = 1 if s.rule == "hebb" else s.max_epochs

    k, kb = np.zeros(n), 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow here ends the run diverged
        yin0 = x @ w0 + b0
    seen: dict[bytes, int] = {}  # exact weight state at an epoch's start -> that epoch
    kept_rows, errors, mse, epoch_w, epoch_b = [], [], [], [], []
    updates = kept = 0
    stop_reason, cycle_length = "max_epochs", None
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, last_epoch + 1):
            if exact:
                state = np.append(k, kb).tobytes()
                if state in seen:
                    stop_reason, cycle_length = "cycle", epoch - seen[state]
                    break
                seen[state] = epoch
            k_start, kb_start = k.copy(), kb
            order = shuffler.permutation(n_rows) if shuffler is not None else slice(None)
            room = n_rows if s.max_trace_rows is None else max(0, s.max_trace_rows - kept)
            rows = np.zeros((min(room, n_rows), layout.width))
            rows[:, 0] = epoch
            epoch_pass = _Pass(x[order], t[order], yin0[order], k, kb, w0, b0, s.lr, rows, layout, act, delta)
            if s.rule == "perceptron":
                mistakes, squared, finite = _mistake_driven_pass(epoch_pass, is_wrong)
                updates += mistakes  # a perceptron mistake always changes the weights
            else:
                mistakes, squared, changed, finite = _row_by_row_pass(epoch_pass)
                updates += changed
            kb = epoch_pass.kb
            if len(rows):
                kept_rows.append(rows)
                kept += len(rows)
            errors.append(mistakes)
            mse.append(squared / n_rows)
            epoch_w.append(w0 + s.lr * k)
            epoch_b.append(b0 + s.lr * kb)
            if not (finite and np.isfinite(epoch_w[-1]).all() and np.isfinite(epoch_b[-1])):
                stop_reason = "diverged"
                break
            if s.rule == "perceptron" and mistakes == 0:
                stop_reason = "converged"
                break
            moved = s.lr * np.abs(np.append(k - k_start, kb - kb_start)).max()
            if s.rule == "adaline" and moved < s.tolerance:
                stop_reason = "tolerance"
                break
        else:
            if s.rule == "hebb":
                stop_reason = "single_pass"

    w_end, b_end = epoch_w[-1], epoch_b[-1]
    if stop_reason == "diverged":
        converged = False
    elif s.rule == "perceptron":
        converged = stop_reason == "converged"
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            converged = all(act(v) == ti for v, ti in zip(x @ w_end + b_end, t))
    return TrainResult(
        trace=_trace_frame(
            np.concatenate(kept_rows) if kept_rows else np.empty((0, layout.width)), layout, s.bias_input
        ),
        errors=np.array(errors),
        mse=np.array(mse),
        epoch_weights=np.array(epoch_w),
        epoch_bias=np.array(epoch_b),
        updates=updates,
        converged=bool(converged),
        stop_reason=stop_reason,
        cycle_length=cycle_length,
        presented=len(errors) * n_rows,
        bias_input=s.bias_input,
    )


def mistakes_of(
    activation: str, theta: float, strict: bool = False
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Which net inputs give a wrong output, for an array of them: Y != t without computing Y.

    step: Y = 1 exactly when yin >= 0 (yin > 0 when `strict`), and t is on exactly when t > 0
    (bipolar or binary); band (bipolar): Y = t exactly when t·yin > θ. A net input that is not a
    number is wrong.
    """
    if activation == "band":
        return lambda yin, t: ~(t * yin > theta)
    if strict:
        return lambda yin, t: ((yin > 0) != (t > 0)) | np.isnan(yin)
    return lambda yin, t: ((yin >= 0) != (t > 0)) | np.isnan(yin)


def _mistake_driven_pass(
    p: _Pass, is_wrong: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> tuple[int, float, bool]:
    """One epoch of the perceptron rule, computing the rows between two mistakes together.

    The weights change only on a mistake, so the net inputs of a run of rows can be computed at
    once with the current weights; a chunk of rows is examined at a time, its size following
    the distance between mistakes (at least 256 rows: a numpy call costs more than the rows it
    computes in vain past the next mistake). Each row's yin is kept, for Σ(t − yin)² at the epoch's end.
    Returns the mistakes, Σ(t − yin)² and whether every yin was a finite number.
    """
    x, t, base, at = p.x, p.t, p.yin0, p.layout
    n_rows = len(x)
    yins = np.empty(n_rows)
    i, chunk, mistakes = 0, 256, 0
    while i < n_rows:
        end = min(n_rows, i + chunk)
        yin = yins[i:end]
        np.matmul(x[i:end], p.k, out=yin)
        yin += p.kb
        yin *= p.lr
        yin += base[i:end]
        wrong = is_wrong(yin, t[i:end])
        first = int(wrong.argmax())
        right = first if wrong[first] else end - i  # rows i .. i+right-1 need no update
        if i < len(p.rows):
            block = p.rows[i : min(i + right, len(p.rows))]
            m = len(block)
            block[:, at.x] = x[i : i + m]
            block[:, at.t] = t[i : i + m]
            block[:, at.yin] = yin[:m]
            block[:, at.y] = t[i : i + m]  # right, so Y = T
            block[:, at.w] = p.w0 + p.lr * p.k
            block[:, at.b] = p.b0 + p.lr * p.kb
        if right == end - i:
            i, chunk = end, chunk * 2
            continue
        j, yj = i + right, yin[right]
        y = p.act(yj)
        d = p.delta(t[j], y, yj)
        p.k += d * x[j]
        p.kb += d
        mistakes += 1
        if j < len(p.rows):
            p.write(j, x[j], t[j], yj, y, d)
        i, chunk = j + 1, max(256, 2 * right)
    return mistakes, float(((t - yins) ** 2).sum()), bool(np.isfinite(yins).all())


def _row_by_row_pass(p: _Pass) -> tuple[int, float, int, bool]:
    """One epoch of a rule that may change the weights on every row (hebb, adaline).

    Returns the mistakes, Σ(t − yin)², the rows that changed the weights, and whether every
    yin was a finite number.
    """
    mistakes, squared, changed, finite = 0, 0.0, 0, True
    for r in range(len(p.x)):
        xi, ti = p.x[r], p.t[r]
        yin = p.yin0[r] + p.lr * (p.kb + xi @ p.k)
        finite = finite and bool(np.isfinite(yin))
        y = p.act(yin)
        d = p.delta(ti, y, yin)
        mistakes += y != ti
        squared += (ti - yin) ** 2
        if d != 0:
            changed += 1
            p.k += d * xi
            p.kb += d
        if r < len(p.rows):
            p.write(r, xi, ti, yin, y, d)
    return mistakes, squared, changed, finite


def _integral(values: np.ndarray) -> bool:
    return bool(np.all(values == np.round(values)))


def _trace_frame(rows: np.ndarray, layout: TraceLayout, bias_input: float | None) -> pd.DataFrame:
    """The trace as a DataFrame; columns of whole numbers (exact in a float) become integers.
    A bias folded into an input fixed at c is shown as that input (X0 = c) and its weight c·b."""
    columns = dict(zip(layout.columns, rows.T))
    if bias_input is not None:
        name = bias_name(bias_input)
        columns["X0"] = np.full(len(rows), bias_input)
        columns[name] = shown_bias(columns.pop("b"), bias_input)
        columns[f"del{name}"] = shown_bias(columns.pop("delb"), bias_input)
    with np.errstate(invalid="ignore"):
        whole = {k: bool(((v == np.round(v)) & (np.abs(v) < 2**53)).all()) for k, v in columns.items()}
    return pd.DataFrame(
        {
            name: columns[name].astype(np.int64) if whole[name] else columns[name] + 0.0
            for name in trace_columns(layout.n, bias_input)
        }
    )
