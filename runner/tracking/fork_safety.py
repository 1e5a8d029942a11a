"""Database connections across os.fork(): a forked process opens its own, never its parent's.

The parallel launcher forks warm workers from the sweep's process, which holds MLflow's pooled
connections to the store; two processes on one connection corrupt it. This is SQLAlchemy's
recipe for pools and os.fork() ("Using Connection Pools with Multiprocessing"): a connection
remembers the process that opened it, and a checkout from another process discards it.

The hooks are set on SQLAlchemy's Pool class, so they are process-wide: `install()` is called
when the runner opens its first store (runner/tracking/store.py), never at import, and a hook acts only
in a process forked after a connection was opened, where reusing it would be a bug anyway.
"""

from __future__ import annotations

import functools
import os

from sqlalchemy import event, exc
from sqlalchemy.pool import Pool


@functools.cache
def install() -> None:
    event.listen(Pool, "connect", owned)
    event.listen(Pool, "checkout", not_inherited)


def owned(dbapi_connection, record) -> None:
    record.info["pid"] = os.getpid()


def not_inherited(dbapi_connection, record, proxy) -> None:
    if record.info.get("pid", os.getpid()) != os.getpid():
        record.dbapi_connection = proxy.dbapi_connection = None
        raise exc.DisconnectionError(f"a connection of process {record.info['pid']}")
