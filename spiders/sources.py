"""One Scrapy spider class per source `type` (feed, sitemap, page), sharing what every source
does: a conditional request for the source document, then requests for the articles it lists
that are new, or fresh enough to be checked for revisions.

A source type is a settings class (a config.Source with `type: Literal["name"]`) and a
SourceSpider subclass that reads its document, made known with `register_source`; the built-in
settings classes live in config.py so that loading a config never imports Scrapy. Recipe:
docs/development.md, "Add a source type".
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
import scrapy
from lxml import etree
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from newsmon.clock import utcnow
from newsmon.config import SOURCE_TYPES, FeedSource, PageSource, SitemapSource, Source
from newsmon.spiders.article_page import parse_datetime
from newsmon.spiders.bodies import BodyTooLarge, gunzip_bounded, is_gzip
from newsmon.spiders.failures import failure_kind
from newsmon.spiders.jobs import SourceJob
from newsmon.spiders.reach import SAME_ORIGIN, on_origin
from newsmon.spiders.revisits import Known, decide_request
from newsmon.spiders.stopping import CrawlStopped
from newsmon.spiders.urls import looks_like_article, normalise_url
from newsmon.storage import articles as article_rows
from newsmon.storage.models import Article, SkippedArticle

log = logging.getLogger("newsmon.crawl")

HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")


@dataclass
class Link:
    """An article link found in a source document, with what the document says about it."""

    url: str
    modified: datetime | None = None


@dataclass
class FetchedPage:
    """The item handed to the pipeline: one article page as downloaded."""

    url: str  # normalised URL that was requested
    final_url: str  # after redirects
    html: str
    fetched_at: datetime
    etag: str | None
    last_modified: str | None
    listed_modified: datetime | None = None  # the sitemap's <lastmod>, dates a revision


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class SourceSpider(scrapy.Spider):
    name = "newsmon"
    source_type = ""  # set by register_source

    def __init__(self, job: SourceJob, **kwargs: Any) -> None:
        super().__init__(name=f"{self.source_type}:{job.source.name}", **kwargs)
        self.job = job
        # where the source is: its URL, and where that URL redirected to (http -> https, say)
        self.origins = [job.source.url]

    # --- the source document ---------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        headers = {}
        if self.job.etag:
            headers["If-None-Match"] = self.job.etag
        if self.job.last_modified:
            headers["If-Modified-Since"] = self.job.last_modified
        yield scrapy.Request(
            self.job.source.url,
            headers=headers,
            callback=self.parse_source,
            errback=self.source_failed,
            meta={"handle_httpstatus_list": [304]},
            dont_filter=True,
        )

    def parse_source(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status == 304:
            self.job.counts.not_modified += 1
            self.job.progress()
            return
        self.origins.append(response.url)
        self.job.new_etag = _header(response, "ETag")
        self.job.new_last_modified = _header(response, "Last-Modified")
        self.job.validators_changed = True
        yield from self.read_source(response)

    def read_source(self, response: Response) -> Iterator[scrapy.Request]:
        """Parse the document and yield requests (articles, or further source documents)."""
        raise NotImplementedError  # each source type's spider says how to read its document

    def document_request(self, url: str, reader: str, depth: int = 0) -> scrapy.Request:
        """A conditional request for a further document of the source (a feed its listing page
        announces, a child sitemap), read by the method named `reader` unless it is a 304."""
        etag, modified = self.job.documents.get(url, (None, None))
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        return scrapy.Request(
            url,
            headers=headers,
            callback=self.parse_document,
            errback=self.source_failed,
            cb_kwargs={"reader": reader, "key": url},
            meta={"handle_httpstatus_list": [304], "sitemap_depth": depth},
        )

    def parse_document(self, response: Response, reader: str, key: str) -> Iterator[scrapy.Request]:
        if response.status == 304:
            self.job.counts.not_modified += 1
            self.job.progress()
            return
        self.job.new_documents[key] = (
            _header(response, "ETag"),
            _header(response, "Last-Modified"),
        )
        yield from getattr(self, reader)(response)

    def source_failed(self, failure: Failure) -> None:
        if isinstance(failure.value, CrawlStopped):
            return  # cut by a stop signal: the run is `interrupted`, read again next time
        kind, description = failure_kind(failure)
        self.source_error(kind, _failed_request(failure).url, description)

    def source_error(self, kind: str, url: str, description: str) -> None:
        """The source document could not be read: the run fails, other sources carry on."""
        self.job.failed = self.job.failed or f"{url}: {description}"
        self.job.validators_changed = False  # read it in full next time
        self._count_error(kind, url, description)

    def inflated(self, response: Response) -> bytes | None:
        """The document's body, gunzipped (`.xml.gz`) within crawl.max_size; None when it
        cannot be read, counted and failing the source."""
        body = response.body
        if not is_gzip(body):
            return body
        try:
            return gunzip_bounded(body, self.job.context.config.crawl.max_size)
        except BodyTooLarge:
            self.source_error(
                "too_large", response.url, "larger than crawl.max_size once gunzipped"
            )
        except (OSError, EOFError):
            kind = "malformed_sitemap" if self.source_type == "sitemap" else "malformed_feed"
            self.source_error(kind, response.url, "broken gzip data")
        return None

    # --- articles ------------------------------------------------------------------------------

    def follow(self, links: Iterable[Link]) -> Iterator[scrapy.Request]:
        """Requests for the listed articles that are new or due for a revision check."""
        context = self.job.context
        wanted: dict[str, Link] = {}
        for link in links:
            url = normalise_url(link.url)
            if url.startswith(("http://", "https://")) and url not in context.requested:
                wanted.setdefault(url, link)
        with context.database.session() as session:
            # remembered off-topic articles count as known: unchanged, they cost nothing
            rows: dict[str, SkippedArticle | Article] = {
                **article_rows.skipped_by_url(session, wanted),
                **article_rows.articles_by_url(session, wanted),
            }
            known = {
                url: Known(
                    a.first_seen_at, a.last_checked_at, a.last_fetched_at, a.etag, a.last_modified
                )
                for url, a in rows.items()
            }
        now = utcnow()
        crawl = context.config.crawl
        same_origin = self.source_type == "page"
        left = 0
        # claimed all at once, before Scrapy consumes the requests lazily: another source's
        # listing read meanwhile must see these URLs as taken
        requests = []
        for url, link in _newest_first(wanted):
            decision = decide_request(
                known.get(url), link.modified, now, crawl.revisit_window, crawl.revisit_every
            )
            if context.refetch:
                decision = {}  # `crawl --refetch`: every listed article, unconditionally
            if decision is None:
                continue
            if self.job.articles_requested >= crawl.max_articles_per_source:
                left += 1  # older than what was taken: read by a later crawl
                continue
            self.job.articles_requested += 1
            context.requested.add(url)
            requests.append(
                scrapy.Request(
                    url,
                    headers=decision,
                    callback=self.parse_article,
                    errback=self.article_failed,
                    meta={
                        "handle_httpstatus_list": [304],
                        "article_url": url,
                        "listed_modified": link.modified,
                        SAME_ORIGIN: same_origin,  # redirects re-checked (spiders/reach.py)
                    },
                    dont_filter=True,  # deduplicated above; a redirect loop must reach its limit
                )
            )
        if left:
            self.limited(left, "article(s)", "crawl.max_articles_per_source")
        yield from requests

    def limited(self, left: int, what: str, setting: str) -> None:
        """A bound of the crawl was reached: counted once, the rest waits for the next crawl
        (the run is `limited`: validators are not saved, so the source is read again)."""
        self.job.left += left
        self._count_error("over_limit", self.job.source.url, f"{left} {what} left ({setting})")

    def parse_article(self, response: Response) -> Iterator[FetchedPage]:
        url = response.meta["article_url"]
        if response.status == 304:
            self.job.counts.not_modified += 1
            with self.job.context.database.session() as session:
                article_rows.mark_checked(session, url, utcnow())
            self.job.progress()
            return
        if not isinstance(response, TextResponse) or not _is_type(response, HTML_TYPES, True):
            self._count_error("not_html", url, f"not an HTML page ({_content_type(response)})")
            return
        yield FetchedPage(
            url=url,
            final_url=response.url,
            html=response.text,
            fetched_at=utcnow(),
            etag=_header(response, "ETag"),
            last_modified=_header(response, "Last-Modified"),
            listed_modified=response.meta.get("listed_modified"),
        )

    def article_failed(self, failure: Failure) -> None:
        if isinstance(failure.value, CrawlStopped):
            return  # cut by a stop signal: not stored, so fetched by the next crawl
        kind, description = failure_kind(failure)
        self._count_error(kind, _failed_request(failure).url, description)

    def _count_error(self, kind: str, url: str, description: str) -> None:
        self.job.counts.error(kind)
        self.job.first_error = self.job.first_error or f"{url}: {description}"
        name = self.job.source.name  # as a field too: the crawl engine logs many sources' lines
        log.warning("%s: %s: %s", name, url, description, extra={"source": name})
        self.job.progress()


def _content_type(response: Response) -> str:
    return (_header(response, "Content-Type") or "").split(";")[0].strip().lower()


def _is_type(response: Response, types: tuple[str, ...], missing_ok: bool) -> bool:
    content_type = _content_type(response)
    return (missing_ok and not content_type) or content_type in types


# --- feeds ---------------------------------------------------------------------------------------


class FeedSpider(SourceSpider):
    """RSS 0.9x/1.0/2.0 and Atom, read by feedparser (which copes with most broken XML)."""

    def read_source(self, response: Response) -> Iterator[scrapy.Request]:
        yield from self.read_feed(response)

    def read_feed(self, response: Response) -> Iterator[scrapy.Request]:
        body = self.inflated(response)
        if body is None:
            return
        if not body.strip():
            self.source_error("empty", response.url, "empty feed")
            return
        parsed = feedparser.parse(
            body,
            response_headers={"content-type": _header(response, "Content-Type") or ""},
        )
        if not parsed.version and not parsed.entries:
            problem = parsed.get("bozo_exception") or "not an RSS or Atom feed"
            self.source_error("malformed_feed", response.url, f"unreadable feed: {problem}")
            return
        if parsed.bozo and not isinstance(
            parsed.bozo_exception, feedparser.CharacterEncodingOverride
        ):
            # feedparser read what it could; say so once, and follow what it read
            self._count_error(
                "malformed_feed", response.url, f"malformed feed: {parsed.bozo_exception}"
            )
        links = []
        for entry in parsed.entries:
            href = entry.get("link") or _first_alternate(entry)
            if href:
                modified = parse_datetime(entry.get("updated") or entry.get("published"))
                links.append(Link(normalise_url(href, base=response.url), modified))
        yield from self.follow(links)


def _first_alternate(entry: Any) -> str | None:
    for link in entry.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    guid = entry.get("id")
    return guid if isinstance(guid, str) and guid.startswith(("http://", "https://")) else None


# --- sitemaps ------------------------------------------------------------------------------------

_XML_PARSER = etree.XMLParser(
    recover=True, resolve_entities=False, no_network=True, remove_comments=True
)


class SitemapSpider(SourceSpider):
    """Sitemap indexes (each child sitemap is read) and url sets, Google News ones included
    (`news:publication_date` and `lastmod` say when an entry changed)."""

    def read_source(self, response: Response) -> Iterator[scrapy.Request]:
        body = self.inflated(response)
        if body is None:
            return
        root = etree.fromstring(body, _XML_PARSER) if body.strip() else None
        if root is None:
            self.source_error("malformed_sitemap", response.url, "not an XML sitemap")
            return
        kind = etree.QName(root).localname
        if kind == "sitemapindex":
            depth = response.meta.get("sitemap_depth", 0) + 1
            yield from self.read_index(root, response.url, depth)
        elif kind == "urlset":
            yield from self.follow(_locs(root, "url"))
        else:
            self.source_error("malformed_sitemap", response.url, f"unexpected <{kind}> root")

    def read_index(self, root: etree._Element, url: str, depth: int) -> Iterator[scrapy.Request]:
        """The index's children, newest first, within the crawl's depth and count bounds."""
        crawl = self.job.context.config.crawl
        if depth > crawl.max_sitemap_depth:
            # deeper than configured: never read (a later crawl would meet the same depth)
            self._count_error("over_limit", url, f"sitemap index nested deeper than "
                              f"crawl.max_sitemap_depth ({crawl.max_sitemap_depth})")  # fmt: skip
            return
        since = self.job.previous_run_at
        left = 0
        for loc in [
            link for _, link in _newest_first({loc.url: loc for loc in _locs(root, "sitemap")})
        ]:
            if since is not None and loc.modified is not None and loc.modified < since:
                continue  # its <lastmod> says it has not changed since our last run
            if self.job.sitemap_children >= crawl.max_sitemap_children:
                left += 1
                continue
            self.job.sitemap_children += 1
            yield self.document_request(normalise_url(loc.url, base=url), "read_source", depth)
        if left:
            self.limited(left, "child sitemap(s)", "crawl.max_sitemap_children")


def _newest_first(links: dict[str, Link]) -> list[tuple[str, Link]]:
    """Dated links newest first, then undated ones in document order (feeds list newest
    first): what a bounded crawl reads first."""
    return sorted(
        links.items(),
        key=lambda item: (item[1].modified is None, -(item[1].modified or _EPOCH).timestamp()),
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _locs(root: etree._Element, element: str) -> list[Link]:
    links = []
    for node in root:
        if not isinstance(node.tag, str) or etree.QName(node).localname != element:
            continue
        fields: dict[str, str] = {}
        for child in node.iter():
            if isinstance(child.tag, str) and child.text and child.text.strip():
                fields.setdefault(etree.QName(child).localname, child.text.strip())
        if "loc" in fields:
            modified = parse_datetime(fields.get("lastmod") or fields.get("publication_date"))
            links.append(Link(fields["loc"], modified))
    return links


# --- listing pages -------------------------------------------------------------------------------


class PageSpider(SourceSpider):
    """An HTML section page: article links by the source's `follow` pattern, else by the
    same-site, article-like-path heuristic; feeds it announces (`<link rel=alternate>`) are
    read too."""

    def read_source(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse) or not _is_type(response, HTML_TYPES, True):
            self.source_error("not_html", response.url, "listing page is not HTML")
            return
        follow = re.compile(self.job.source.follow) if self.job.source.follow else None
        links = []
        for href in response.css("a::attr(href)").getall():
            url = normalise_url(href, base=response.url)
            if not self.on_site(url):
                continue  # another site, or another port of this host: not what was meant
            if follow is not None:
                if follow.search(url):
                    links.append(Link(url))
            elif looks_like_article(url, response.url):
                links.append(Link(url))
        yield from self.follow(links)
        for node in response.css('link[rel~="alternate"]'):
            feed_type = (node.attrib.get("type") or "").lower()
            announced = node.attrib.get("href")
            if announced and feed_type in FEED_TYPES:
                url = normalise_url(announced, base=response.url)
                if self.on_site(url):
                    yield self.document_request(url, "read_feed")

    read_feed = FeedSpider.read_feed

    def on_site(self, url: str) -> bool:
        return any(on_origin(url, at, self.job.source.allowed_hosts) for at in self.origins)


def _failed_request(failure: Failure) -> scrapy.Request:
    # Scrapy hands an errback a Failure with the request set on it, an attribute twisted's
    # Failure does not declare
    request: scrapy.Request = failure.request  # type: ignore[attr-defined]
    return request


SPIDERS: dict[str, type[SourceSpider]] = {}


def register_source(settings: type[Source], spider: type[SourceSpider]) -> None:
    """Make a source type known: config.yaml accepts its `type:` (validated by `settings`) and
    a crawl reads such a source with `spider`."""
    name = SOURCE_TYPES.register(settings)
    spider.source_type = name
    SPIDERS[name] = spider


register_source(FeedSource, FeedSpider)
register_source(SitemapSource, SitemapSpider)
register_source(PageSource, PageSpider)
