"""The one error type the runner reports as a single line, without a traceback; and how to tell
an error that says the disk is full."""

import errno
import os

from hydra.errors import CompactHydraException

from runner.tracking.credentials import redacted


class UsageError(CompactHydraException):
    """A problem the user can fix (a bad value, an unusable store); the message says what to do.

    A single run exits with just the message. In a sweep the job fails, the others go on, and
    Hydra prints the message alone at the end, as it does for every CompactHydraException.
    A store's credentials never show in it (runner/tracking/credentials.py).
    """

    def __init__(self, message: object = "") -> None:
        super().__init__(redacted(str(message)))


def out_of_space(error: BaseException | None) -> str | None:
    """What says the disk is full, if anything in the error's chain does (an OSError, or SQLite's
    "database or disk is full" wrapped by SQLAlchemy and MLflow)."""
    while error is not None:
        text = str(error)
        if isinstance(error, OSError) and error.errno == errno.ENOSPC or says_disk_full(text):
            said = [line for line in text.splitlines() if "full" in line or "space" in line]
            return said[0].strip() if said else "no space left on device"
        error = error.__cause__ or error.__context__
    return None


def first_line(error: BaseException) -> str:
    """An error's first line of text, or its type's name when it has none."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def named(error: BaseException) -> str:
    """An error in a line, with its type: `WorkerDied: The worker process ...`."""
    return f"{type(error).__name__}: {first_line(error)}"


def says_disk_full(text: str) -> bool:
    """SQLite's or the system's words for a full disk, as an error's text carries them (in a
    run's error tag)."""
    return "disk is full" in text or os.strerror(errno.ENOSPC) in text


class OutOfSpace(SystemExit):
    """A job could not log its run for a full disk: every later job would fail the same way, so
    the sweep stops, its message the command's one line (the failed jobs are not listed after
    it: their errors, if the full disk let them be recorded at all, say the same)."""


class TrackingError(UsageError):
    """The store cannot take this run as configured; the message says why and what to do."""


def unusable_store(tracking_uri: str, reason: str) -> TrackingError:
    return TrackingError(f"Cannot use the MLflow tracking store {tracking_uri}: {reason}")
