"""URL normalisation, so that one article has one row whatever link led to it."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# query parameters that say who sent the reader, not which page it is
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid|_ga|_gl"
    r"|ocid|cmpid|ito|at_medium|at_campaign|at_custom\d*|smid|sr_share|share|ref|ref_src"
    r"|__twitter_impression|rss|CMP|cmp)$",
    re.IGNORECASE,
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_url(url: str, base: str | None = None) -> str:
    """Absolute, lower-case scheme and host, no default port, no fragment, no tracking
    parameters, an empty path as "/"; everything else (path case, parameter order) kept, since
    servers may care about it."""
    if base is not None:
        url = urljoin(base, url.strip())
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    netloc = host
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{parts.port}"
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not TRACKING_PARAMS.match(k)
        ]
    )
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def site_of(url: str) -> str:
    """The host without a leading "www.", for "same site" decisions."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def same_site(url: str, other: str) -> bool:
    return site_of(url) == site_of(other)


# path segments of pages that are not articles: sections, tags, authors, feeds, static files
NOT_ARTICLE = re.compile(
    r"(/(tag|tags|topic|topics|category|categories|section|author|authors|page|search|login"
    r"|subscribe|account|about|contact|privacy|terms|feed|rss|video|videos|gallery)(/|$))"
    r"|\.(css|js|png|jpe?g|gif|svg|webp|pdf|xml|rss|atom|json|zip|mp3|mp4)$",
    re.IGNORECASE,
)
ARTICLE_HINT = re.compile(
    r"/(19|20)\d\d/[01]?\d/"  # a date in the path
    r"|/(article|articles|story|stories|news|\w+-news)/[^/]+"
    r"|/[^/]*\d{5,}[^/]*/?$"  # a long numeric id
    r"|/[a-z0-9]+(-[a-z0-9]+){3,}(\.html?)?/?$",  # a slug of four or more words
    re.IGNORECASE,
)


def looks_like_article(url: str, listing_url: str) -> bool:
    """The heuristic for `page` sources without `follow`: same site, an article-like path."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not same_site(url, listing_url):
        return False
    if normalise_url(url) == normalise_url(listing_url) or NOT_ARTICLE.search(parts.path):
        return False
    return bool(ARTICLE_HINT.search(parts.path))
