"""`python -m runner.check`: a student's hand-worked trace against the machine's, cell by cell
(issue 31, item 1). In process, but for the exit status of a file that is not a trace."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from runner import api, check

OR_FROM_ZERO = ["gate=or", "lr=1", "init.weights=[0,0]", "init.bias=0"]


def test_a_right_trace_passes_even_half_worked(tmp_path, capsys):
    trace = api.train(*OR_FROM_ZERO).trace
    trace.head(5).assign(yin=trace["yin"].where(trace.index < 3)).to_csv(tmp_path / "t.csv", index=False)
    assert check.main([str(tmp_path / "t.csv"), *OR_FROM_ZERO]) == 0
    matched = "match the trace of: gate=or lr=1 init.weights=[0,0] init.bias=0.\n"
    assert capsys.readouterr().out == f"All 58 cells of {tmp_path / 't.csv'} {matched}"


def test_a_wrong_cell_is_named_with_the_row_as_the_rule_works_it(tmp_path, capsys):
    trace = api.train(*OR_FROM_ZERO).trace
    trace.loc[2, "yin"] = -1  # epoch 1, pattern 3: yin = 0 + 0·1 + 2·(-1) = -2, worked as -1
    trace.to_csv(tmp_path / "t.csv", index=False)
    assert check.main([str(tmp_path / "t.csv"), *OR_FROM_ZERO]) == 1
    said = capsys.readouterr().out.splitlines()
    assert said[0].startswith("Epoch 1, pattern 3, column yin: -1 in ") and said[0].endswith(
        ", -2 in the trace of gate=or lr=1 init.weights=[0,0] init.bias=0."
    )
    assert said[1] == (
        "That row, as the rule works it: x = (1, -1), T = 1: yin = -2, so Y = -1. Y ≠ T, an error: "
        "ΔW = α·T·x = 1·1·(1, -1) = (1, -1), Δb = α·T = 1, so W = (1, 1), b = 1."
    )
    assert len(said) == 2  # no other settings make that trace


@pytest.mark.parametrize(
    "worked, says",
    [
        (
            ["gate=or", "lr=0.5", "init.weights=[0,0]", "init.bias=0"],
            "gate=or lr=0.5 init.weights=[0,0] init.bias=0",
        ),
        (
            ["gate=or", "lr=1", "init.weights=[0,0]", "init.bias=0", "rule=hebb"],
            "gate=or lr=1 init.weights=[0,0] init.bias=0 rule=hebb",
        ),
    ],
)
def test_a_trace_of_other_settings_is_told_which(tmp_path, capsys, worked, says):
    api.train(*worked).trace.to_csv(tmp_path / "t.csv", index=False)
    assert check.main([str(tmp_path / "t.csv"), *OR_FROM_ZERO]) == 1
    last = capsys.readouterr().out.splitlines()[-1]
    assert (
        last == f"The whole trace follows other settings: python -m runner.check {tmp_path / 't.csv'} {says}"
    )
    assert check.main([str(tmp_path / "t.csv"), *says.split()]) == 0  # and with them it passes


@pytest.mark.parametrize(
    "text, said",
    [
        (None, "Cannot read {path} as a trace: "),
        (
            "a,b\n1,2\n",
            "{path} is not a trace: no column epoch, X1, T, yin, Y, W1, delW1, delb (the columns: ",
        ),
    ],
)
def test_a_file_that_is_not_a_trace_exits_2_in_one_line(tmp_path, text, said):
    path = tmp_path / "t.csv"
    if text is not None:
        path.write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "runner.check", str(path), *OR_FROM_ZERO],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(said.format(path=path))


def test_a_class_is_checked_in_one_command(tmp_path, capsys):
    """Forty students' files in one command: a line or two each, the count, the worst status."""
    trace = api.train(*OR_FROM_ZERO).trace
    trace.to_csv(tmp_path / "ada.csv", index=False)
    trace.assign(yin=trace["yin"].where(trace.index != 2, -1)).to_csv(tmp_path / "bob.csv", index=False)
    api.train(*OR_FROM_ZERO[:1], "lr=0.5", *OR_FROM_ZERO[2:]).trace.to_csv(tmp_path / "cy.csv", index=False)
    extra = pd.concat([trace, trace.tail(4).assign(epoch=3)])  # an epoch past the trace's end
    extra.to_csv(tmp_path / "di.csv", index=False)
    (tmp_path / "ed.csv").write_text("a,b\n1,2\n")
    files = [str(tmp_path / f"{name}.csv") for name in ("ada", "bob", "cy", "di", "ed")]
    assert check.main([*files, *OR_FROM_ZERO]) == 2
    said = capsys.readouterr().out.replace(str(tmp_path) + "/", "").splitlines()
    given = "gate=or lr=1 init.weights=[0,0] init.bias=0"
    assert said[0] == f"All 96 cells of ada.csv match the trace of: {given}."
    assert said[1] == f"Epoch 1, pattern 3, column yin: -1 in bob.csv, -2 in the trace of {given}."
    assert said[2].startswith("Epoch 1, pattern 1, column W1: ") and said[3] == (
        "The whole trace follows other settings: python -m runner.check cy.csv "
        "gate=or lr=0.5 init.weights=[0,0] init.bias=0"
    )
    assert said[4] == f"di.csv has 12 rows, the trace of {given} 8: it ends after epoch 2."
    assert said[5].startswith("ed.csv is not a trace: no column epoch")
    assert said[6:] == [f"1 of 5 traces match the trace of: {given}."]


@pytest.mark.parametrize(
    "made, given, says",
    [  # the user's own keys of a group stay what they typed, in the trial as in the suggestion
        (
            ["lr=0.5", "convention.strict=true"],
            ["lr=1", "convention.strict=true"],
            ["lr=0.5", "convention.strict=true"],
        ),
        (
            ["lr=0.5", "activation=band", "activation.theta=0.5"],
            ["lr=1", "activation=band", "activation.theta=0.5"],
            ["lr=0.5", "activation=band", "activation.theta=0.5"],
        ),
    ],
)
def test_a_suggestion_keeps_the_keys_the_user_set(tmp_path, capsys, made, given, says):
    start = ["gate=and", "init.weights=[0,0]", "init.bias=0"]
    api.train(*start, *made).trace.to_csv(tmp_path / "t.csv", index=False)
    assert check.main([str(tmp_path / "t.csv"), *start, *given]) == 1
    last = capsys.readouterr().out.splitlines()[-1]
    command = f"python -m runner.check {tmp_path / 't.csv'} {' '.join(start + says)}"
    assert last == f"The whole trace follows other settings: {command}"
    assert check.main([str(tmp_path / "t.csv"), *start, *says]) == 0


def test_a_spreadsheets_trailing_comma_and_a_folder_named_like_an_override_are_no_obstacle(tmp_path, capsys):
    folder = tmp_path / "lr=1"  # as a sweep's folders are named
    folder.mkdir()
    text = api.train(*OR_FROM_ZERO).trace.to_csv(index=False)
    (folder / "t.csv").write_text("".join(line + ",\n" for line in text.splitlines()))
    assert check.main([str(folder / "t.csv"), *OR_FROM_ZERO]) == 0
    assert capsys.readouterr().out.startswith(f"All 96 cells of {folder / 't.csv'} match")
