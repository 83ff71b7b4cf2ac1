"""Shared fixtures: databases on both backends, and config files written for a test.

`database_url` runs each test twice: on SQLite and on PostgreSQL (127.0.0.1:5432, admin database
`test`). The PostgreSQL run skips with a reason only when no server answers.

Each test still gets a database of its own, but without building one per test: creating and
dropping a PostgreSQL database costs 1-3 s on this server and migrating one ~1 s, against ~0.1 s
for a reset. So each pytest(-xdist) worker keeps one PostgreSQL database, reset before every test
(emptied, or its rows deleted at the newest schema), and one migrated SQLite file that a test
asking for `database` gets a copy of.
"""

from __future__ import annotations

import os
import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext

from newsmon.storage import Database
from newsmon.storage.models import Base

HEAD = Database("sqlite://").head_revision()

POSTGRES_ADMIN_URL = os.environ.get(
    "NEWSMON_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# one name per xdist worker ("gw0", "gw1"; "main" without xdist) and per checkout, so parallel
# workers and other worktrees on the same server never share a database
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _postgres_available() -> str | None:
    """None when the server answers, else the reason to skip."""
    engine = sa.create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return None
    except sa.exc.OperationalError as exc:
        return f"no PostgreSQL server answers at {POSTGRES_ADMIN_URL}: {exc.orig}"
    finally:
        engine.dispose()


def _wants_migrated(request: pytest.FixtureRequest) -> bool:
    """The test (or a fixture it uses) asks for `database`: an archive at the newest schema."""
    return "database" in request.fixturenames


class WorkerPostgres:
    """One PostgreSQL database for one worker, handed to one test at a time."""

    def __init__(self, admin_url: str, name: str) -> None:
        self.name = name
        self.url = sa.engine.make_url(admin_url).set(database=name).render_as_string(False)
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.at_head = False  # True while the schema is exactly what the migrations build

    def create(self) -> None:
        self.drop()  # left over by a run that was killed
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{self.name}"'))

    def drop(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    def _release(self) -> None:
        """End the last test's connections (a daemon's lock, a rival session) and undo
        database-level settings a test made (a test makes the database read-only)."""
        with self.admin.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": self.name},
            )
            connection.execute(sa.text(f'ALTER DATABASE "{self.name}" RESET ALL'))

    def empty(self) -> str:
        self._release()
        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        try:
            with engine.begin() as connection:
                connection.execute(sa.text("DROP SCHEMA public CASCADE"))
                connection.execute(sa.text("CREATE SCHEMA public"))
        finally:
            engine.dispose()
        self.at_head = False
        return self.url

    def migrated(self) -> str:
        """At the newest schema with no rows; identities restart at 1 as in a new database."""
        self._release()
        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        try:
            if self.at_head and self._schema_is_head(engine):
                self._delete_rows(engine)
                return self.url
        finally:
            engine.dispose()
        self.empty()
        Database.open(self.url).dispose()
        self.at_head = True
        return self.url

    def _schema_is_head(self, engine: sa.Engine) -> bool:
        """A test may downgrade or drop tables; then the schema is rebuilt, not emptied."""
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
        if revision != HEAD:
            return False
        return set(Base.metadata.tables) <= set(sa.inspect(engine).get_table_names())

    @staticmethod
    def _delete_rows(engine: sa.Engine) -> None:
        """DELETE, not TRUNCATE: on tables this small TRUNCATE costs ~1 s (new files, fsync)."""
        tables = [t for t in sa.inspect(engine).get_table_names() if t != "alembic_version"]
        with engine.begin() as connection:
            # foreign keys are not checked while every row goes (superuser, this session only)
            connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
            for table in tables:
                connection.execute(sa.text(f'DELETE FROM "{table}"'))
            sequences = connection.scalars(
                sa.text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
            ).all()
            for sequence in sequences:
                connection.execute(sa.text(f'ALTER SEQUENCE "{sequence}" RESTART'))


@pytest.fixture(scope="session")
def postgres_skip_reason() -> str | None:
    return _postgres_available()


@pytest.fixture(scope="session")
def worker_postgres(postgres_skip_reason: str | None) -> Iterator[WorkerPostgres]:
    if postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    checkout = zlib.crc32(str(Path(__file__).resolve()).encode()) % 10**6
    database = WorkerPostgres(POSTGRES_ADMIN_URL, f"newsmon_test_{checkout}_{WORKER}")
    database.create()
    try:
        yield database
    finally:
        database.drop()
        database.admin.dispose()


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest, worker_postgres: WorkerPostgres) -> str:
    """A PostgreSQL database of the test's own: empty, or migrated if the test uses `database`."""
    return worker_postgres.migrated() if _wants_migrated(request) else worker_postgres.empty()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per worker; tests get copies."""
    path = tmp_path_factory.mktemp("schema") / "newsmon.db"
    Database.open(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database (migrated if the test uses `database`), once per backend."""
    if request.param == "sqlite":
        path = tmp_path / "newsmon.db"
        if _wants_migrated(request):
            shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """An archive migrated to the newest schema, once per backend."""
    db = Database.open(database_url)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a config.yaml (text) into the test's folder and return its path."""

    def write(text: str, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
