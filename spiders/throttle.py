"""`crawl.concurrency` as one budget for the whole crawl, `crawl.concurrency_per_domain` per
site across sources. Scrapy applies both per crawler, and newsmon runs one crawler per source:
ten sources on one site would otherwise send ten times the per-site limit at it.

A downloader middleware placed next to the downloader waits for a slot of the site, then of the
crawl, before a request goes on the wire, and gives them back when its response (or error) comes
back. Waiting here does not count against the request's download timeout.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached

from newsmon.spiders.stopping import CrawlStopped, Downloads

HOLDS = "newsmon_slots"  # request.meta key: the slots this request holds


@dataclass
class ConcurrencyBudget:
    total: int
    per_host: int
    _all: asyncio.Semaphore | None = None
    _hosts: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    def semaphores(self, host: str) -> tuple[asyncio.Semaphore, asyncio.Semaphore]:
        # created lazily: they must belong to the reactor's event loop
        if self._all is None:
            self._all = asyncio.Semaphore(self.total)
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(self.per_host)
        return self._hosts[host], self._all


class SharedConcurrency:
    def __init__(self, crawler: Crawler) -> None:
        context = crawler.spider.job.context  # type: ignore[union-attr]
        self.budget: ConcurrencyBudget = context.budget
        self.downloads: Downloads = context.downloads

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        host, everything = self.budget.semaphores(urlparse_cached(request).netloc)
        await host.acquire()  # the site's slot first: waiting for it holds no crawl-wide slot
        try:
            await everything.acquire()
        except BaseException:
            host.release()
            raise
        request.meta[HOLDS] = (host, everything)
        try:
            self.downloads.check(request)  # a request that waited for a slot past a stop
        except CrawlStopped:
            self._release(request)
            raise

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._release(request)

    @staticmethod
    def _release(request: Request) -> None:
        # popped: a retry or redirect copies the meta, and must acquire its own slots
        held: Any = request.meta.pop(HOLDS, None)
        if held is not None:
            for semaphore in held:
                semaphore.release()
