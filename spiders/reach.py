"""What a source may request (issue 13): nothing the operator did not mean.

- No request goes to a loopback, private, link-local, cloud-metadata or otherwise non-global
  address. The check is made on the address the host name resolves to, through the reactor's
  resolver, whose cache (Scrapy's DNS cache) is what the connection then uses; the answer's
  `ip_address` is checked again, so a name that changes its answer in between is still refused.
  Exempt: the source's own host (the operator named it: local test sites keep working) and
  everything when `crawl.allow_private_addresses` is true.
- Articles of a `page` source, and every redirect on the way to them, stay on the source's own
  scheme+host+port (that of its URL, or of where its URL redirected), or on a host of its
  `allowed_hosts`. Feed and sitemap items may be on any
  public host (outlets list their articles on several hosts of their own).
"""

from __future__ import annotations

import ipaddress
from typing import Self
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future

from newsmon.spiders.urls import DEFAULT_PORTS

SAME_ORIGIN = "newsmon_same_origin"  # request meta: this request must stay on the source's origin


class RefusedRequest(IgnoreRequest):
    """A request newsmon will not make; `kind` is what the run record counts."""

    def __init__(self, kind: str, description: str) -> None:
        super().__init__(description)
        self.kind = kind
        self.description = description


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme)


def on_origin(url: str, source_url: str, allowed_hosts: list[str]) -> bool:
    """Same scheme+host+port as the source, or a host (`host` or `host:port`) it allows."""
    if origin(url) == origin(source_url):
        return True
    scheme, host, port = origin(url)
    if scheme not in DEFAULT_PORTS:
        return False
    allowed = {entry.lower() for entry in allowed_hosts}
    return f"{host}:{port}" in allowed or (port == DEFAULT_PORTS[scheme] and host in allowed)


def is_internal(address: str) -> bool:
    """Loopback, private, link-local (169.254.169.254, the cloud metadata address, is one),
    shared, reserved, multicast or unspecified: anything that is not a global address."""
    ip = ipaddress.ip_address(address.strip("[]").split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class AddressGuard:
    """Downloader middleware: refuses what the rules above forbid, redirects included (a
    redirect comes back through `process_request` with the first request's meta)."""

    def __init__(self, crawler: Crawler) -> None:
        self.spider = crawler.spider
        job = crawler.spider.job  # type: ignore[union-attr]
        self.allowed_hosts: list[str] = job.source.allowed_hosts
        self.source_host = origin(job.source.url)[1]
        self.allow_private: bool = job.context.config.crawl.allow_private_addresses

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        origins: list[str] = self.spider.origins  # type: ignore[union-attr]
        if request.meta.get(SAME_ORIGIN) and not any(
            on_origin(request.url, at, self.allowed_hosts) for at in origins
        ):
            raise RefusedRequest("off_site", "not on the source's own site: not followed")
        host = origin(request.url)[1]
        if self.allow_private or host == self.source_host:
            return
        if _is_ip(host):
            address = host
        else:
            from twisted.internet import reactor

            # the reactor's resolver is Scrapy's caching one: the connection reuses this answer
            # twisted declares interface methods without self, which mypy reads without zope's
            # plugin: it takes `host` for `timeout`
            address = await maybe_deferred_to_future(reactor.resolve(host))  # type: ignore[arg-type]
        if is_internal(address):
            raise RefusedRequest("internal_address", f"refused: {host} is an internal address")

    def process_response(self, request: Request, response: Response) -> Response:
        host = origin(request.url)[1]
        ip = response.ip_address
        if not self.allow_private and host != self.source_host and ip and is_internal(str(ip)):
            raise RefusedRequest("internal_address", f"refused: {host} is an internal address")
        return response
