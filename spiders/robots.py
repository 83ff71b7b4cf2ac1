"""robots.txt once per site, not once per source: Scrapy's RobotsTxtMiddleware keeps its parsers
per crawler, and newsmon runs one crawler per source, so 20 feeds on one site meant 20 robots.txt
requests per crawl. Here every crawler of a crawl shares one table of parsers (a second source
waits for the first one's download), and copies fetched earlier are reused until they expire
(the response's Cache-Control max-age, at most 24 h, as RFC 9309 asks).

A robots.txt that cannot be fetched (connection error, 5xx) allows everything for this crawl, as
Scrapy does, and is not remembered: the next crawl asks again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler

MAX_AGE = timedelta(hours=24)
_MAX_AGE = re.compile(rb"max-age\s*=\s*(\d+)", re.IGNORECASE)


@dataclass
class RobotsCache:
    """One crawl's robots.txt parsers by host[:port], shared by every source's crawler."""

    now: datetime
    stored: dict[str, bytes] = field(default_factory=dict)  # fresh copies from earlier crawls
    parsers: dict[str, Any] = field(default_factory=dict)  # Scrapy's table, shared
    fetched: dict[str, tuple[bytes, datetime]] = field(default_factory=dict)  # to remember

    def expiry(self, response: Response) -> datetime:
        header = response.headers.get(b"Cache-Control") or b""
        match = _MAX_AGE.search(header)
        age = timedelta(seconds=int(match.group(1))) if match else MAX_AGE
        return self.now + min(age, MAX_AGE)


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._cache: RobotsCache = crawler.spider.job.context.robots  # type: ignore[union-attr]
        self._parsers = self._cache.parsers

    async def robot_parser(self, request: Request) -> Any:
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers and netloc in self._cache.stored:
            self._parsers[netloc] = build_from_crawler(
                self._parserimpl, self.crawler, self._cache.stored[netloc]
            )
        return await super().robot_parser(request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status < 500:  # a 4xx allows everything; a 5xx is asked again next time
            self._cache.fetched[netloc] = (response.body, self._cache.expiry(response))
        await super()._parse_robots(response, netloc, request)
