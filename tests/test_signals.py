"""What a Ctrl-C or a SIGTERM does, pinned: what is deferred (a store call, the sweep callback's
steps) and what is raised, and where. The random-instant tests of whole commands are in
test_interrupts.py and test_faults.py."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import runner
from runner.tracking import signals


@pytest.fixture(autouse=True)
def installed(monkeypatch):
    """The command's handlers, in this process for the test, with nothing received yet."""
    saved = {signum: signal.getsignal(signum) for signum in signals.STOPS}
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(sys, "unraisablehook", sys.unraisablehook)
    monkeypatch.setattr(signals, "_received", [])
    monkeypatch.setattr(signals, "_pending", None)
    monkeypatch.setattr(signals, "_holding", 0)
    signals.install()
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def send(signum: signal.Signals = signal.SIGINT) -> None:
    """The signal to this process; its handler has run when this returns."""
    os.kill(os.getpid(), signum)
    time.sleep(0.01)  # Python runs the handler at its next step, in the main thread


@pytest.mark.parametrize("signum", signals.STOPS, ids=lambda s: s.name)
def test_a_signal_outside_a_held_block_is_raised_where_the_program_is(signum):
    steps = []
    with pytest.raises(KeyboardInterrupt, match=signum.name):
        send(signum)
        steps.append("after the signal")
    assert steps == []


def test_a_signal_in_a_held_block_is_raised_at_its_end():
    steps = []
    with pytest.raises(KeyboardInterrupt, match="SIGINT"):
        with signals.held():
            send()
            steps.append("the rest of the block")
        steps.append("after the block")
    assert steps == ["the rest of the block"]


def test_nested_blocks_raise_at_the_end_of_the_outermost():
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with signals.held():
            with signals.held():
                send()
            steps.append("the outer block's rest")
    assert steps == ["the outer block's rest"]


def test_an_error_in_a_held_block_leaves_it_as_itself_and_the_run_ends_killed():
    with pytest.raises(ValueError):
        with signals.held():
            send()
            raise ValueError("what the block raised")
    with signals.held():
        pass  # nothing is left pending: the interrupt went out with the error
    assert signals.status_after(ValueError()) == "KILLED"  # a signal came: the run was stopped
    with pytest.raises(KeyboardInterrupt):
        signals.raise_if_received()  # and the command still ends interrupted


def test_a_second_signal_is_recorded_not_raised():
    with pytest.raises(KeyboardInterrupt, match="SIGINT"):
        with signals.held():
            send(signal.SIGINT)
            send(signal.SIGTERM)
    assert signals._received == ["SIGINT", "SIGTERM"] and signals.received() == "SIGINT"
    send(signal.SIGTERM)  # and another: the runs the first one stopped are being ended


def test_a_held_call_completes_then_the_signal_is_raised():
    class Client:
        done: list[str] = []
        uri = "sqlite:///x.db"

        def end_run(self, run_id: str) -> str:
            send()
            self.done.append(run_id)
            return run_id

    client = signals.HeldCalls(Client())
    assert client.uri == "sqlite:///x.db"  # not a call: as it is
    with pytest.raises(KeyboardInterrupt):
        client.end_run("abc")
    assert Client.done == ["abc"]


def test_a_block_held_in_another_thread_defers_nothing():
    seen = []

    def work() -> None:
        with signals.held():
            seen.append(signals._holding)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [0]


def test_a_run_that_failed_with_no_signal_ends_failed():
    assert signals.status_after(ValueError()) == "FAILED"
    assert signals.status_after(KeyboardInterrupt()) == "KILLED"
    signals.raise_if_received()  # nothing came: nothing raised


def test_signals_are_held_at_two_doors_only():
    """The store's boundary (tracking/store.py) and the sweep callback (tracking/callback.py);
    nowhere else in runner/ or the plugins."""
    root = Path(runner.__file__).parent
    holding = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "signals.py" and re.search(r"\bheld\(\)|HeldCalls\(", path.read_text())
    )
    assert holding == ["tracking/callback.py", "tracking/store.py"]


def test_an_interrupt_says_which_signal_even_with_no_words_of_its_own(capsys, monkeypatch):
    """Ray raised a bare KeyboardInterrupt: `Interrupted ()` (issue 30, item 22)."""
    sys.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    monkeypatch.setattr(signals, "_received", ["SIGTERM"])
    sys.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    assert capsys.readouterr().err.splitlines() == ["Interrupted (SIGINT)", "Interrupted (SIGTERM)"]


def test_an_interrupt_turned_into_another_error_before_the_command_asks_is_one_line(capsys, monkeypatch):
    """A Ctrl-C in the 1 in ~125 instant when Hydra scans its plugins came out as a 40-line
    traceback of `RuntimeError: Error calling __set_name__` (issue 30, item 15)."""
    try:
        try:
            raise KeyboardInterrupt("SIGINT")
        except KeyboardInterrupt as err:
            raise RuntimeError("Error calling __set_name__ on '_Flag' instance 'x'") from err
    except RuntimeError as err:
        wrapped = err
    monkeypatch.setattr(signals, "_received", ["SIGINT"])
    sys.excepthook(RuntimeError, wrapped, wrapped.__traceback__)
    assert capsys.readouterr().err == "Interrupted (SIGINT)\n"
    monkeypatch.setattr(signals, "_received", [])  # with no signal received, an error is an error
    sys.excepthook(RuntimeError, wrapped, wrapped.__traceback__)
    assert "Traceback" in capsys.readouterr().err


PROBE = """
import runpy, signal, sys

class Probe:  # says whose Ctrl-C handler is in place as runner.versions begins to load
    def find_spec(self, name, path=None, target=None):
        if name == "runner.versions":
            handler = signal.getsignal(signal.SIGINT)  # not SIG_IGN, as nohup's, nor Python's
            mine = getattr(handler, "__module__", "") == "runner.tracking.signals"
            print("the command's" if mine else "Python's", flush=True)

sys.meta_path.insert(0, Probe())
sys.argv = ["runner", "--help"]
runpy.run_module("runner", run_name="__main__", alter_sys=True)
"""


def test_the_handlers_are_the_commands_before_it_reads_the_installs_metadata(tmp_path):
    """runner.versions loads importlib.metadata (40 ms at start-up); a Ctrl-C in that window
    printed Python's 20-line traceback (5 of 40 interrupts 20 to 150 ms after a sweep started),
    so the command's handlers come first."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "the command's"
