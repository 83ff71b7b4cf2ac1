"""The item pipeline: read each fetched page in the worker pool, then store it, counting what
happened in the source's run record.

Stores are grouped: while the store thread writes one batch, the articles read meanwhile
queue up and go together in the next transaction (a commit per batch, not per article; a
lone article is stored at once)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Self

from scrapy.crawler import Crawler
from sqlalchemy.exc import SQLAlchemyError

from newsmon.spiders.extract import ArticleRecord
from newsmon.spiders.jobs import SourceJob
from newsmon.spiders.reading import ReadFailure, read_article
from newsmon.spiders.sources import FetchedPage
from newsmon.spiders.store import Batch, StoreResult, Validators, store_batch

log = logging.getLogger("newsmon.crawl")

MAX_BATCH = 50  # articles per transaction: bounds what one failure sends back for a retry


@dataclass
class StoreQueue:
    """Articles of one source waiting for the store thread; touched on the reactor thread only."""

    waiting: list[tuple[ArticleRecord, Validators, asyncio.Future[StoreResult | BaseException]]] = (
        field(default_factory=list)
    )
    busy: bool = False  # a batch of this source is in the store thread


class ArticlePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.queue = StoreQueue()

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
        validators = Validators(
            item.fetched_at, item.etag, item.last_modified, item.listed_modified
        )
        stored = await self._store(job, result, validators)
        if isinstance(stored, SQLAlchemyError):
            self._error(job, "store_failed", item.url, str(stored).splitlines()[0])
            return item
        if isinstance(stored, BaseException):
            raise stored  # a bug, not a database error: Scrapy logs it with the item
        if stored.explanation is not None:
            job.explanations.append((stored.article_id, stored.explanation))
        counts = job.counts
        if stored.outcome == "new_article":
            counts.new_articles += 1
        elif stored.outcome == "new_version":
            counts.new_versions += 1
        elif stored.outcome == "no_topic":
            counts.skipped += 1
        if stored.duplicate_of is not None and stored.outcome == "new_article":
            counts.duplicates += 1
        job.progress()
        return item

    async def _store(
        self, job: SourceJob, record: ArticleRecord, validators: Validators
    ) -> StoreResult | BaseException:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[StoreResult | BaseException] = loop.create_future()
        self.queue.waiting.append((record, validators, future))
        if not self.queue.busy:
            self._next_batch(job)
        return await future

    def _next_batch(self, job: SourceJob) -> None:
        """Hand what is waiting (up to MAX_BATCH) to the store thread; when that batch is
        done, the next one, until nothing waits."""
        queue = self.queue
        taken, queue.waiting = queue.waiting[:MAX_BATCH], queue.waiting[MAX_BATCH:]
        if not taken:
            queue.busy = False
            return
        queue.busy = True
        context = job.context
        batch = Batch(
            context.config,
            job.source,
            job.source_id,
            [(rec, val) for rec, val, _ in taken],
            context.explain,
            job.quiet,
        )
        done = asyncio.get_running_loop().run_in_executor(
            context.store_thread, store_batch, context.database, batch, context.duplicates
        )

        def deliver(finished: asyncio.Future[list[StoreResult | Exception]]) -> None:
            # not only an Exception: a BaseException that ends the store thread reaches every
            # waiting article, which re-raises it
            error = finished.exception()
            results: list[StoreResult | BaseException] = (
                [error] * len(taken) if error is not None else list(finished.result())
            )
            for (_, _, future), stored in zip(taken, results, strict=True):
                if not future.done():
                    future.set_result(stored)
            self._next_batch(job)

        done.add_done_callback(deliver)

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
