"""The README's first example prints what the README shows, line for line."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from conftest import run_cli

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parent.parent / "README.md"
MARKER = "<!-- README example:"


def example() -> tuple[list[str], str]:
    """The command named after the marker, and the output block that follows it."""
    text = README.read_text()
    after = text[text.index(MARKER) :]
    command = re.search(r"`python -m runner ([^`]+)`", after).group(1)
    printed = re.search(r"\n```\n(.*?)\n```", after, re.S).group(1)
    return shlex.split(command), printed


def test_the_first_example_prints_what_the_readme_shows(tmp_path):
    overrides, shown = example()
    proc = run_cli(*overrides, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    printed = re.sub(r"/runs/[0-9a-f]{32}([?/])", r"/runs/<run id>\1", proc.stdout.rstrip("\n"))
    assert printed == shown


def test_the_first_command_of_the_set_up_is_that_example():
    overrides, _ = example()
    setup = README.read_text().split("```sh\n", 1)[1].split("\n```", 1)[0]
    assert setup.endswith("python -m runner " + " ".join(shlex.quote(o) for o in overrides))
