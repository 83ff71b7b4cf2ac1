"""One daemon per database: a lock that dies with the process holding it.

SQLite: an OS file lock (flock) on `<database file>.lock`, which also records the holder's pid and
host for the refusal message. PostgreSQL: a session advisory lock (pg_try_advisory_lock) on a
connection kept open for the daemon's lifetime; the holder is named from its heartbeat row. In both
cases the kernel or the server releases the lock when the daemon's process ends, however it ends.
"""

from __future__ import annotations

import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from storage import Database
from storage import daemon as daemon_rows


class DaemonLockedError(Exception):
    """Another daemon holds the lock; str() names it and the database."""


@contextmanager
def daemon_lock(database: Database) -> Iterator[None]:
    """Hold the database's daemon lock for the duration of the block, or raise
    DaemonLockedError at once."""
    if database.dialect == "postgresql":
        with _advisory_lock(database):
            yield
        return
    path = sqlite_lock_path(database.url)
    if path is None:  # an in-memory database cannot be shared with another process
        yield
        return
    with _file_lock(path, database):
        yield


def sqlite_lock_path(url: str) -> Path | None:
    name = make_url(url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name + ".lock")


@contextmanager
def _file_lock(path: Path, database: Database) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by crawl children
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "pid unknown"
            raise DaemonLockedError(_refusal(holder, database)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def _advisory_lock(database: Database) -> Iterator[None]:
    connection = database.engine.connect()
    try:
        if not daemon_rows.try_advisory_lock(connection):
            with database.session() as session:
                state = daemon_rows.heartbeat(session)
                holder = f"pid {state.pid} on {state.host}" if state else "pid unknown"
            raise DaemonLockedError(_refusal(holder, database))
        try:
            yield
        finally:
            daemon_rows.release_advisory_lock(connection)
    finally:
        connection.close()


def _refusal(holder: str, database: Database) -> str:
    return (
        f"another daemon ({holder}) is already running on {database.safe_url}; "
        "stop it first (newsmon status shows it)"
    )
