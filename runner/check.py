"""`python -m runner.check FILE [overrides]`: a student's hand-worked trace, checked cell by cell.

    python -m runner.check my_trace.csv gate=or lr=1 'init.weights=[0,0]' init.bias=0

FILE is a CSV with the trace's own columns (`epoch, X1..Xn, T, yin, Y, W1..Wn, b, delW1..delWn,
delb`, as a run's trace.csv has them); rows not yet worked may be left out, and a cell left empty
is not checked. The overrides are the command line's: the run the trace should follow.

Exit 0: every cell matches. Exit 1: the first cell that differs, named (its epoch, its pattern,
its column, the student's value and the right one) with the row as the rule works it; and when
the whole trace follows other settings (another rule, activation, learning rate or start), the
overrides under which it does, so that the same check with them passes. Exit 2: a file that is
not a trace, in one line.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Iterator, Sequence

import pandas as pd

from runner import api
from runner.console import number
from runner.pages.run_page import row_words
from runner.tracking.errors import UsageError

TOLERANCE = 1e-6  # a hand-worked value to 6 decimal places is right
RULES = ("perceptron", "hebb", "adaline")
ACTIVATIONS = ("step", "band")


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    path, overrides = argv[0], list(argv[1:])
    student = _read(path)
    machine = api.train(*overrides)
    differs = first_difference(student, machine.trace)
    if differs is None:
        print(f"All {student.notna().sum().sum()} cells of {path} match the trace of: {_shown(overrides)}.")
        return 0
    at, column, theirs, right = differs
    row = machine.trace.iloc[at]
    pattern = _pattern_in_epoch(machine.trace, at)
    print(
        f"Epoch {int(row['epoch'])}, pattern {pattern}, column {column}: {number(float(theirs))} "
        f"in {path}, {number(float(right))} in the trace of {_shown(overrides)}."
    )
    print(
        f"That row, as the rule works it: {row_words(machine.trained, row, machine.trained.inputs.shape[1])}"
    )
    matching = next(_matching_settings(student, machine, overrides), None)
    if matching is not None:
        again = _shown(matching)
        print(f"The whole trace follows other settings: python -m runner.check {path} {again}")
    return 1


def first_difference(student: pd.DataFrame, machine: pd.DataFrame) -> tuple[int, str, float, float] | None:
    """The first cell, row by row, where the student's filled value differs from the machine's:
    (row, column, theirs, right); a row the machine does not have differs in its first column."""
    for at, (_, row) in enumerate(student.iterrows()):
        for column in student.columns:
            theirs = row[column]
            if pd.isna(theirs):
                continue
            if at >= len(machine):
                return at, column, float(theirs), math.nan
            right = float(machine.iloc[at][column])
            if not math.isclose(float(theirs), right, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
                return at, column, float(theirs), right
    return None


def _matching_settings(
    student: pd.DataFrame, machine: api.Training, overrides: list[str]
) -> Iterator[list[str]]:
    """Overrides under which the student's whole trace is the machine's: another rule, activation,
    learning rate (read off the first update) or start (read off the first row)."""
    n = machine.trained.inputs.shape[1]
    first = student.iloc[0]
    start = []
    if all(c in student and pd.notna(first[c]) for c in (*_w(n), "b", *_dw(n), "delb")):
        weights = [float(first[f"W{i}"] - first[f"delW{i}"]) for i in range(1, n + 1)]
        start = [
            f"init.weights=[{','.join(number(w) for w in weights)}]",
            f"init.bias={number(float(first['b'] - first['delb']))}",
        ]
    setup = machine.trained.setup
    rates = sorted({*_rates(student, n), float(setup.lr)})
    changed = ("rule", "activation", "lr", "init.weights", "init.bias")
    kept = [o for o in overrides if o.split("=", 1)[0] not in changed]
    for rule, activation, lr in itertools.product(RULES, ACTIVATIONS, rates):
        tried = [f"rule={rule}", f"activation={activation}", f"lr={number(lr)}", *start]
        try:
            trace = api.train(*kept, *tried).trace
        except UsageError:
            continue
        if first_difference(student, trace) is None:  # the overrides given, with what differs
            now = {"rule": setup.rule, "activation": setup.activation, "lr": number(float(setup.lr))}
            differs = {
                key: o
                for o in tried
                if (key := o.split("=", 1)[0]) not in now or now[key] != o.split("=", 1)[1]
            }
            given = {o.split("=", 1)[0]: o for o in overrides}
            said = [differs.pop(k, o) if k in changed else o for k, o in given.items()]
            yield [*said, *(o for k, o in differs.items() if given.get(k) != o)]


def _rates(student: pd.DataFrame, n: int) -> Iterator[float]:
    """The learning rates the student's first nonzero updates imply: ΔW / (δ·x) with δ = T."""
    for _, row in student.head(8).iterrows():
        for i in range(1, n + 1):
            x, dw, t = row.get(f"X{i}"), row.get(f"delW{i}"), row.get("T")
            if all(pd.notna(v) for v in (x, dw, t)) and x and t and dw:
                yield abs(float(dw) / (float(x) * float(t)))


def _read(path: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise NotATrace(f"Cannot read {path} as a trace: {str(err).splitlines()[0]}") from None
    needed = ["epoch", "X1", "T", "yin", "Y", "W1", "b", "delW1", "delb"]
    missing = [c for c in needed if c not in frame.columns]
    if missing or frame.empty:
        why = f"no column {', '.join(missing)}" if missing else "no row"
        columns = "epoch, X1..Xn, T, yin, Y, W1..Wn, b, delW1..delWn, delb"
        raise NotATrace(f"{path} is not a trace: {why} (the columns: {columns})")
    try:
        return frame.apply(pd.to_numeric)
    except ValueError as err:
        raise NotATrace(f"{path} is not a trace: a cell that is not a number ({err})") from None


class NotATrace(Exception):
    """A file that is not a trace: exit status 2, its one line on stderr."""


def _pattern_in_epoch(trace: pd.DataFrame, at: int) -> int:
    epoch = trace.iloc[at]["epoch"]
    return int((trace.iloc[: at + 1]["epoch"] == epoch).sum())


def _shown(overrides: Sequence[str]) -> str:
    return " ".join(overrides) or "the defaults"


def _w(n: int) -> list[str]:
    return [f"W{i}" for i in range(1, n + 1)]


def _dw(n: int) -> list[str]:
    return [f"delW{i}" for i in range(1, n + 1)]


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (NotATrace, UsageError) as err:  # the file, or an override (`lr=abc`)
        print(err, file=sys.stderr)
        sys.exit(2)
