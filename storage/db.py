"""Opening the archive: engine, sessions and migrations for one database URL."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from newsmon.errors import NewsmonError

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


class StorageError(NewsmonError):
    """The database cannot be opened or migrated; str() says which and why."""


def create_database_engine(url: str) -> Engine:
    """An engine with newsmon's connection settings (SQLite: WAL, busy timeout, foreign keys)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"storage.url {url!r} is not a database URL") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # the driver we install
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise StorageError(f"storage.url {url!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (CLI) never block the daemon's writes
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster commits
    cursor.close()
    # SQLite has no XOR or popcount: the near-duplicate lookup (storage.near_duplicates)
    # filters its candidates with this; PostgreSQL uses bit_count()
    dbapi_connection.create_function("simhash_distance", 2, _simhash_distance, deterministic=True)


def _simhash_distance(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFFFFFFFFFFFFFF).bit_count()


MIGRATION_LOCK = 0x6E6D_6D69  # "nmmi": an advisory lock key of its own, not the daemon's


@contextmanager
def _sqlite_migration_lock(url: str) -> Iterator[None]:
    """SQLite's MIGRATION_LOCK: an exclusive flock on `<database file>.migrate.lock`, held while
    a process checks and migrates, so processes opening one new file at once (`newsmon run` and
    `newsmon crawl` on a fresh install) migrate one after another and the next finds it at head.
    Not the daemon's `.lock`: a crawl must migrate while a daemon holds that one."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        yield
        return
    if name.startswith("file:"):
        yield  # a URI names no plain file to put a lock beside
        return
    fd = os.open(name + ".migrate.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits for another process's migration to end
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


class Database:
    """One archive: an engine plus a session factory. Pass it to whatever needs storage."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_database_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, upgrade: bool = True) -> Database:
        """Open and (by default) migrate to the newest schema, as every command does at start."""
        database = cls(url)
        if upgrade:
            database.upgrade()
        return database

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    @property
    def dry_run(self) -> bool:
        return False

    def _alembic_config(self, connection: Any) -> AlembicConfig:
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        return config

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self._alembic_config(None)).get_current_head()

    def upgrade(self, revision: str = "head") -> tuple[str | None, str | None]:
        """Apply pending migrations; returns (revision before, revision after)."""
        with _sqlite_migration_lock(self.url):
            return self._upgrade(revision)

    def _upgrade(self, revision: str) -> tuple[str | None, str | None]:
        try:
            before = self.current_revision()
            if before != self.head_revision() or revision != "head":
                with self.engine.begin() as connection:
                    if self.dialect == "postgresql":
                        # processes starting at once on a new database (a scheduler and its
                        # workers) migrate one after another: the next one finds it at head
                        connection.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                        )
                    command.upgrade(self._alembic_config(connection), revision)
            return before, self.current_revision()
        except OperationalError as exc:
            self.engine.dispose()  # no half-open connections left behind by a retry loop
            raise StorageError(f"cannot open database {self.safe_url}: {exc.orig}") from None

    def downgrade(self, revision: str) -> None:
        with self.engine.begin() as connection:
            command.downgrade(self._alembic_config(connection), revision)

    @property
    def safe_url(self) -> str:
        """The URL with any password masked, for messages and logs."""
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()


class DryRunDatabase(Database):
    """The same archive, read and written as usual, but every transaction is rolled back:
    `newsmon crawl --dry-run` decides everything and keeps nothing."""

    @property
    def dry_run(self) -> bool:
        return True

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session:
            session.begin()
            try:
                yield session
            finally:
                session.rollback()
