"""The one error type the runner reports as a single line, without a traceback."""

from hydra.errors import CompactHydraException


class UsageError(CompactHydraException):
    """A problem the user can fix (a bad value, an unusable store); the message says what to do.

    A single run exits with just the message. In a sweep the job fails, the others go on, and
    Hydra prints the message alone at the end, as it does for every CompactHydraException.
    """
