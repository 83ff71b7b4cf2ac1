"""A poll's deadline on the wire: each request's download timeout is cut to the time the poll
has left (`CrawlContext.deadline`, set by the daemon's crawl engine from `daemon.crawl_timeout`).

Stopping a Scrapy crawler waits for the downloads in flight, and a host that never answers holds
one until `crawl.timeout`; with this, a hung source ends at the poll timeout and the engine
goes on with the other polls.
"""

from __future__ import annotations

import time
from typing import Any, Self

from scrapy.crawler import Crawler

MIN_TIMEOUT = 0.5  # a request started at the deadline still gets a moment to fail cleanly


class PollDeadline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Any) -> None:
        deadline = self.crawler.spider.job.context.deadline  # type: ignore[union-attr]
        if deadline is None:
            return None
        left = max(MIN_TIMEOUT, deadline - time.time())
        current = request.meta.get(
            "download_timeout", self.crawler.settings.getfloat("DOWNLOAD_TIMEOUT")
        )
        request.meta["download_timeout"] = min(float(current), left)
        return None
