"""A command's own output folder, so that two commands started in the same second never share one.

Hydra names a command's folder by the second it started (`outputs/runs/<date>/<time>`): two commands
started together in one folder would write their files, a sweep its plan and progress lines, into
the same place. The command claims its folder first, with an atomic `mkdir` (`<time>`, else
`<time>_2`, `<time>_3`, …), and hands it to Hydra as a plain override, which every job and every
launcher's worker then reads as it is, on this machine or another.

A folder given by the user (`hydra.sweep.dir=...`, `hydra.run.dir=...`) is not claimed, but held
while its sweep or run runs (`hold`): a second sweep given the same folder at the same time would
write its plan over the first's, and the first's jobs would log under the second's parent; a
second run would write its trace over the first's before the first logged it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

# Hydra's flags that print and exit, and run nothing: no folder is claimed for them
_NO_RUN_FLAGS = {"-h", "--help", "--hydra-help", "--version", "-c", "--cfg", "-i", "--info", "-sc"}
_NO_RUN_PREFIXES = ("--shell-completion", "--info=", "--cfg=")
LOCK = ".runner.lock"  # in a sweep's or a run's folder: held while it runs


def claim(args: list[str], now: datetime) -> tuple[list[str], Path | None]:
    """`args` with the folder override added, and the folder claimed; `args` as they are, and None,
    where the command sets its own folder (held as its run or sweep starts) or runs nothing."""
    multirun = "-m" in args or "--multirun" in args
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    if any(a in _NO_RUN_FLAGS or a.startswith(_NO_RUN_PREFIXES) for a in args) or any(
        a.lstrip("+").startswith(f"{key}=") for a in args
    ):
        return args, None
    day = Path("outputs", "multirun" if multirun else "runs", now.strftime("%Y-%m-%d"))
    stem = now.strftime("%H-%M-%S")
    folder, n = day / stem, 1
    while True:
        try:
            day.mkdir(parents=True, exist_ok=True)
            folder.mkdir()
            return [*args, f"{key}={folder.as_posix()}"], folder
        except FileExistsError:
            n += 1
            folder = day / f"{stem}_{n}"
        except FileNotFoundError:  # another command released the day's folder meanwhile
            pass


def release(folder: Path | None) -> None:
    """Remove the claimed folder if the command wrote nothing in it (it stopped before it ran),
    and the folders above it that it leaves empty, up to outputs/."""
    if folder is None:
        return
    (folder / LOCK).unlink(missing_ok=True)  # this command's, in its own folder: it has ended
    for empty in (folder, folder.parent, folder.parent.parent):
        try:
            empty.rmdir()
        except OSError:  # not empty: the command's files, or another command's, are there
            return


def hold(folder: Path, key: str = "hydra.sweep.dir", what: str = "sweep") -> FileLock:
    """A lock in the folder of a sweep (or a run: `key`, `what`), held until released or the
    process ends (killed too); a SystemExit in one line, before anything is logged, when another
    command holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / LOCK)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise SystemExit(
            f"Cannot start the {what}: {key}={folder} is the folder of another command, which still "
            f"runs: give this one a folder of its own, or leave {key} out (each command then gets "
            "one); nothing was run or logged"
        ) from None
    return lock


@contextmanager
def held(folder: Path, key: str, what: str) -> Iterator[None]:
    """`hold` for the time of a block."""
    lock = hold(folder, key, what)
    try:
        yield
    finally:
        lock.release()
