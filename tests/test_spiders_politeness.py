"""Polite and frugal: one robots.txt per site per crawl whatever the number of sources (and none
while the remembered copy is fresh), feeds a listing page announces fetched conditionally, and
`crawl.concurrency_per_domain` held across all sources of a site."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from newsmon.storage import Database
from newsmon.storage.models import CrawlRun, RobotsTxt, Source
from tests.newsite import NewsSite
from tests.newsite.config import site_config
from tests.test_spiders_crawl import FAST, crawl

ARTICLES = 6


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with NewsSite(articles=ARTICLES).serve() as served:
        yield served


def test_one_robots_txt_per_site_and_a_cached_copy_while_fresh(
    site: NewsSite, tmp_path: Path, database_url: str
) -> None:
    sources = {
        "rss": ("feed", site.url("/feeds/rss.xml")),
        "atom": ("feed", site.url("/feeds/atom.xml")),
        "sitemap": ("sitemap", site.url("/sitemap.xml")),
        "world": ("page", site.url("/world/")),
    }
    config = tmp_path / "config.yaml"
    config.write_text(site_config(database_url, sources, FAST), encoding="utf-8")
    assert crawl(config).returncode == 0
    assert site.hits["/robots.txt"] == 1  # four sources, one site
    assert site.hits["/private/2024/11/04/members-only-story-briefing.html"] == 0  # obeyed

    site.reset_counts()
    second = crawl(config)
    assert second.returncode == 0, second.stderr
    assert site.hits["/robots.txt"] == 0  # remembered (no max-age: up to 24 h)
    # an unchanged crawl: one conditional request per source, answered 304
    assert sum(site.hits.values()) == len(sources)
    assert sum(site.not_modified.values()) == len(sources)

    database = Database.open(database_url)
    with database.session() as session:
        session.execute(update(RobotsTxt).values(expires_at=RobotsTxt.fetched_at))
    site.reset_counts()
    assert crawl(config).returncode == 0
    assert site.hits["/robots.txt"] == 1  # expired: fetched again, once
    database.dispose()


def test_an_announced_feed_is_fetched_conditionally(
    site: NewsSite, tmp_path: Path, database_url: str
) -> None:
    config = tmp_path / "config.yaml"
    sources = {"world": ("page", site.url("/world/"))}
    config.write_text(site_config(database_url, sources, FAST), encoding="utf-8")
    assert crawl(config).returncode == 0
    assert site.hits["/feeds/atom.xml"] == 1
    database = Database.open(database_url)
    with database.session() as session:  # as if the listing page had changed
        session.execute(update(Source).values(etag=None, last_modified=None))
    site.reset_counts()
    assert crawl(config).returncode == 0
    assert site.hits["/world/"] == 1 and site.not_modified["/world/"] == 0
    assert site.conditional_hits["/feeds/atom.xml"] == 1
    assert site.not_modified["/feeds/atom.xml"] == 1
    with database.session() as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        assert run is not None and (run.status, run.not_modified, run.new_articles) == ("ok", 1, 0)
    database.dispose()


def test_refetch_ignores_validators_once(site: NewsSite, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'news.db'}"
    config = tmp_path / "config.yaml"
    sources = {"rss": ("feed", site.url("/feeds/rss.xml"))}
    config.write_text(site_config(url, sources, FAST), encoding="utf-8")
    assert crawl(config).returncode == 0
    site.reset_counts()
    assert crawl(config, "--refetch", "--source", "rss").returncode == 0
    assert site.conditional_hits["/feeds/rss.xml"] == 0 and site.hits["/feeds/rss.xml"] == 1
    assert all(site.hits[story.path] == 1 for story in site.stories())
    site.reset_counts()
    assert crawl(config).returncode == 0  # once: the next crawl is conditional again
    assert site.not_modified["/feeds/rss.xml"] == 1 and sum(site.hits.values()) == 1


def test_the_per_site_limit_holds_across_sources(site: NewsSite, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'news.db'}"
    config = tmp_path / "config.yaml"
    sources = {
        "rss": ("feed", site.url("/feeds/rss.xml")),
        "sitemap": ("sitemap", site.url("/sitemap-news.xml")),
        "atom": ("feed", site.url("/feeds/atom.xml")),
    }
    keys = {**FAST, "concurrency": 16, "concurrency_per_domain": 2}
    config.write_text(site_config(url, sources, keys), encoding="utf-8")
    site.article_delay = 0.3  # long enough for every source's requests to overlap
    assert crawl(config).returncode == 0
    assert site.max_in_flight == 2
