"""Article extraction: main text and metadata from one HTML page. The one place this is done;
the crawl (in worker processes) and `newsmon extract` both call `extract_article`.

Text: trafilatura with
- `include_comments=False`: reader comments are not reporting, and they are full of numbers;
- `include_tables=False`: tables on news pages are mostly market tickers, league tables and
  "most read" boxes; figures are read from sentences, which tables do not hold;
- `favor_precision=True`: we would rather lose a borderline paragraph than read page furniture
  (tickers, teasers, comment counts) as reporting, since every stray number is a false figure;
- `fast=False`: trafilatura's own readability/jusText fallback stays on. With `fast=True`, a
  held-out set of 181 real news pages scored F1 0.944 against 0.964 and three pages came out
  empty (issue 12); the small real-page set in bench/textset cannot show a difference either way
  (bench/text_quality.py), so the measured loss decides; it costs ~50% more time per page;
- `deduplicate=False`: trafilatura's cross-document cache would make one page's text depend on
  which pages the same worker saw before;
- `include_links/images/formatting=False`: plain text, whose offsets figures point into.
Then furniture lines it keeps are left out (spiders/furniture.py, with what the page shows
around them: `PageSignals`), a teaser card it opens with goes (spiders/teasers.py), a lead
paragraph it dropped before the body is put back (spiders/lead.py), and when nothing is left
a second reading tries the page's JSON-LD body, trafilatura without `favor_precision`, the
<article> paragraphs and trafilatura's baseline (`second_reading`). A page the crawl reads was
listed as an article by its feed, sitemap or listing, so text is never refused for looking
unlike one: an empty result would silently drop an article's figures, a non-article's text
rarely holds a sentence with one.

Metadata, most reliable first: JSON-LD (`NewsArticle` and kin), OpenGraph/`article:*` meta,
`<time datetime>`/`itemprop`, then trafilatura's own (htmldate for dates). Datetimes are
timezone-aware UTC; a time without an offset is taken as UTC, a bare date as midnight UTC.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import trafilatura
from lxml import html as lxml_html
from trafilatura.metadata import examine_meta, extract_meta_json, extract_title
from trafilatura.utils import load_html

from newsmon.clock import iso
from newsmon.errors import NewsmonError
from newsmon.spiders.furniture import squash, strip_furniture
from newsmon.spiders.lead import restore_lead
from newsmon.spiders.teasers import drop_leading_teasers
from newsmon.spiders.urls import normalise_url, same_site

log = logging.getLogger("newsmon.extract")

ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenews",
    "analysisnewsarticle",
    "backgroundnewsarticle",
    "opinionnewsarticle",
    "reviewnewsarticle",
    "blogposting",
    "liveblogposting",
    "report",
    "webpage",
}
TRAFILATURA_OPTIONS: dict[str, Any] = {
    "fast": False,
    "favor_precision": True,
    "include_comments": False,
    "include_tables": False,
    "include_images": False,
    "include_links": False,
    "include_formatting": False,
    "deduplicate": False,
}

DATE_SEARCH: dict[str, Any] = {"extensive_search": True, "original_date": True}  # htmldate's


class ExtractionError(NewsmonError):
    """A page newsmon cannot read an article from; `kind` is the error count's name."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class ArticleRecord:
    """What newsmon reads from one article page."""

    url: str | None  # canonical, normalised (None: a local file without a canonical link)
    title: str | None
    authors: list[str]
    published: datetime | None
    modified: datetime | None
    language: str | None
    text: str
    figures: list[Any] = field(default_factory=list)  # figures.Figure, when extracted
    simhash: int | None = None  # computed with the figures, off the crawl's reactor thread

    @property
    def text_hash(self) -> str:
        return text_hash(self.text)

    def to_json(self, source: str) -> dict[str, Any]:
        return {
            "source": source,
            "url": self.url,
            "title": self.title,
            "authors": self.authors,
            "published": _iso(self.published),
            "modified": _iso(self.modified),
            "language": self.language,
            "text": self.text,
            "figures": [figure.to_dict() for figure in self.figures],
        }


def _iso(moment: datetime | None) -> str | None:
    # `newsmon extract` writes UTC as "Z", the form its JSON has always had
    text = iso(moment)
    return text.replace("+00:00", "Z") if text else None


def normalise_text(text: str) -> str:
    """NFC, one space between words, one newline between paragraphs."""
    text = unicodedata.normalize("NFC", text)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def text_hash(text: str) -> str:
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def extract_article(html: bytes | str, url: str | None) -> ArticleRecord:
    """Read one article page fetched from `url` (None: a local file, whose canonical link is
    taken whatever its site). Raises ExtractionError (kind `empty`, `not_html`, `no_text`)."""
    if not (html.strip() if isinstance(html, str) else html.strip()):
        raise ExtractionError("empty", "empty page")
    tree = load_html(html)
    if tree is None:
        raise ExtractionError("not_html", "not an HTML page")
    meta = read_metadata(tree, url)
    # trafilatura's metadata (htmldate's date search above all) costs about a third of the
    # extraction and only fills what the page's own metadata leaves empty: run it only when
    # authors or date are missing (without a URL, trafilatura also takes the page's URL from
    # it); a missing title alone is looked up the way trafilatura does, for much less
    full = url is None or not (meta.authors and meta.published)
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=full,
        date_extraction_params=DATE_SEARCH,
        **TRAFILATURA_OPTIONS,
    )
    # a Document: the dict in its return type is for as_dict=True, which this does not pass
    assert not isinstance(document, dict)
    title = meta.title or (document.title if full and document else _trafilatura_title(tree))
    page = PageSignals.of(tree, title)
    text = _body(document.text if document is not None else None, page)
    if text:
        text = drop_leading_teasers(text, tree, page.controls, page.is_headline)
        text = restore_lead(text, tree, page.is_headline)
    if not text:
        # a second reading when trafilatura finds nothing: the body the page declares, else
        # trafilatura without its precision bias, the paragraphs of its <article>, its baseline
        text = _body(second_reading(tree, url, page), page)
    if not text:
        raise ExtractionError("no_text", "no article text found")
    authors = meta.authors or _split_authors(document.author if document else None)
    published = meta.published or parse_datetime(document.date if document else None)
    return ArticleRecord(
        url=meta.canonical or (normalise_url(url) if url else None),
        title=" ".join(title.split()) if title else None,
        authors=authors,
        published=published,
        modified=meta.modified,
        language=meta.language,
        text=text,
    )


@dataclass(frozen=True)
class PageSignals:
    """What the page shows around its text, for telling furniture and headlines from the body:
    its headlines (the article's title, og:title, <title>), the texts of its links and buttons,
    the lines of its code blocks and the texts of its comment forms (their rules and labels)."""

    headlines: tuple[str, ...]
    controls: frozenset[str]
    code: frozenset[str]
    comment_form: frozenset[str] = frozenset()

    @classmethod
    def of(cls, tree: lxml_html.HtmlElement, title: str | None) -> PageSignals:
        found = [title or "", *tree.xpath("//title/text()")]
        found += tree.xpath('//meta[@property="og:title" or @name="twitter:title"]/@content')
        headlines = tuple({squash(h) for h in found if len(squash(h)) >= MIN_HEADLINE_CHARS})
        controls = frozenset(squash(node.text_content()) for node in tree.xpath("//a | //button"))
        code = frozenset(
            squash(line)
            for node in tree.xpath("//pre | //code")
            for line in node.text_content().splitlines()
        )
        # the innermost block named "comment" that holds a form: a comment form with its rules
        # ("comments are the readers' opinion"), which trafilatura may keep as a list
        boxes = tree.xpath(
            "//*[(contains(@id, 'comment') or contains(@class, 'comment'))"
            " and .//form and not(.//*[(contains(@id, 'comment') or contains(@class, 'comment'))"
            " and .//form])]"
        )
        comment_form = frozenset(
            squash(node.text_content()) for box in boxes for node in box.iter()
        )
        return cls(headlines, controls, code, comment_form - {""})

    def is_headline(self, line: str) -> bool:
        """The line repeats a headline: it is one, or holds one and little else (a headline
        with the site's name, a kicker)."""
        return any(
            line in headline or (headline in line and len(line) <= 1.5 * len(headline))
            for headline in self.headlines
        )


MIN_HEADLINE_CHARS = 15  # shorter "headlines" are site names and labels, found in any line
NO_PAGE = PageSignals((), frozenset(), frozenset())


def _body(found: str | None, page: PageSignals = NO_PAGE) -> str:
    """A reading's text, normalised, without the headline repeated as its first line and
    without furniture lines (spiders/furniture.py)."""
    text = normalise_text(found or "")
    first = text.split("\n", 1)[0]
    if first and len(first) <= MAX_HEADLINE_CHARS and page.is_headline(first):
        text = text.partition("\n")[2]
    if page.comment_form:
        text = "\n".join(
            line for line in text.split("\n") if line.removeprefix("- ") not in page.comment_form
        )
    return strip_furniture(text, page.controls if page is not NO_PAGE else None, page.code)


MAX_HEADLINE_CHARS = 300
MIN_FALLBACK_CHARS = 200  # shorter: a teaser or a caption, not an article


def second_reading(
    tree: lxml_html.HtmlElement, url: str | None, page: PageSignals = NO_PAGE
) -> str:
    """The article text when trafilatura's precise reading returned none, the first plausible
    one of: JSON-LD `articleBody` (the body the page declares), trafilatura without
    `favor_precision`, the paragraphs inside <article>, trafilatura's baseline (which reads the
    page's <p> elements; never the whole page, which is furniture); "" when none holds an
    article."""
    for node in _json_ld_articles(tree):
        body = node.get("articleBody")
        if isinstance(body, str):
            text = normalise_text(
                lxml_html.fromstring(body).text_content() if "<" in body else body
            )
            if len(text) >= MIN_FALLBACK_CHARS:
                return text
    options = {**TRAFILATURA_OPTIONS, "favor_precision": False}
    readings: tuple[Callable[[], str], ...] = (
        lambda: trafilatura.extract(tree, url=url, with_metadata=False, **options) or "",
        lambda: "\n".join(p.text_content() for p in tree.xpath("//article//p")),
        lambda: trafilatura.baseline(tree)[1],
    )
    for read in readings:
        text = _body(read(), page)
        if len(text) >= MIN_FALLBACK_CHARS:
            return text
    return ""


def _trafilatura_title(tree: lxml_html.HtmlElement) -> str | None:
    """The title trafilatura's metadata would give (meta tags, JSON-LD, then the page), without
    the rest of its metadata: its steps for the title, in its order."""
    found = examine_meta(tree)
    try:
        found = extract_meta_json(tree, found)
    except Exception as exc:  # noqa: BLE001 - trafilatura guards this step alike, and goes on
        log.debug("JSON-LD unreadable for trafilatura: %s", exc)
    return found.title or extract_title(tree)


@dataclass
class PageMetadata:
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None
    modified: datetime | None = None
    language: str | None = None
    canonical: str | None = None


def read_metadata(tree: lxml_html.HtmlElement, url: str | None) -> PageMetadata:
    meta = PageMetadata()
    for node in _json_ld_articles(tree):
        meta.title = meta.title or _text(node.get("headline") or node.get("name"))
        meta.authors = meta.authors or _authors(node.get("author"))
        meta.published = meta.published or parse_datetime(node.get("datePublished"))
        meta.modified = meta.modified or parse_datetime(node.get("dateModified"))
        meta.language = meta.language or _language(node.get("inLanguage"))
    metas = _meta_tags(tree)
    meta.title = meta.title or metas.get("og:title") or metas.get("twitter:title")
    if not meta.authors and metas.get("author"):
        meta.authors = _split_authors(metas["author"])
    meta.published = meta.published or _first_datetime(
        metas, "article:published_time", "og:published_time", "pubdate", "date", "dc.date"
    )
    meta.modified = meta.modified or _first_datetime(
        metas, "article:modified_time", "og:updated_time", "lastmod", "dc.date.modified"
    )
    for prop, attr in (("datePublished", "published"), ("dateModified", "modified")):
        if getattr(meta, attr) is None:
            for node in tree.xpath(f'//*[@itemprop="{prop}"]'):
                moment = parse_datetime(node.get("datetime") or node.get("content"))
                if moment:
                    setattr(meta, attr, moment)
                    break
    if meta.published is None:
        for node in tree.xpath("//article//time[@datetime] | //main//time[@datetime]"):
            if (moment := parse_datetime(node.get("datetime"))) is not None:
                meta.published = moment
                break
    if not meta.authors:
        names = tree.xpath('//*[@rel="author" or @itemprop="author" or @class="byline-name"]')
        meta.authors = _unique(" ".join(n.text_content().split()) for n in names)
    meta.language = (
        meta.language
        or _language(tree.get("lang"))
        or _language(metas.get("content-language"))
        or _language(metas.get("og:locale"))
    )
    meta.canonical = _canonical(tree, metas, url)
    return meta


def _json_ld_articles(tree: lxml_html.HtmlElement) -> Iterator[dict[str, Any]]:
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue  # broken JSON-LD is common; the other sources of metadata remain
        for node in _walk(data):
            types = node.get("@type")
            types = types if isinstance(types, list) else [types]
            if any(isinstance(t, str) and t.lower() in ARTICLE_TYPES for t in types):
                yield node


def _walk(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _walk(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _walk(data["@graph"])


def _meta_tags(tree: lxml_html.HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in tree.xpath("//meta[@content]"):
        key = node.get("property") or node.get("name") or node.get("http-equiv") or ""
        key = key.strip().lower()
        if key and key not in found and node.get("content", "").strip():
            found[key] = node.get("content").strip()
    return found


def _first_datetime(metas: dict[str, str], *keys: str) -> datetime | None:
    for key in keys:
        if (moment := parse_datetime(metas.get(key))) is not None:
            return moment
    return None


def _canonical(tree: lxml_html.HtmlElement, metas: dict[str, str], url: str | None) -> str | None:
    """The canonical link (else og:url), when it stays on the same site: a link to another
    site is a syndication credit, and merging the copy into the original would hide it."""
    links = tree.xpath('//link[@rel="canonical"]/@href') or [metas.get("og:url") or ""]
    href = links[0].strip()
    if not href:
        return None
    candidate = normalise_url(href, base=url)
    if not candidate.startswith(("http://", "https://")):
        return None
    if url is not None and not same_site(candidate, url):
        return None
    return candidate


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 (with or without offset), RFC 2822 or a bare date, as aware UTC; else None."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            moment = datetime.fromisoformat(re.sub(r"(\d)\s*([+-]\d\d)(\d\d)$", r"\1\2:\3", text))
        except ValueError:
            try:
                moment = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not 1990 <= moment.year <= 2100:
        return None
    return moment.astimezone(UTC)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _authors(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("name")
        if isinstance(item, str):
            names.extend(_split_authors(item))
    return _unique(names)


def _split_authors(value: str | None) -> list[str]:
    if not value or value.startswith(("http://", "https://")):
        return []
    parts = re.split(r";|,|\band\b", re.sub(r"^\s*by\s+", "", value, flags=re.IGNORECASE))
    return _unique(" ".join(part.split()) for part in parts)


def _unique(names: Iterator[str] | list[str]) -> list[str]:
    seen: list[str] = []
    for name in names:
        if name and name not in seen:
            seen.append(name)
    return seen


def _language(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("alternateName") or value.get("name")
    if not isinstance(value, str) or not re.match(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$", value):
        return None
    return re.split(r"[-_]", value.strip())[0].lower()


def text_record(text: str) -> ArticleRecord:
    """Plain text given as is (`newsmon extract --text`): no page, so no metadata."""
    body = normalise_text(text)
    if not body:
        raise ExtractionError("empty", "no text")
    return ArticleRecord(None, None, [], None, None, None, body)
