"""Crawl functions the daemon tests run in its crawl child processes (via the hidden
`newsmon run --crawl-target daemon_crawls:crawl`), in place of the spiders.

They have the signature of spiders.crawl.run_crawl and write real CrawlRun rows through
storage.crawls. What each does depends on the source's name prefix:
  ok-…     a quick crawl: one request, one new article
  slow-…   an article and its version per second for a minute, each pair in one transaction
           (a half-written pair would be an article without a version)
  crash-…  raises after starting its run
  hang-…   never returns
  hog-…    allocates memory until it cannot
  stoppable-…  counts an article every 0.2 s until the engine is told to stop (SIGTERM: it calls
           this module's `stop()`), then closes its run as ok and returns (as Scrapy does)

They run in threads of the daemon's crawl engine.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence

from newsmon.clock import utcnow
from newsmon.config import Config
from newsmon.storage import Database
from newsmon.storage.crawls import RunCounts, ensure_source, finish_run, start_run
from newsmon.storage.models import Article, ArticleVersion

STOP = threading.Event()


def stop() -> None:
    """The engine calls this when the daemon stops."""
    STOP.set()


def crawl(config: Config, source_names: Sequence[str] | None = None) -> list[int]:
    database = Database.open(config.storage.url, upgrade=False)
    run_ids = []
    try:
        for source in config.sources:
            if source_names is not None and source.name not in source_names:
                continue
            with database.session() as session:
                row = ensure_source(session, source.name, source.url, source.type)
                run_id = start_run(session, row).id
            run_ids.append(run_id)
            counts = _behave(source.name, database, row.id)
            with database.session() as session:
                finish_run(session, run_id, counts)
    finally:
        database.dispose()
    return run_ids


def _behave(name: str, database: Database, source_id: int) -> RunCounts:
    counts = RunCounts(requests=1)
    if name.startswith("crash-"):
        raise RuntimeError(f"spider exploded on {name}")
    if name.startswith("hang-"):
        while True:
            time.sleep(1)
    if name.startswith("hog-"):
        hoard = []
        while True:
            hoard.append(bytearray(50 * 1024 * 1024))
    if name.startswith("stoppable-"):
        while not STOP.wait(0.2):
            counts.new_articles += 1
        return counts
    if name.startswith("slow-"):
        for _ in range(60):
            with database.session() as session:
                article = Article(
                    url=f"https://example.org/{uuid.uuid4().hex}", source_id=source_id
                )
                session.add(article)
                session.flush()
                time.sleep(0.5)  # a kill lands inside the transaction half the time
                session.add(
                    ArticleVersion(
                        article_id=article.id,
                        number=1,
                        text="text",
                        text_hash="0" * 64,
                        fetched_at=utcnow(),
                    )
                )
            counts.new_articles += 1
            time.sleep(0.5)
        return counts
    with database.session() as session:
        session.add(Article(url=f"https://example.org/{uuid.uuid4().hex}", source_id=source_id))
    counts.new_articles = 1
    return counts
