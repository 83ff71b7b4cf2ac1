"""A prompt stop on SIGINT/SIGTERM: no new download starts, and those in flight are cut.

Scrapy's graceful stop stops taking requests from the scheduler but then waits for every request
already handed to the downloader (queued behind the per-site concurrency or download delay, or
waiting for a slot of newsmon's budget) to be downloaded: with slow article pages, a Ctrl-C took
"articles queued × page time". Here the crawl's downloads are marked stopping: the queued ones
fail at once with `CrawlStopped`, and the in-flight ones are cancelled (their connections
closed). The spiders do not count these as errors; the run is recorded `interrupted` and what
was cut is fetched by the next crawl (its validators are not saved). Responses already received
go on to be read and stored as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response


class CrawlStopped(IgnoreRequest):
    """The crawl was interrupted before this request's answer came: not an error of the site."""


@dataclass
class Downloads:
    """One crawl's downloads in flight, so a stop can cut them."""

    stopping: bool = False
    in_flight: set[asyncio.Task[Response]] = field(default_factory=set)

    def stop(self, crawlers: Iterable[Crawler]) -> None:
        """From the reactor thread: refuse new downloads, fail the queued, cancel the rest."""
        self.stopping = True
        for task in list(self.in_flight):
            task.cancel()
        for crawler in crawlers:
            for slot in crawler.engine.downloader.slots.values():
                while slot.queue:
                    request, queued = slot.queue.popleft()
                    queued.errback(CrawlStopped(f"not sent: {request.url}"))

    def check(self, request: Request) -> None:
        """Raise CrawlStopped when the crawl is stopping: this request must not be sent."""
        if self.stopping:
            raise CrawlStopped(f"not sent: {request.url}")


class StoppableDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, each download a task the crawl's `Downloads` can cancel."""

    async def download_request(self, request: Request) -> Response:
        spider: Any = self._crawler.spider
        downloads: Downloads = spider.job.context.downloads
        downloads.check(request)
        task = asyncio.ensure_future(super().download_request(request))
        downloads.in_flight.add(task)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # this download's caller was cancelled, not by a stop
            raise CrawlStopped(f"cut: {request.url}") from None
        finally:
            downloads.in_flight.discard(task)
