"""A sweep's progress: each job's line as it ends, printed by the sweep's own process.

A job appends one line to progress.log in the sweep's folder (`append`): when it ended and how
("or lr=1 seed=0: Converged after 3 epochs ..."). It reads nothing back, so a job's cost is the
same however many ended before it; a file lock (filelock: fcntl where there is one, else the
platform's own) keeps the lines of jobs that end at once in parallel workers whole.

The sweep's process prints the lines as they come (`Printer`), each numbered and with the time
left: "[k/N 0:00:12, ~0:01:40 left] or lr=1 seed=0: Converged ...". It reads them from the file
rather than from each worker's output because Ray deduplicates, reorders and colours what its
workers print, and submitit's workers print into files on the cluster.
"""

from __future__ import annotations

import datetime
import sys
import threading
import time
from pathlib import Path

from filelock import FileLock

PROGRESS_FILE = "progress.log"


def append(sweep_dir: Path, outcome: str) -> None:
    """Add this job's line to the sweep's progress."""
    path = sweep_dir / PROGRESS_FILE
    line = f"{time.time():.3f} {outcome.replace(chr(10), ' ')}\n"
    with FileLock(f"{path}.lock"), open(path, "a") as lines:
        lines.write(line)


class Printer(threading.Thread):
    """Prints the sweep's progress lines as jobs add them: in the order the jobs ended, none lost
    or merged, and all of them before the sweep's summary (stop)."""

    def __init__(self, sweep_dir: Path, started: float, planned: int | None) -> None:
        super().__init__(daemon=True)
        self.path, self.started, self.planned = sweep_dir / PROGRESS_FILE, started, planned
        self.offset, self.printed, self.done = 0, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            self.drain()

    def drain(self) -> None:
        try:
            with open(self.path, "rb") as lines:
                lines.seek(self.offset)
                text = lines.read()
        except FileNotFoundError:
            return
        complete = text[: text.rfind(b"\n") + 1]  # a line being written waits for its end
        if complete:
            self.offset += len(complete)
            sys.stdout.write("".join(self._numbered(line) for line in complete.decode().splitlines()))
            sys.stdout.flush()

    def _numbered(self, line: str) -> str:
        ended, _, outcome = line.partition(" ")
        self.printed += 1
        elapsed = max(float(ended) - self.started, 0.0)
        if self.planned:
            left = elapsed / self.printed * max(self.planned - self.printed, 0)
            where = f"[{self.printed}/{self.planned} {_clock(elapsed)}, ~{_clock(left)} left]"
        else:
            where = f"[{self.printed} {_clock(elapsed)}]"
        return f"{where} {outcome}\n"

    def stop(self) -> None:
        self.done.set()
        if self.is_alive():
            self.join()
        self.drain()


def _clock(seconds: float) -> str:
    return str(datetime.timedelta(seconds=round(seconds)))
