"""A sweep's progress: each job's line as it ends, printed by the sweep's own process.

A job appends one line to progress.log in the sweep's folder (`append`): when it ended and how
("x=1 seed=0: done in 12 steps"). It reads nothing back, so a job's cost is the
same however many ended before it; a file lock (filelock: fcntl where there is one, else the
platform's own) keeps the lines of jobs that end at once in parallel workers whole. A job that
does not see the sweep's folder sends the same line as a tag of its run instead (the app's job).

The sweep's process prints the lines as they come (`Printer`), each numbered and with the time
left: "[k/N 0:00:12, ~0:01:40 left] x=1 seed=0: done ...". It reads them from the file,
and, given a way to (`polled`), from the store every few seconds, rather than from each worker's
output: Ray deduplicates, reorders and colours what its workers print, and submitit's workers
print into files on the cluster.
"""

from __future__ import annotations

import datetime
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

PROGRESS_FILE = "progress.log"


POLL_EVERY = 10  # the store is asked every 10th look at the file: every 2 s


def stamped(outcome: str) -> str:
    """A job's line as it is kept: when it ended, and how, on one line."""
    return f"{time.time():.3f} {outcome.replace(chr(10), ' ')}"


def append(sweep_dir: Path, outcome: str) -> None:
    """Add this job's line to the sweep's progress."""
    path = sweep_dir / PROGRESS_FILE
    with FileLock(f"{path}.lock"), open(path, "a") as lines:
        lines.write(stamped(outcome) + "\n")


class Printer(threading.Thread):
    """Prints the sweep's progress lines as jobs add them: in the order the jobs ended, none lost
    or merged, and all of them before the sweep's summary (stop)."""

    def __init__(
        self,
        sweep_dir: Path,
        started: float,
        planned: int | None,
        polled: Callable[[], list[str]] | None = None,
    ) -> None:
        """`polled`, if given, returns the lines that reached the store since it was last called."""
        super().__init__(daemon=True)
        self.path, self.started, self.planned, self.polled = (
            sweep_dir / PROGRESS_FILE,
            started,
            planned,
            polled,
        )
        # from the file's end: a sweep run before into the same folder (a hydra.sweep.dir the
        # user set) left its lines there, which are not this sweep's
        self.offset = self.path.stat().st_size if self.path.exists() else 0
        self.printed, self.done = 0, threading.Event()

    def run(self) -> None:
        looks = 0
        while not self.done.wait(0.2):
            looks += 1
            self.drain(from_store=looks % POLL_EVERY == 0)

    def drain(self, from_store: bool = True) -> None:
        lines = self._from_file()
        if from_store and self.polled is not None:
            try:
                lines += self.polled()
            except Exception:  # a store that is away for now: its lines come on a later look
                pass
        if lines:
            lines.sort(key=lambda line: float(line.partition(" ")[0]))
            sys.stdout.write("".join(self._numbered(line) for line in lines))
            sys.stdout.flush()

    def _from_file(self) -> list[str]:
        try:
            with open(self.path, "rb") as lines:
                lines.seek(self.offset)
                text = lines.read()
        except FileNotFoundError:
            return []
        complete = text[: text.rfind(b"\n") + 1]  # a line being written waits for its end
        self.offset += len(complete)
        return complete.decode().splitlines()

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
