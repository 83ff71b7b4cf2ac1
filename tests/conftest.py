"""Shared fixtures: databases on both backends, and config files written for a test.

`database` runs each test twice: on a fresh SQLite file and on a fresh PostgreSQL database created
on the local server (127.0.0.1:5432, database `test` used only to create and drop it). The
PostgreSQL run skips with a reason only when no server answers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from newsmon.storage import Database

POSTGRES_ADMIN_URL = os.environ.get(
    "NEWSMON_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


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


@pytest.fixture(scope="session")
def postgres_skip_reason() -> str | None:
    return _postgres_available()


@pytest.fixture
def postgres_url(postgres_skip_reason: str | None) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    if postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    name = f"newsmon_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'newsmon.db'}"
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
