"""Off-topic articles are remembered and counted, not downloaded again; after a change of the
topic config they are re-matched (and stored figures re-assigned) without downloading, and an
alert already raised is never raised again. Real `newsmon` subprocesses, both backends."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_in_process import newsmon_in_process
from sqlalchemy import func, select, update

from newsmon.storage import Database
from newsmon.storage.models import Alert, Article, CrawlRun, Figure, SkippedArticle, Source
from tests.newsite import NewsSite
from tests.newsite.config import site_config
from tests.test_spiders_crawl import FAST, crawl

ARTICLES = 5
WRONG_KEYWORDS = 'all: ["Zanzibar"]'
RIGHT_KEYWORDS = 'all: ["North Korea|North Korean|Pyongyang"]'


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with NewsSite(articles=ARTICLES).serve() as served:
        yield served


def newsmon(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return newsmon_in_process("--config", config, *args, cwd=config.parent)


def count(database: Database, model: type) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def article_requests(site: NewsSite) -> int:
    return sum(site.hits[story.path] for story in site.stories())


def test_skipped_articles_are_remembered_and_rematched_after_a_keyword_fix(
    site: NewsSite, tmp_path: Path, database_url: str
) -> None:
    sources = {"rss": ("feed", site.url("/feeds/rss.xml"))}
    right = site_config(database_url, sources, FAST)
    assert RIGHT_KEYWORDS in right
    config = tmp_path / "config.yaml"
    config.write_text(right.replace(RIGHT_KEYWORDS, WRONG_KEYWORDS), encoding="utf-8")

    first = crawl(config)
    assert first.returncode == 0, first.stderr
    assert f"rss skipped: no topic {ARTICLES}" in first.stdout
    database = Database.open(database_url)
    assert (count(database, Article), count(database, SkippedArticle)) == (0, ARTICLES)
    with database.session() as session:
        assert session.scalars(select(CrawlRun.skipped)).one() == ARTICLES

    # nothing changed: remembered, so not downloaded again (the feed answers 304 anyway; a
    # listing that changed would list them again, and they would still cost nothing)
    site.reset_counts()
    with database.session() as session:
        session.execute(update(Source).values(etag=None, last_modified=None))
    assert crawl(config).returncode == 0
    assert article_requests(site) == 0

    # keywords fixed: the next crawl re-matches what it has, without downloading
    config.write_text(right, encoding="utf-8")
    site.reset_counts()
    fixed = crawl(config)
    assert fixed.returncode == 0, fixed.stderr
    assert f"{ARTICLES} now match a topic" in fixed.stdout
    assert article_requests(site) == 0
    assert (count(database, Article), count(database, SkippedArticle)) == (ARTICLES, 0)
    with database.session() as session:
        quantities = set(session.scalars(select(Figure.quantity)))
        assert quantities == {"nk-troops/troops-in-russia"}
    alerts = count(database, Alert)
    assert alerts > 0

    # a quantity loses its unit, then gets it back: figures are re-assigned both times, and the
    # figures already reported raise nothing again
    narrow = right.replace("units: [troops, soldiers]", "units: [soldiers]")
    config.write_text(narrow, encoding="utf-8")
    result = newsmon(config, "rematch")
    assert result.returncode == 0, result.stderr
    assert f"{ARTICLES} figure(s) re-assigned" in result.stdout
    with database.session() as session:
        assert set(session.scalars(select(Figure.quantity))) == {None}
    config.write_text(right, encoding="utf-8")
    again = newsmon(config, "rematch")
    assert f"{ARTICLES} figure(s) re-assigned, 0 alert(s)" in again.stdout, again.stdout
    assert count(database, Alert) == alerts
    assert article_requests(site) == 0
    database.dispose()
