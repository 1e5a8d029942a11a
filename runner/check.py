"""`python -m runner.check FILE... [overrides]`: students' hand-worked traces, checked cell by cell.

    python -m runner.check my_trace.csv gate=or lr=1 'init.weights=[0,0]' init.bias=0
    python -m runner.check class/*.csv gate=or lr=1 'init.weights=[0,0]' init.bias=0

FILE is a CSV with the trace's own columns (`epoch, X1..Xn, T, yin, Y, W1..Wn, b, delW1..delWn,
delb`, as a run's trace.csv has them; with the bias folded into an input, X0 and theta or W0 for
b); rows not yet worked may be left out, and a cell left empty is not checked. The overrides are
the command line's: the run the trace should follow.

Exit 0: every cell matches. Exit 1: the first cell that differs, named (its epoch, its pattern,
its column, the student's value and the right one) with the row as the rule works it; and when
the whole trace follows other settings (another textbook's convention, rule, activation,
learning rate or start), the overrides under which it does, so that the same check with them
passes. Exit 2: a file that is not a trace, in one line. Several files (those before the first
override, key=value): a line or two for each, then how many match; the exit status is the worst
of theirs.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import sys
from collections.abc import Iterable, Iterator, Sequence

import pandas as pd
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from runner import api, config, gate_files, run
from runner.config import CONF_DIR
from runner.console import number
from runner.pages.run_page import row_words
from runner.perceptron import BIAS_INPUTS, bias_name
from runner.tracking.errors import UsageError

TOLERANCE = 1e-6  # a hand-worked value to 6 decimal places is right


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    files = list(itertools.takewhile(_is_file, argv))  # then the overrides, --config-dir among them
    overrides = gate_files.as_overrides(argv[len(files) :])
    if not files:
        raise NotATrace("No file to check: give the students' CSV files first, then the overrides")
    machine = api.train(*overrides)
    if len(files) == 1:  # one student's: the row as the rule works it, too
        status, lines = verdict(files[0], machine, overrides, why=True)
        print("\n".join(lines))
        return status
    statuses = []
    for path in files:  # a class's: a file that is not a trace does not stop the others
        try:
            status, lines = verdict(path, machine, overrides, why=False)
        except NotATrace as err:
            status, lines = 2, [str(err)]
        print("\n".join(lines))
        statuses.append(status)
    print(f"{statuses.count(0)} of {len(files)} traces match the trace of: {_shown(overrides)}.")
    return max(statuses)


def verdict(path: str, machine: api.Training, overrides: list[str], why: bool) -> tuple[int, list[str]]:
    """A student's file against the machine's trace: 0 and the line that says all match, or 1
    and the first cell that differs (`why`: with its row as the rule works it) and the settings
    the whole trace follows, if any. NotATrace for a file that is not a trace."""
    student = _read(path)
    trace = machine.trace
    other = [c for c in student.columns if c not in trace.columns]
    differs = None if other else first_difference(student, trace)
    if not other and differs is None:
        return 0, [
            f"All {student.notna().sum().sum()} cells of {path} match the trace of: {_shown(overrides)}."
        ]
    if other:
        lines = [
            f"{path} has the column {other[0]}, which the trace of {_shown(overrides)} has not (its "
            f"columns: {', '.join(trace.columns)})."
        ]
    elif differs[0] >= len(trace):
        lines = [
            f"{path} has {len(student)} rows, the trace of {_shown(overrides)} {len(trace)}: it ends "
            f"after epoch {int(trace['epoch'].iloc[-1])}."
        ]
    else:
        at, column, theirs, right = differs
        row = trace.iloc[at]
        lines = [
            f"Epoch {int(row['epoch'])}, pattern {_pattern_in_epoch(trace, at)}, column {column}: "
            f"{number(float(theirs))} in {path}, {number(float(right))} in the trace of {_shown(overrides)}."
        ]
        if why:
            words = row_words(machine.trained, row, machine.trained.inputs.shape[1])
            lines.append(f"That row, as the rule works it: {words}")
    matching = next(_matching_settings(student, machine, overrides), None)
    if matching is not None:
        lines.append(
            f"The whole trace follows other settings: python -m runner.check {path} {_shown(matching)}"
        )
    return 1, lines


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
    """Overrides under which the student's whole trace is the machine's: another convention, rule,
    activation, learning rate (read off the first updates) or start (read off the first row), the
    fewest changes first. Each is tried on the composed config, merged with the file of each group
    whose choice changes (and the user's own keys of it): composing again takes ten times as long."""
    cfg, n = machine.config, machine.trained.inputs.shape[1]
    now = {"convention": cfg.convention.name, "rule": cfg.rule.name, "activation": cfg.activation.name}
    rates = sorted({*_rates(student, n), float(cfg.lr)}, key=lambda lr: lr != cfg.lr)
    start = _start(student, n)
    tries = [
        {"convention": c, "rule": r, "activation": a, "lr": lr}
        for c, r, a, lr in itertools.product(
            _choices("convention"), _choices("rule"), _choices("activation"), rates
        )
    ]
    tries.sort(key=lambda t: sum(t[k] != now[k] for k in now) + (t["lr"] != cfg.lr))
    typed = [
        o for o in _parsed(overrides) if o.key_or_group.split(".", 1)[0] in now and "." in o.key_or_group
    ]
    for tried in tries:
        # a group whose choice changes is its file, with what the user typed of its keys on top
        changes = {k: _group_file(k, v) for k, v in tried.items() if k in now and v != now[k]}
        merged = OmegaConf.merge(cfg, {**changes, "lr": tried["lr"], "init": start or {}})
        for o in typed:
            if o.key_or_group.split(".", 1)[0] in changes and not o.is_delete():
                OmegaConf.update(merged, o.key_or_group, o.value(), force_add=True)
        try:
            trace = run.train(config.read(merged)).result.trace
        except (UsageError, OmegaConfBaseException):
            continue
        if set(student.columns) <= set(trace.columns) and first_difference(student, trace) is None:
            said = {k: v for k, v in tried.items() if k == "lr" or v != now[k]}
            said["lr"] = number(tried["lr"])
            said |= {f"init.{k}": _typed(v) for k, v in (start or {}).items()}
            given = {o.split("=", 1)[0]: o for o in overrides}
            kept = [f"{k}={said.pop(k)}" if k in said else o for k, o in given.items()]
            yield [
                *kept,
                *(f"{k}={v}" for k, v in said.items() if not (k == "lr" and v == number(float(cfg.lr)))),
            ]
            return


def _parsed(overrides: list[str]) -> list:
    """The overrides as Hydra's parser reads them (its key, its value typed)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create().parse_overrides(overrides)


def _is_file(arg: str) -> bool:
    """A file to check, not an override: no `=` (a folder named `lr=1` holds files), no option."""
    return not arg.startswith("-") and ("=" not in arg or os.path.isfile(arg))


@functools.cache  # read once, not once per try (up to 90 of them, a file or three each)
def _group_file(group: str, choice: str) -> DictConfig:
    return OmegaConf.load(CONF_DIR / group / f"{choice}.yaml")


def _choices(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def _start(student: pd.DataFrame, n: int) -> dict | None:
    """The initial weights and bias the student's first row implies (its values less its
    changes), when that row is filled in."""
    first, bias = student.iloc[0], _bias_column(student.columns)
    needed = (*_w(n), bias, *_dw(n), f"del{bias}")
    if not all(c in student and pd.notna(first[c]) for c in needed):
        return None
    weights = [float(first[f"W{i}"] - first[f"delW{i}"]) for i in range(1, n + 1)]
    return {"weights": weights, "bias": float(first[bias] - first[f"del{bias}"])}


def _typed(value: object) -> str:
    """A value as an override types it: [0,0], 0.5."""
    if isinstance(value, list):
        return f"[{','.join(number(float(v)) for v in value)}]"
    return number(float(value))


def _rates(student: pd.DataFrame, n: int) -> Iterator[float]:
    """The learning rates the student's first nonzero updates imply: ΔW / (δ·x), with δ = T or
    δ = T − Y."""
    for _, row in student.head(8).iterrows():
        for i in range(1, n + 1):
            x, dw, t, y = row.get(f"X{i}"), row.get(f"delW{i}"), row.get("T"), row.get("Y")
            if not all(pd.notna(v) for v in (x, dw, t)) or not (x and dw):
                continue
            for delta in (t, t - y if pd.notna(y) else 0):
                if delta:
                    yield abs(float(dw) / (float(x) * float(delta)))


def _read(path: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise NotATrace(f"Cannot read {path} as a trace: {str(err).splitlines()[0]}") from None
    bias = _bias_column(frame.columns)
    needed = ["epoch", "X1", "T", "yin", "Y", "W1", bias, "delW1", f"del{bias}"]
    missing = [c for c in needed if c not in frame.columns]
    if missing or frame.empty:
        why = f"no column {', '.join(missing)}" if missing else "no row"
        columns = "epoch, X1..Xn, T, yin, Y, W1..Wn, b, delW1..delWn, delb; or theta or W0 for b, with X0"
        raise NotATrace(f"{path} is not a trace: {why} (the columns: {columns})")
    empty = [c for c in frame.columns if str(c).startswith("Unnamed:") and frame[c].isna().all()]
    frame = frame.drop(columns=empty)  # a spreadsheet's trailing comma: a column with no name, no value
    try:
        return frame.apply(pd.to_numeric)
    except ValueError as err:
        raise NotATrace(f"{path} is not a trace: a cell that is not a number ({err})") from None


class NotATrace(Exception):
    """A file that is not a trace: exit status 2, its one line on stderr."""


def _bias_column(columns: Iterable[str]) -> str:
    """The bias's column: b, or the weight of an input fixed at -1 (theta) or +1 (W0)."""
    return next((name for name in map(bias_name, BIAS_INPUTS) if name in columns), "b")


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
