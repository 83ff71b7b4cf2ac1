"""The item pipeline: read each fetched page in the worker pool, then store it (one
transaction), counting what happened in the source's run record."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Self

from scrapy.crawler import Crawler
from sqlalchemy.exc import SQLAlchemyError

from spiders.extract import ArticleRecord
from spiders.jobs import SourceJob
from spiders.reading import ReadFailure, read_article
from spiders.sources import FetchedPage
from spiders.store import StoreResult, Validators, store_article

log = logging.getLogger("newsmon.crawl")


class ArticlePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        job: SourceJob = self.crawler.spider.job  # type: ignore[union-attr]
        context = job.context
        # CPU-bound work leaves the reactor thread: the reactor keeps downloading meanwhile
        future = context.pool.submit(read_article, item.html, item.final_url)
        try:
            result = await asyncio.wrap_future(future)
        except Exception as exc:  # a worker crashed or the reader has a bug: count, carry on
            self._error(job, "extract_failed", item.url, f"{type(exc).__name__}: {exc}")
            return item
        if isinstance(result, ReadFailure):
            self._error(job, result.kind, item.url, result.message)
            return item
        validators = Validators(item.fetched_at, item.etag, item.last_modified)
        loop = asyncio.get_running_loop()
        try:
            stored = await loop.run_in_executor(
                context.store_thread, self._store, job, result, validators
            )
        except SQLAlchemyError as exc:
            self._error(job, "store_failed", item.url, str(exc).splitlines()[0])
            return item
        counts = job.counts
        if stored.outcome == "new_article":
            counts.new_articles += 1
        elif stored.outcome == "new_version":
            counts.new_versions += 1
        if stored.duplicate_of is not None and stored.outcome == "new_article":
            counts.duplicates += 1
        job.progress()
        return item

    @staticmethod
    def _store(job: SourceJob, record: ArticleRecord, validators: Validators) -> StoreResult:
        """One transaction, in the store thread."""
        context = job.context
        with context.database.session() as session:
            return store_article(
                session,
                context.config,
                job.source,
                job.source_id,
                record,
                validators,
                context.duplicates,
            )

    @staticmethod
    def _error(job: SourceJob, kind: str, url: str, message: str) -> None:
        job.counts.error(kind)
        job.first_error = job.first_error or f"{url}: {message}"
        log.warning("%s: %s: %s", job.source.name, url, message)
        job.progress()


class RequestCounter:
    """Counts every request that reaches the downloader (retries and redirects included;
    robots.txt, fetched once per site, is not a request of the source)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Any) -> None:
        if request.meta.get("dont_obey_robotstxt") and request.url.endswith("/robots.txt"):
            return None
        job: SourceJob = self.crawler.spider.job  # type: ignore[union-attr]
        job.counts.requests += 1
        return None
