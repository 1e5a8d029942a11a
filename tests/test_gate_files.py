"""A gate file sets gate keys only (a rule's or an activation's, its own): one shared by a
colleague cannot make Hydra call anything (issue 30, item 12). Each reach beyond the gate is
refused in one line before Hydra composes anything, and nothing is run, written or logged."""

from __future__ import annotations

import pytest
from conftest import run_cli

CALLBACK = """hydra:
  callbacks:
    evil:
      _target_: builtins.open
      _args_: [victim.txt, w]
"""

FILES = {
    "header": (
        "gate/evil.yaml",
        "# @package _global_\nname: or\n" + CALLBACK,
        "its header puts it at `_global_`",
    ),
    "defaults": (
        "gate/evil.yaml",
        "defaults:\n  - /extra@_global_\n  - _self_\nname: or\n",
        "its defaults list names `/extra@_global_` (allowed: _base/<table>, _self_)",
    ),
    "base": (
        "gate/evil.yaml",
        "defaults:\n  - _base/x@_global_\nname: or\n",
        "its defaults list names `_base/x@_global_` (allowed: _base/<table>, _self_)",
    ),
    "key": ("gate/evil.yaml", "name: or\n" + CALLBACK, "it sets hydra, no gate key (allowed: "),
    "rule": ("rule/evil.yaml", "# @package _global_\nname: perceptron\n" + CALLBACK, "its header puts it at"),
}


QUICK = ("header", "defaults")  # the others in CI's scale run


@pytest.mark.parametrize(
    "case", [c if c in QUICK else pytest.param(c, marks=pytest.mark.scale) for c in FILES]
)
def test_a_gate_file_that_reaches_beyond_the_gate_is_refused_before_anything_runs(tmp_path, case):
    where, text, why = FILES[case]
    shared = tmp_path / "shared"
    (shared / where).parent.mkdir(parents=True)
    (shared / where).write_text(text)
    (shared / "extra.yaml").write_text(CALLBACK)
    (shared / "gate" / "_base").mkdir(parents=True, exist_ok=True)
    (shared / "gate" / "_base" / "x.yaml").write_text(CALLBACK)
    (tmp_path / "victim.txt").write_text("kept")
    group = where.split("/")[0]
    proc = run_cli("--config-dir", str(shared), "-m", f"{group}=evil", "lr=0.5,1", cwd=tmp_path)
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"{group}=evil: a {group} file sets {group} keys only, but {why}")
    assert line.endswith(f"({shared / where}); nothing was run")
    assert (tmp_path / "victim.txt").read_text() == "kept"
    assert not (tmp_path / "outputs").exists()


@pytest.mark.scale
def test_a_gate_file_of_gate_keys_and_the_projects_tables_runs(tmp_path):
    shared = tmp_path / "shared" / "gate"
    shared.mkdir(parents=True)
    (shared / "mine.yaml").write_text(
        "# @package _group_\ndefaults:\n  - _base/truth_table@_here_\n  - _self_\nname: mine\n"
        "inputs: [[-1, -1], [-1, 1], [1, -1], [1, 1]]\ntargets: [-1, -1, -1, 1]\n"
    )
    proc = run_cli("--config-dir", str(shared.parent), "gate=mine", "plots=false", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Converged after" in proc.stdout
