"""The item pipeline: read each fetched page in the worker pool (with the ingest pipeline's
pure steps: topics, figures assigned), then ingest it (newsmon.ingest), counting what happened
in the source's run record.

Ingests are grouped: articles read queue up for at most LINGER seconds (or until MAX_BATCH
wait), and while the ingest thread writes one batch the next one gathers: a commit, a URL
lookup and a flush per batch, not per article."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Self

from scrapy.crawler import Crawler
from sqlalchemy.exc import SQLAlchemyError

from newsmon.ingest import Batch, IngestResult, Match, TopicRules, Validators, ingest_batch
from newsmon.spiders.article_page import ArticleRecord
from newsmon.spiders.jobs import SourceJob
from newsmon.spiders.reading import ReadFailure, read_article
from newsmon.spiders.sources import FetchedPage

log = logging.getLogger("newsmon.crawl")

MAX_BATCH = 50  # articles per transaction: bounds what one failure sends back for a retry
# how long the first article read waits for others: a batch's commit and flush cost as much
# as storing several articles, and the workers deliver a few articles per 100 ms
LINGER = 0.25


@dataclass
class IngestQueue:
    """Articles of one source waiting for the ingest thread; touched on the reactor thread only."""

    waiting: list[
        tuple[ArticleRecord, Validators, Match | None, asyncio.Future[IngestResult | BaseException]]
    ] = field(default_factory=list)
    busy: bool = False  # a batch of this source is in the ingest thread
    timer: asyncio.TimerHandle | None = None  # the waiting batch's LINGER


class ArticlePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.queue = IngestQueue()
        self.rules: TopicRules | None = None  # the source's, sent with each page to a worker

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchedPage):
            return item
        job: SourceJob = self.crawler.spider.job  # type: ignore[union-attr]
        context = job.context
        # CPU-bound work leaves the reactor thread: the reactor keeps downloading meanwhile
        if self.rules is None:
            self.rules = TopicRules.of(context.config, job.source)
        future = context.pool.submit(read_article, item.html, item.final_url, self.rules)
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
        stored = await self._ingest(job, result.record, validators, result.matched)
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

    async def _ingest(
        self, job: SourceJob, record: ArticleRecord, validators: Validators, matched: Match | None
    ) -> IngestResult | BaseException:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[IngestResult | BaseException] = loop.create_future()
        self.queue.waiting.append((record, validators, matched, future))
        self._schedule(job)
        return await future

    def _schedule(self, job: SourceJob) -> None:
        """Send a full batch at once; else the waiting ones after LINGER (none while a batch
        is in the ingest thread: the next is sent when it is done)."""
        queue = self.queue
        if queue.busy or not queue.waiting:
            return
        if len(queue.waiting) >= MAX_BATCH:
            self._next_batch(job)
        elif queue.timer is None:
            queue.timer = asyncio.get_running_loop().call_later(LINGER, self._next_batch, job)

    def _next_batch(self, job: SourceJob) -> None:
        """Hand what is waiting (up to MAX_BATCH) to the ingest thread; when that batch is
        done, schedule the next."""
        queue = self.queue
        if queue.timer is not None:
            queue.timer.cancel()
            queue.timer = None
        taken, queue.waiting = queue.waiting[:MAX_BATCH], queue.waiting[MAX_BATCH:]
        if not taken:
            return
        queue.busy = True
        context = job.context
        batch = Batch(
            context.config,
            job.source,
            job.source_id,
            [(rec, val, matched) for rec, val, matched, _ in taken],
            context.explain,
            job.quiet,
        )
        done = asyncio.get_running_loop().run_in_executor(
            context.ingest_thread, ingest_batch, context.database, batch, context.duplicates
        )

        def deliver(finished: asyncio.Future[list[IngestResult | Exception]]) -> None:
            # not only an Exception: a BaseException that ends the ingest thread reaches every
            # waiting article, which re-raises it
            error = finished.exception()
            results: list[IngestResult | BaseException] = (
                [error] * len(taken) if error is not None else list(finished.result())
            )
            for (_, _, _, future), stored in zip(taken, results, strict=True):
                if not future.done():
                    future.set_result(stored)
            self.queue.busy = False
            self._schedule(job)

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
