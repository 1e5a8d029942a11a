"""docs/tutorial.ipynb, executed on a real Jupyter kernel as a teacher's class would run it: its
OR trace is the README's, its pictures are inline, its sweep reads back."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_readme import example

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

pytestmark = [pytest.mark.slow, pytest.mark.scale]

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "tutorial.ipynb"


def test_the_tutorial_notebook_runs_and_shows_the_readmes_trace(tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells)  # committed without outputs
    nbclient.NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    printed = "".join(o.get("text", "") for o in cells[0].outputs if o.output_type == "stream")
    _, shown = example()
    assert printed.rstrip("\n") == shown.split("\nMLflow UI:")[0]
    assert "W1" in cells[1].outputs[0]["data"]["text/html"]  # the trace, as a table
    pictures = [o for cell in cells[2:4] for o in cell.outputs if "image/png" in o.get("data", {})]
    assert len(pictures) == 2 + 3  # errors and decision lines; the start and two epochs
    (table,) = [o["data"]["text/plain"] for o in cells[4].outputs if o.output_type == "execute_result"]
    assert len(table.strip().splitlines()) == 1 + 8  # the header, and the sweep's 8 runs
    assert [o for cell in cells for o in cell.outputs if o.get("name") == "stderr"] == []  # no warning
    assert list(tmp_path.iterdir()) == []  # the tutorial writes in a folder of its own
