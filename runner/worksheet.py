"""`python -m runner.worksheet FOLDER [overrides]`: a class's worksheet, and its key.

    python -m runner.worksheet or-sheet gate=or lr=1 'init.weights=[0,0]' init.bias=0

writes, in FOLDER:
- worksheet.csv, the trace to fill in: its columns as a run's trace.csv has them, the epoch, the
  pattern (X1..Xn) and its target (T) given, every other cell empty, a row for each pattern the
  run presents;
- worksheet.html, the same to print, with the run's setup and truth table above it (the run
  page's printed layout);
- key.csv and key.html, the trace worked out: the teacher's.

A student fills worksheet.csv in; `python -m runner.check worksheet.csv [the same overrides]`
checks it, cell by cell.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from runner import api, gate_files
from runner.pages import run_page
from runner.tracking.errors import UsageError

GIVEN = ("epoch", "T")  # and the inputs, X1..Xn: what a worksheet fills in for the student


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    folder, overrides = Path(argv[0]), gate_files.as_overrides(argv[1:])
    training = api.train(*overrides)
    trace = training.trace
    blank = trace.astype(object)
    for column in trace.columns:
        if column not in GIVEN and not column.startswith("X"):
            blank[column] = ""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        blank.to_csv(folder / "worksheet.csv", index=False)
        trace.to_csv(folder / "key.csv", index=False)
        for name, sheet, key in (("worksheet.html", True, False), ("key.html", False, True)):
            page = run_page.worksheet(training.trained, training.name, sheet=sheet, key=key)
            (folder / name).write_text(page, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"Cannot write the worksheet to {err.filename or folder}: {err.strerror}") from None
    rows, epochs = len(trace), int(trace["epoch"].max())
    print(
        f"{folder}/worksheet.csv and worksheet.html: {training.name}, {rows} rows to fill in ({epochs} "
        f"epochs); the key: key.csv and key.html. Check a filled sheet: python -m runner.check "
        f"{folder}/worksheet.csv {' '.join(argv[1:])}".rstrip()
    )
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except UsageError as err:  # an override (`lr=abc`), a folder it cannot write
        print(err, file=sys.stderr)
        sys.exit(2)
