"""Each command claims an output folder of its own, even when another started in the same second."""

from __future__ import annotations

from datetime import datetime

from runner.tracking import output_folder

NOW = datetime(2026, 12, 6, 7, 49, 36)


def test_commands_in_the_same_second_claim_folders_of_their_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    claimed = [output_folder.claim(["-m", "gate=or,and"], NOW) for _ in range(3)]
    assert [args[-1] for args, _ in claimed] == [
        "hydra.sweep.dir=outputs/multirun/2026-12-06/07-49-36",
        "hydra.sweep.dir=outputs/multirun/2026-12-06/07-49-36_2",
        "hydra.sweep.dir=outputs/multirun/2026-12-06/07-49-36_3",
    ]
    args, folder = output_folder.claim(["gate=or"], NOW)
    assert args == ["gate=or", "hydra.run.dir=outputs/runs/2026-12-06/07-49-36"] and folder.is_dir()


def test_a_folder_set_by_the_user_or_a_command_that_runs_nothing_claims_none(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args in (["hydra.run.dir=mine"], ["-m", "hydra.sweep.dir=mine"], ["--cfg", "job"], ["--help"]):
        assert output_folder.claim(args, NOW) == (args, None)
    assert not (tmp_path / "outputs").exists()


def test_a_folder_left_empty_is_released(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, empty = output_folder.claim(["gate=or"], NOW)
    _, used = output_folder.claim(["gate=and"], NOW)
    (used / "runner.log").write_text("")
    output_folder.release(empty)
    output_folder.release(used)
    assert not empty.exists() and used.exists()
    output_folder.release(output_folder.claim(["-m", "gate=or,and"], NOW)[1])
    assert not (tmp_path / "outputs" / "multirun").exists()  # nothing left of a sweep that never ran
