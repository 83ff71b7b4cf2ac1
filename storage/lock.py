"""One daemon per database: a lock that dies with the process holding it.

SQLite: an OS file lock (flock) on `<database file>.lock`, which also records the holder's pid and
host for the refusal message. PostgreSQL: a session advisory lock (pg_try_advisory_lock) on a
connection kept open for the daemon's lifetime; the holder is named from its heartbeat row. In both
cases the kernel or the server releases the lock when the daemon's process ends, however it ends.
The advisory lock also ends with its connection, so the daemon checks it on every heartbeat
(`DaemonLock.held`) and takes it again after an outage, unless another daemon was quicker.
The same lock elects the active scheduler of `newsmon run --role scheduler`: a standby retries
`acquire()` until the active one's connection, and so its lock, is gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from newsmon.errors import NewsmonError
from newsmon.storage import Database
from newsmon.storage import daemon as daemon_rows


class DaemonLockedError(NewsmonError):
    """Another daemon holds the lock; str() names it and the database."""


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


class AdvisoryLock:
    """The PostgreSQL session lock, which a lost connection (a server restart, a network cut)
    silently drops: `held()` checks it and takes it again when it can."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._connection: Connection | None = None

    def acquire(self) -> None:
        """Take the lock or raise DaemonLockedError (a database error propagates)."""
        if self._take():
            return
        with self.database.session() as session:
            state = daemon_rows.heartbeat(session)
            holder = f"pid {state.pid} on {state.host}" if state else "pid unknown"
        raise DaemonLockedError(_refusal(holder, self.database))

    def held(self) -> bool:
        """True if this process holds the lock now (taking it again after a lost connection);
        False if another process took it meanwhile. Raises when the database is unreachable."""
        if self._connection is not None:
            if self._still_held(self._connection):
                return True
            self._drop()
        return self._take()

    @staticmethod
    def _still_held(connection: Connection) -> bool:
        try:
            return daemon_rows.holds_advisory_lock(connection)
        except DBAPIError:
            return False  # the connection is gone, and the lock with it

    def release(self) -> None:
        if self._connection is None:
            return
        with contextlib.suppress(DBAPIError):  # a dead connection released it already
            daemon_rows.release_advisory_lock(self._connection)
        self._drop()

    def _take(self) -> bool:
        connection = self.database.engine.connect()
        try:
            taken = daemon_rows.try_advisory_lock(connection)
        except BaseException:
            connection.close()
            raise
        if taken:
            self._connection = connection
        else:
            connection.close()
        return taken

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):
                self._connection.invalidate()  # never back to the pool: its session is dead
                self._connection.close()
            self._connection = None


class DaemonLock:
    """One daemon per database, as an object the daemon keeps: `acquire()` at start, `held()` on
    every heartbeat, `release()` at a clean stop."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._advisory = AdvisoryLock(database) if database.dialect == "postgresql" else None
        self._file: contextlib.ExitStack | None = None
        self.waited = False  # acquire_when_free had to wait for another holder

    def acquire(self) -> None:
        if self._advisory is not None:
            self._advisory.acquire()
            return
        path = sqlite_lock_path(self.database.url)
        if path is not None:
            stack = contextlib.ExitStack()
            stack.enter_context(_file_lock(path, self.database))
            self._file = stack

    def acquire_when_free(
        self, stop: threading.Event, waiting: Callable[[str], None], retry: float
    ) -> bool:
        """Take the lock, trying every `retry` seconds while another process holds it (a
        standby scheduler); `waiting(holder)` is called once, naming the holder, when it has to
        wait (`self.waited` tells afterwards). False if `stop` was set first."""
        self.waited = False
        while not stop.is_set():
            try:
                self.acquire()
                return True
            except DaemonLockedError as exc:
                if not self.waited:
                    waiting(str(exc).split(";")[0].replace("is already running", "is running"))
                    self.waited = True
            stop.wait(retry)
        return False

    def held(self) -> bool:
        # an OS file lock cannot be lost while the process lives
        return self._advisory.held() if self._advisory is not None else True

    def release(self) -> None:
        if self._advisory is not None:
            self._advisory.release()
        if self._file is not None:
            self._file.close()
            self._file = None


def _refusal(holder: str, database: Database) -> str:
    return (
        f"another daemon ({holder}) is already running on {database.safe_url}; "
        "stop it first (newsmon status shows it)"
    )
