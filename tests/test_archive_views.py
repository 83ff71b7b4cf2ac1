"""The views of migration 0002 answer the common questions in plain SQL on both backends, as
sqlite3, psql, Datasette or a notebook would ask them."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from archive_data import fill_archive

from newsmon.storage import Database

VIEWS = {"figures_view", "alerts_view", "articles_view"}


@pytest.fixture
def archive(database: Database) -> dict[str, int]:
    return fill_archive(database)


def rows(database: Database, sql: str) -> list[dict[str, object]]:
    with database.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(sa.text(sql))]


def test_views_exist_and_are_not_tables(database: Database) -> None:
    inspector = sa.inspect(database.engine)
    assert set(inspector.get_view_names()) >= VIEWS
    assert not VIEWS & set(inspector.get_table_names())


def test_figures_view_joins_article_source_and_version(database, archive) -> None:
    found = rows(
        database,
        "SELECT value, status, source, url, version, attribution, reported_at "
        "FROM figures_view WHERE quantity = 'nk/troops' ORDER BY reported_at, figure_id",
    )
    assert [(r["value"], r["status"], r["source"], r["version"]) for r in found] == [
        (3000.0, "new", "yonhap", 1),
        (12000.0, "revised", "yonhap", 2),
        (10000.0, "changed", "wire", 1),
        (15000.0, None, "wire", 1),
    ]
    assert found[2]["url"] == "https://wire.example.org/pentagon-troops"
    assert str(found[0]["reported_at"]).startswith("2024-10-18 09:00")
    assert str(found[1]["reported_at"]).startswith("2024-10-19 08:00")  # the revision's fetch


def test_alerts_view_has_one_row_per_delivery(database, archive) -> None:
    found = rows(
        database,
        "SELECT kind, value, previous_value, source, channel, delivery_status, attempts "
        "FROM alerts_view ORDER BY channel",
    )
    assert [tuple(r.values()) for r in found] == [
        ("figure_changed", 10000.0, 3000.0, "wire", "mail", "failed", 8),
        ("figure_changed", 10000.0, 3000.0, "wire", "slack", "sent", 1),
    ]


def test_articles_view_counts_figures_and_lists_topics(database, archive) -> None:
    found = rows(
        database,
        "SELECT title, source, topics, figure_count, version_count FROM articles_view "
        "ORDER BY article_id",
    )
    assert [(r["source"], r["topics"], r["figure_count"], r["version_count"]) for r in found] == [
        ("yonhap", "nk", 2, 2),
        ("wire", "nk", 2, 1),
        ("wire", None, 0, 1),
        ("yonhap", "nk", 0, 1),
    ]


def test_sqlite_file_is_useful_to_the_sqlite3_module(tmp_path) -> None:
    """What Datasette does: open the file with the standard library and read the views."""
    path = tmp_path / "archive.db"
    database = Database.open(f"sqlite:///{path}")
    fill_archive(database)
    database.dispose()
    with sqlite3.connect(path) as connection:
        (count,) = connection.execute("SELECT count(*) FROM figures_view").fetchone()
        sources = connection.execute(
            "SELECT source, count(*) FROM figures_view GROUP BY source ORDER BY source"
        ).fetchall()
    assert count == 4 and sources == [("wire", 2), ("yonhap", 2)]


def test_downgrade_drops_the_views(database: Database) -> None:
    database.downgrade("0001")
    assert not VIEWS & set(sa.inspect(database.engine).get_view_names())
    database.upgrade()
    assert set(sa.inspect(database.engine).get_view_names()) >= VIEWS
