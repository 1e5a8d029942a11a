"""`python -m runner.worksheet`: a class's blank trace and its key, which the checker reads back
(issue 31, item 3)."""

from __future__ import annotations

import pandas as pd
import pytest

from runner import api, check, worksheet
from runner.tracking.errors import UsageError

OR_FROM_ZERO = ["gate=or", "lr=1", "init.weights=[0,0]", "init.bias=0"]


def test_a_worksheet_gives_the_patterns_and_targets_and_its_key_the_whole_trace(tmp_path, capsys):
    folder = tmp_path / "or-sheet"
    assert worksheet.main([str(folder), *OR_FROM_ZERO]) == 0
    trace = api.train(*OR_FROM_ZERO).trace
    sheet = pd.read_csv(folder / "worksheet.csv")
    assert list(sheet.columns) == list(trace.columns) and len(sheet) == len(trace) == 8
    given = ["epoch", "X1", "X2", "T"]
    assert sheet[given].equals(trace[given])
    assert sheet.drop(columns=given).isna().all().all()  # every other cell to fill in
    pd.testing.assert_frame_equal(pd.read_csv(folder / "key.csv"), trace, check_dtype=False)
    said = capsys.readouterr().out
    assert said.startswith(f"{folder}/worksheet.csv and worksheet.html: or lr=1 seed=0 init.weights=[0,0] ")
    assert "8 rows to fill in (2 epochs)" in said
    html = (folder / "worksheet.html").read_text()
    assert "Fill in the trace" in html and "Answer key" not in html
    assert html.count('class="blank"') == 8 * (len(trace.columns) - len(given))
    key = (folder / "key.html").read_text()
    assert "Answer key" in key and "Fill in the trace" not in key and 'class="blank"' not in key


def test_the_checker_reads_a_filled_worksheet_back(tmp_path, capsys):
    folder = tmp_path / "sheet"
    worksheet.main([str(folder), *OR_FROM_ZERO])
    sheet, key = pd.read_csv(folder / "worksheet.csv"), pd.read_csv(folder / "key.csv")
    assert check.main([str(folder / "worksheet.csv"), *OR_FROM_ZERO]) == 0  # blank: nothing wrong yet
    sheet.loc[:2] = key.loc[:2]  # a student's first three rows, right
    sheet.to_csv(folder / "worksheet.csv", index=False)
    assert check.main([str(folder / "worksheet.csv"), *OR_FROM_ZERO]) == 0
    sheet.loc[3, "yin"] = 99  # and a wrong one
    sheet.to_csv(folder / "worksheet.csv", index=False)
    capsys.readouterr()
    assert check.main([str(folder / "worksheet.csv"), *OR_FROM_ZERO]) == 1
    assert capsys.readouterr().out.startswith("Epoch 1, pattern 4, column yin: 99 in ")


def test_a_folder_it_cannot_write_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match=r"^Cannot write the worksheet to .*file.*: Not a directory$"):
        worksheet.main([str(tmp_path / "file" / "sheet"), *OR_FROM_ZERO])
