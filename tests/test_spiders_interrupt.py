"""An interrupted `newsmon crawl` loses nothing: Ctrl-C or SIGTERM at any stage (the listing
fetched; some articles stored; the store step under way), then a normal crawl, leaves every
article stored exactly once, on both backends. The interrupted crawl exits 130/143 without a
traceback and its run is recorded `interrupted`."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from cli_process import CommandProcess, start_newsmon
from sqlalchemy import func, select

from newsmon.storage import Database
from newsmon.storage.models import Article, ArticleVersion, CrawlRun, Source
from tests.newsite import NewsSite
from tests.newsite.config import site_config
from tests.test_spiders_crawl import crawl

ARTICLES = 8
SLOW = {"timeout": "20s", "retries": 0, "autothrottle": False, "concurrency_per_domain": 1}


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with NewsSite(articles=ARTICLES).serve() as served:
        yield served


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def stored(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Article)) or 0


def article_hits(site: NewsSite) -> int:
    return sum(site.hits[story.path] for story in site.stories())


@contextmanager
def write_lock(database_url: str) -> Iterator[Callable[[], None]]:
    """Hold the database's write lock from another connection until the yielded release()."""
    released = threading.Event()
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30)
        connection.isolation_level = None
        connection.execute("BEGIN IMMEDIATE")

        def release() -> None:
            if not released.is_set():
                released.set()
                connection.execute("COMMIT")
                connection.close()
    else:
        engine = sa.create_engine(database_url)
        pg = engine.connect()
        pg.execute(sa.text("LOCK TABLE articles IN EXCLUSIVE MODE"))

        def release() -> None:
            if not released.is_set():
                released.set()
                pg.commit()
                pg.close()
                engine.dispose()

    try:
        yield release
    finally:
        release()


def crawl_again_stores_every_article_once(
    site: NewsSite, config: Path, database: Database
) -> CrawlRun:
    """A following crawl at full speed ends with each of the site's articles stored once;
    returns its run."""
    site.article_delay = 0.0
    again = crawl(config)
    assert again.returncode == 0, again.stderr
    with database.session() as session:
        paths = session.scalars(select(Article.url)).all()
        versions = session.scalar(select(func.count()).select_from(ArticleVersion))
        last = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
    assert sorted("/" + url.split("/", 3)[3] for url in paths) == sorted(
        story.path for story in site.stories()
    )
    assert versions == ARTICLES  # each article stored exactly once
    assert last is not None
    return last


def start_crawl(config: Path) -> CommandProcess:
    """`newsmon crawl` on this config as a process of its own, to be signalled."""
    return start_newsmon(
        "--config",
        config,
        "crawl",
        cwd=config.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize(
    ("stage", "signum"),
    [
        ("listing fetched", signal.SIGINT),
        ("some articles stored", signal.SIGTERM),
        ("storing", signal.SIGINT),
    ],
)
def test_an_interrupted_crawl_loses_nothing(
    site: NewsSite, tmp_path: Path, database_url: str, stage: str, signum: int
) -> None:
    config = tmp_path / "config.yaml"
    sources = {"rss": ("feed", site.url("/feeds/rss.xml"))}
    config.write_text(site_config(database_url, sources, SLOW), encoding="utf-8")
    database = Database.open(database_url)  # migrated before the crawl, so it can be locked
    try:
        # slow enough that the signal (sent within ~0.1 s of what the stage waits for) lands
        # before the next article answers (the stop cuts the queued and in-flight downloads)
        site.article_delay = {"listing fetched": 1.0}.get(stage, 0.5)
        process = start_crawl(config)
        if stage == "listing fetched":
            wait_until(lambda: article_hits(site) >= 1, "the first article request")
            process.send_signal(signum)
        elif stage == "some articles stored":
            wait_until(lambda: stored(database) >= 2, "two stored articles")
            process.send_signal(signum)
        else:
            # the run has started (its rows are written) once the feed is requested
            wait_until(lambda: site.hits["/feeds/rss.xml"] >= 1, "the feed request")
            with write_lock(database_url) as release:
                wait_until(lambda: article_hits(site) == ARTICLES, "every article fetched")
                time.sleep(1.0)  # read by the workers, now waiting for the store step
                process.send_signal(signum)
                time.sleep(0.5)
                release()
        out, err = process.communicate(timeout=60)
        assert process.returncode == 128 + signum, err
        assert "Traceback" not in err and "Unhandled" not in err, err
        assert "interrupted" in err
        with database.session() as session:
            run = session.scalars(select(CrawlRun)).one()
            assert run.status == "interrupted", (run.status, run.message)
            assert run.new_articles == stored(database) < ARTICLES + 1
            first_crawl = run.new_articles
            validators = session.scalars(select(Source.etag)).one()
            assert validators is None  # saved only once everything listed is stored

        last = crawl_again_stores_every_article_once(site, config, database)
        assert last.status == "ok"
        assert last.new_articles == ARTICLES - first_crawl
    finally:
        database.dispose()


ARTICLE_SECONDS = 4.0  # each article page's answer: a stop that waited would take ~30 s


def test_a_stop_signal_cuts_the_queued_and_in_flight_downloads(
    site: NewsSite, tmp_path: Path, database_url: str
) -> None:
    # Scrapy's graceful stop used to download every article already queued (one at a time
    # here) before the crawl could exit: Ctrl-C took "articles left × page time"
    config = tmp_path / "config.yaml"
    sources = {"rss": ("feed", site.url("/feeds/rss.xml"))}
    config.write_text(site_config(database_url, sources, SLOW), encoding="utf-8")
    database = Database.open(database_url)
    try:
        site.article_delay = ARTICLE_SECONDS
        process = start_crawl(config)
        wait_until(lambda: article_hits(site) >= 1, "the first article request")
        signalled = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        took = time.monotonic() - signalled
        assert process.returncode == 130, err
        assert "Traceback" not in err and "Unhandled" not in err, err
        # one article in flight (one per site), cut before its answer; none of the queued sent
        assert article_hits(site) == 1
        # far below the (ARTICLES - 1) * ARTICLE_SECONDS a stop that waited for them took
        assert took < (ARTICLES - 1) * ARTICLE_SECONDS / 2, took
        with database.session() as session:
            run = session.scalars(select(CrawlRun)).one()
            assert (run.status, run.new_articles, run.errors) == ("interrupted", 0, 0)
            assert session.scalars(select(Source.etag)).one() is None

        crawl_again_stores_every_article_once(site, config, database)
    finally:
        database.dispose()
