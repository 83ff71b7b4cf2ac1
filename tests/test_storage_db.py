"""The archive schema: migrations from empty to head on both backends, models match them,
an upgrade of a current database is a no-op, datetimes come back in UTC, FTS is kept in step."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from newsmon.storage import Database, StorageError
from newsmon.storage.models import Article, ArticleVersion, Base, Source


def test_migrations_from_empty_to_head_create_every_table(database_url: str) -> None:
    database = Database.open(database_url, upgrade=False)
    assert database.current_revision() is None
    before, after = database.upgrade()
    assert before is None and after == database.head_revision()
    tables = set(sa.inspect(database.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    database.dispose()


def test_processes_migrating_a_new_database_at_once_all_start(database_url: str) -> None:
    # a scheduler and its workers started together on a new PostgreSQL archive: without the
    # migration lock the second CREATE TYPE failed and that process exited 1
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite archives are opened by one machine's processes; PostgreSQL's race")
    databases = [Database.open(database_url, upgrade=False) for _ in range(4)]
    start = threading.Barrier(len(databases))
    errors: list[BaseException] = []

    def migrate(database: Database) -> None:
        start.wait()
        try:
            database.upgrade()
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(db,)) for db in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert {db.current_revision() for db in databases} == {databases[0].head_revision()}
    for database in databases:
        database.dispose()


# each process waits for the go file, then opens (and so migrates) the archive, as every command
# does at start: they reach the migration within milliseconds of each other
OPEN_WHEN_TOLD = """
import os, sys, time
from newsmon.storage import Database
url, go = sys.argv[1], sys.argv[2]
while not os.path.exists(go):
    time.sleep(0.001)
Database.open(url).dispose()
"""


def test_processes_opening_a_new_sqlite_file_at_once_all_start(tmp_path: Path) -> None:
    # `newsmon run` and `newsmon crawl` started together on a fresh install: without the
    # migration lock file one of them failed with "table daemon_state already exists"
    url = f"sqlite:///{tmp_path / 'newsmon.db'}"
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_WHEN_TOLD, url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    time.sleep(3)  # every process has imported newsmon and is polling for the go file
    go.touch()
    failures = []
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        if process.returncode != 0:
            failures.append(stderr.strip().splitlines()[-1])
    assert failures == []
    database = Database.open(url, upgrade=False)
    with database.engine.connect() as connection:
        versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    assert [row[0] for row in versions] == [database.head_revision()]
    database.dispose()


def test_models_match_migrations(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        diff = [
            change
            for change in compare_metadata(context, Base.metadata)
            # full-text objects live only in the migration, on purpose
            if "fts" not in str(change) and "search" not in str(change)
        ]
    assert diff == []


def test_upgrade_of_current_database_is_a_no_op(database: Database) -> None:
    head = database.current_revision()
    assert database.upgrade() == (head, head)


def test_downgrade_to_empty_and_back(database: Database) -> None:
    database.downgrade("base")
    assert database.current_revision() is None
    database.upgrade()
    assert database.current_revision() == database.head_revision()


def test_datetimes_round_trip_as_utc(database: Database) -> None:
    seoul = timezone(timedelta(hours=9))
    with database.session() as session:
        source = Source(name="wire", url="https://example.org/rss", type="feed")
        session.add(source)
        session.flush()
        session.add(
            Article(
                url="https://example.org/a",
                source_id=source.id,
                title="t",
                published_at=datetime(2026, 11, 1, 9, 0, tzinfo=seoul),
            )
        )
    with database.session() as session:
        article = session.scalars(sa.select(Article)).one()
        assert article.published_at == datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
        assert article.published_at.tzinfo is not None


def test_naive_datetimes_are_refused(database: Database) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), database.session() as s:
        s.add(Article(url="https://example.org/b", published_at=datetime(2026, 1, 1)))


def test_canonical_url_is_unique(database: Database) -> None:
    with pytest.raises(sa.exc.IntegrityError), database.session() as session:
        session.add_all([Article(url="https://x.org/a"), Article(url="https://x.org/a")])


def test_full_text_index_follows_article_text(database: Database) -> None:
    with database.session() as session:
        article = Article(url="https://x.org/fts", title="Troops", text="Pyongyang deployed troops")
        session.add(article)
        session.flush()
        session.add(ArticleVersion(article_id=article.id, number=1, text="x", text_hash="h"))
    with database.session() as session:
        session.execute(
            sa.update(Article)
            .values(text="Pyongyang sent soldiers to Kursk")
            .where(Article.url == "https://x.org/fts")
        )
    if database.dialect == "sqlite":
        query = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q"
    else:
        query = "SELECT id FROM articles WHERE search @@ websearch_to_tsquery('english', :q)"
    with database.session() as session:
        assert session.execute(sa.text(query), {"q": "soldiers"}).all()
        assert session.execute(sa.text(query), {"q": "deployed"}).all() == []


def test_sqlite_connection_settings(tmp_path) -> None:
    database = Database.open(f"sqlite:///{tmp_path / 'a.db'}")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    database.dispose()


def test_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(StorageError, match="cannot open database"):
        Database.open("postgresql+psycopg://nobody:secretpw@127.0.0.1:1/none")
    with pytest.raises(StorageError, match="not a database URL"):
        Database.open("not a url")
