"""A local news site for tests and benchmarks: generated pages served on 127.0.0.1.

`NewsSite(articles=N)` generates a site that looks like a real one: RSS 2.0, RSS 1.0, RSS 0.91
and Atom feeds, a sitemap index with a Google News sitemap, a section listing page that
announces its feed, and article pages with navigation, a market ticker, a "most read" box and
comment counts full of numbers, JSON-LD, OpenGraph and bylines. `site.stage = 2` revises some
articles (their figures change), touches the page furniture of others (text unchanged) and adds
one article. There is a syndicated copy of article 1 under /wire/, a robots.txt that forbids
/private/, and a feed of broken links (bad encodings, empty and text-less pages, 404, 500,
timeouts, a redirect loop, an oversized page, an image). Every resource has an ETag and a
Last-Modified and answers conditional requests with 304. `site.hits` counts requests per path.

Pytest-free: use it from tests (see the fixtures in tests/test_spiders_*.py) or from bench/.

    with NewsSite(articles=20).serve() as site:
        site.url("/feeds/rss.xml")
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

SEOUL = timezone(timedelta(hours=9))
FIRST_PUBLISHED = datetime(2024, 11, 1, 9, 30, tzinfo=SEOUL)
SLOW_SECONDS = 5.0

WORDS = [
    "officials",
    "analysts",
    "ministry",
    "border",
    "report",
    "reported",
    "region",
    "army",
    "unit",
    "forces",
    "front",
    "line",
    "village",
    "city",
    "river",
    "bridge",
    "road",
    "supply",
    "convoy",
    "winter",
    "summer",
    "autumn",
    "spring",
    "talks",
    "envoy",
    "summit",
    "meeting",
    "statement",
    "briefing",
    "parliament",
    "committee",
    "council",
    "agency",
    "intelligence",
    "satellite",
    "images",
    "footage",
    "witnesses",
    "residents",
    "families",
    "farmers",
    "workers",
    "engineers",
    "doctors",
    "hospital",
    "school",
    "market",
    "harbour",
    "port",
    "rail",
    "station",
    "airport",
    "factory",
    "plant",
    "shipment",
    "cargo",
    "fuel",
    "grain",
    "rice",
    "wheat",
    "steel",
    "cable",
    "radio",
    "signal",
    "weather",
    "storm",
    "coast",
    "island",
    "valley",
    "hill",
    "north",
    "south",
    "east",
    "west",
    "central",
    "eastern",
    "western",
    "northern",
    "southern",
    "local",
    "regional",
    "national",
    "foreign",
    "domestic",
    "military",
    "civilian",
    "political",
    "economic",
    "quietly",
    "sharply",
    "slowly",
    "briefly",
    "openly",
    "privately",
    "recently",
    "later",
    "earlier",
    "again",
    "still",
    "already",
    "nearly",
    "largely",
    "mostly",
    "said",
    "told",
    "added",
    "noted",
    "warned",
    "claimed",
    "denied",
    "confirmed",
    "described",
    "suggested",
    "argued",
    "moved",
    "crossed",
    "reached",
    "entered",
    "left",
    "returned",
    "stayed",
    "gathered",
    "arrived",
    "departed",
    "expanded",
    "reduced",
    "delayed",
    "approved",
    "rejected",
    "signed",
    "drafted",
    "reviewed",
    "published",
    "released",
    "shared",
    "across",
    "through",
    "along",
    "near",
    "beyond",
    "within",
    "without",
    "around",
    "behind",
    "ahead",
    "despite",
    "amid",
    "heavy",
    "light",
    "new",
    "old",
    "long",
    "short",
    "large",
    "small",
    "early",
    "late",
    "rapid",
    "careful",
    "uncertain",
    "fresh",
]

NAV = ["World", "Politics", "Business", "Markets", "Tech", "Sport", "Culture", "Opinion"]
TICKER = "DOW 38,120.5 +0.4% · NASDAQ 16,742.39 -0.2% · KOSPI 2,563.51 +1.1% · USD/KRW 1,372.40"
ATTRIBUTIONS = ["South Korea's spy agency", "the Pentagon", "Ukrainian intelligence", "NATO"]
RAW_BROKEN = ["latin1", "nocharset", "empty", "missing", "error", "slow", "loop", "navonly"]
BROKEN = [*RAW_BROKEN, "huge", "image"]


@dataclass
class Page:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class Story:
    index: int
    slug: str
    title: str
    published: datetime
    troops: int
    paragraphs: tuple[str, ...]
    author: str
    date_style: str  # json-ld | opengraph | time

    @property
    def path(self) -> str:
        day = self.published.astimezone(UTC)
        return f"/world/{day:%Y/%m/%d}/{self.slug}.html"


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 22))]
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 4)))


class NewsSite:
    """The generated site and its HTTP server. Thread-safe counters; `stage` may change at any
    time between crawls."""

    def __init__(
        self,
        articles: int = 12,
        seed: int = 7,
        max_feed_items: int | None = None,
        furniture: int = 60,
    ) -> None:
        self.article_count = articles
        self.seed = seed
        self.max_feed_items = max_feed_items
        self.furniture = furniture  # menu links and teaser cards per page: real pages are heavy
        # when each stage's changes were made (Last-Modified, lastmod): real time, since the
        # crawler compares them with its own clock
        self.stage_times = {1: datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)}
        self._stage = 1
        self.hits: Counter[str] = Counter()
        self.conditional_hits: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.user_agents: set[str] = set()
        self.huge_size = 64 * 1024
        self.article_delay = 0.0  # seconds each article page waits before its answer
        self.in_flight = 0  # requests being answered now, and the most at once
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._stories = [self._story(i) for i in range(1, articles + 2)]  # +1: stage 2's new one
        self._render = lru_cache(maxsize=None)(self._render_uncached)

    # --- content ----------------------------------------------------------------------------

    def _story(self, index: int) -> Story:
        rng = random.Random(self.seed * 100_003 + index)
        words = [rng.choice(WORDS) for _ in range(4)]
        slug = "-".join(words) + f"-{index}"
        title = f"North Korean troops: {' '.join(words).capitalize()} ({index})"
        published = FIRST_PUBLISHED + timedelta(minutes=7 * index)
        paragraphs = tuple(_paragraph(rng) for _ in range(rng.randint(4, 6)))
        surname = rng.choice(["Kim", "Lee", "Park", "Choi", "Ivanova"])
        author = f"{surname} {rng.choice(['Min', 'Ji', 'Soo', 'Olga'])}-{index}"
        return Story(
            index,
            slug,
            title,
            published,
            3000 + 500 * (index % 7),
            paragraphs,
            author,
            ("json-ld", "opengraph", "time")[index % 3],
        )

    @property
    def stage(self) -> int:
        return self._stage

    @stage.setter
    def stage(self, stage: int) -> None:
        if stage not in self.stage_times:
            self.stage_times[stage] = datetime.now(UTC).replace(microsecond=0) + timedelta(
                seconds=1
            )
        self._stage = stage

    def stories(self, stage: int | None = None) -> list[Story]:
        """The articles published at this stage (stage 2 adds the last one)."""
        stage = self.stage if stage is None else stage
        count = self.article_count + (1 if stage >= 2 else 0)
        return self._stories[:count]

    def story(self, index: int) -> Story:
        return self._stories[index - 1]

    def is_revised(self, story: Story, stage: int) -> bool:
        """Articles whose text changes at stage 2: every fifth, from article 2."""
        return stage >= 2 and story.index % 5 == 2

    def is_touched(self, story: Story, stage: int) -> bool:
        """Articles whose page (not text) changes at stage 2: every fifth, from article 3."""
        return stage >= 2 and story.index % 5 == 3

    def troops(self, story: Story, stage: int | None = None) -> int:
        stage = self.stage if stage is None else stage
        return 12_000 if self.is_revised(story, stage) else story.troops

    def lead(self, story: Story, stage: int | None = None) -> str:
        """The article's first paragraph, with the figure the tests look for."""
        who = ATTRIBUTIONS[story.index % len(ATTRIBUTIONS)]
        return (
            f"North Korea has deployed about {self.troops(story, stage):,} troops to Russia's "
            f"Kursk region, {who} said on Monday."
        )

    def body_paragraphs(self, story: Story, stage: int | None = None) -> list[str]:
        return [self.lead(story, stage), *story.paragraphs]

    def url(self, path: str) -> str:
        if self._server is None:
            raise RuntimeError("the site is not being served; use `with site.serve():`")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    # --- pages ------------------------------------------------------------------------------

    def _article_html(self, story: Story, stage: int, copy: bool = False) -> str:
        others = [s for s in self.stories(stage) if s.index != story.index][:5]
        most_read = "".join(
            f'<li><a href="{s.path}">{escape(s.title)}</a> <span>{1200 + 37 * s.index:,} views'
            "</span></li>"
            for s in others
        )
        comments = 34 + story.index + (5 if self.is_touched(story, stage) else 0)
        published_utc = story.published.astimezone(UTC)
        modified = story.published + timedelta(days=3) if self.is_revised(story, stage) else None
        head = [f"<title>{escape(story.title)} | The Daily Local</title>"]
        path = f"/wire/{story.slug}.html" if copy else story.path
        head.append(f'<link rel="canonical" href="{path}?utm_source=canonical">')
        if story.date_style == "json-ld":
            data = {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": story.title,
                "datePublished": story.published.isoformat(),
                "author": [{"@type": "Person", "name": story.author}],
                "inLanguage": "en-GB",
            }
            if modified:
                data["dateModified"] = modified.isoformat()
            head.append(f'<script type="application/ld+json">{json.dumps(data)}</script>')
        elif story.date_style == "opengraph":
            head.append(f'<meta property="og:title" content="{escape(story.title)}">')
            head.append(
                f'<meta property="article:published_time" content="{story.published.isoformat()}">'
            )
            head.append(f'<meta name="author" content="{escape(story.author)}">')
        byline = (
            f'<p class="byline">By <a rel="author" href="/authors/{story.index}">'
            f"{escape(story.author)}</a></p>"
        )
        time_tag = (
            f'<time datetime="{published_utc:%Y-%m-%dT%H:%M:%SZ}">{published_utc:%d %B %Y}</time>'
        )
        if modified and story.date_style != "json-ld":
            time_tag += (
                f' · updated <time itemprop="dateModified" datetime="{modified.isoformat()}">'
            )
            time_tag += f"{modified:%d %B}</time>"
        paragraphs = self.body_paragraphs(story, stage)
        if copy:
            paragraphs = [
                f"SEOUL (Wire) - {paragraphs[0]}",
                *paragraphs[1:],
                "Reporting by the Wire desk.",
            ]
        body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        nav = "".join(f'<li><a href="/{n.lower()}/">{n}</a></li>' for n in NAV)
        return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">{"".join(head)}</head>
<body>
<header><nav><ul>{nav}</ul></nav><div class="ticker">{TICKER}</div></header>
<main>
<article>
<h1>{escape(story.title)}</h1>
{byline}
<div class="meta">{time_tag} · <a href="#comments">{comments} comments</a> · 4 min read</div>
<div class="article-body">{body}</div>
</article>
<aside class="most-read"><h2>Most read</h2><ol>{most_read}</ol></aside>
{self._teasers(story.index)}
<section id="comments" class="comments"><h2>{comments} comments</h2>
<div class="comment"><p>reader_{story.index}: I reckon it is more like 50,000 troops, 2 of my
friends said so.</p></div>
<div class="comment"><p>kp_watch: 1,000,000 people will read this and 3 will understand
it.</p></div>
</section>
</main>
<footer><p>© 2024 The Daily Local · 1 Main Street · Tel 555-0100 · 12 newsletters</p></footer>
</body></html>"""

    def _teasers(self, index: int) -> str:
        rng = random.Random(index)
        cards = "".join(
            f'<div class="card"><a href="/more/{index}-{n}/"><img src="/i/{n}.jpg" alt="">'
            f"<h3>{' '.join(rng.choice(WORDS) for _ in range(6)).capitalize()}</h3></a>"
            f'<span class="count">{rng.randint(2, 900)} comments</span></div>'
            for n in range(self.furniture)
        )
        return f'<section class="related"><h2>More stories</h2>{cards}</section>'

    def _listing_html(self, stage: int) -> str:
        stories = self.stories(stage)
        items = "".join(
            f'<li><a href="{s.path}?utm_source=listing&utm_medium=web#top">'
            f"{escape(s.title)}</a></li>"
            for s in reversed(stories)
        )
        wire = f'<li><a href="/wire/{self.story(1).slug}.html">From the wire</a></li>'
        private = (
            '<li><a href="/private/2024/11/04/members-only-story-briefing.html">Members</a></li>'
        )
        nav = "".join(f'<li><a href="/{n.lower()}/">{n}</a></li>' for n in NAV)
        return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>World</title>
<link rel="alternate" type="application/atom+xml" href="/feeds/atom.xml" title="World"></head>
<body><nav><ul>{nav}<li><a href="/tag/north-korea/">North Korea</a></li></ul></nav>
<main><ul class="stories">{items}{wire}{private}</ul></main></body></html>"""

    def _feed_stories(self, stage: int) -> list[Story]:
        stories = list(reversed(self.stories(stage)))
        return stories[: self.max_feed_items] if self.max_feed_items else stories

    def _rss2(self, stage: int) -> str:
        items = "".join(
            f"<item><title>{escape(s.title)}</title>"
            f"<link>{self.url(s.path)}?utm_source=rss&amp;utm_medium=feed</link>"
            f"<guid isPermaLink='false'>story-{s.index}</guid>"
            f"<pubDate>{format_datetime(s.published.astimezone(UTC))}</pubDate></item>"
            for s in self._feed_stories(stage)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>The Daily Local</title><link>{self.url('/')}</link>{items}</channel></rss>"
        )

    def _rss091(self, stage: int) -> str:
        items = "".join(
            f"<item><title>{escape(s.title)}</title><link>{self.url(s.path)}</link></item>"
            for s in self._feed_stories(stage)
        )
        return (
            '<?xml version="1.0"?><rss version="0.91"><channel><title>Daily Local</title>'
            f"<link>{self.url('/')}</link><description>news</description>{items}</channel></rss>"
        )

    def _rdf(self, stage: int) -> str:
        stories = self._feed_stories(stage)
        seq = "".join(f'<rdf:li rdf:resource="{self.url(s.path)}"/>' for s in stories)
        items = "".join(
            f'<item rdf:about="{self.url(s.path)}"><title>{escape(s.title)}</title>'
            f"<link>{self.url(s.path)}</link></item>"
            for s in stories
        )
        return (
            '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
            ' xmlns="http://purl.org/rss/1.0/">'
            f'<channel rdf:about="{self.url("/")}"><title>Daily Local</title>'
            f"<link>{self.url('/')}</link><items><rdf:Seq>{seq}</rdf:Seq></items></channel>"
            f"{items}</rdf:RDF>"
        )

    def _atom(self, stage: int) -> str:
        entries = "".join(
            f"<entry><title>{escape(s.title)}</title>"
            f'<link rel="alternate" href="{s.path}"/><id>tag:daily.local,2024:{s.index}</id>'
            f"<updated>{s.published.isoformat()}</updated></entry>"
            for s in self._feed_stories(stage)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{self.url("/")}">'
            f"<title>Daily Local</title><id>tag:daily.local,2024:feed</id>"
            f"<updated>{self.stage_times[stage].isoformat()}</updated>{entries}</feed>"
        )

    def _sitemap_index(self, stage: int) -> str:
        """Each child with its `lastmod`, as search engines ask: the news sitemap changes at
        stage 2, the archive never."""
        news_changed = self.stage_times[stage]
        maps = (
            f"<sitemap><loc>{self.url('/sitemap-news.xml')}</loc>"
            f"<lastmod>{news_changed.isoformat()}</lastmod></sitemap>"
            f"<sitemap><loc>{self.url('/sitemap-pages.xml.gz')}</loc>"
            f"<lastmod>{self.stage_times[1].isoformat()}</lastmod></sitemap>"
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{maps}</sitemapindex>'
        )

    def _news_sitemap(self, stage: int) -> str:
        urls = []
        for s in self.stories(stage):
            lastmod = self.stage_times[2] if self.is_revised(s, stage) else s.published
            urls.append(
                f"<url><loc>{self.url(s.path)}</loc><lastmod>{lastmod.isoformat()}</lastmod>"
                "<news:news><news:publication><news:name>Daily Local</news:name>"
                "<news:language>en</news:language></news:publication>"
                f"<news:publication_date>{s.published.isoformat()}</news:publication_date>"
                f"<news:title>{escape(s.title)}</news:title></news:news></url>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            + "".join(urls)
            + "</urlset>"
        )

    def _broken_feed(self) -> str:
        items = "".join(
            f"<item><title>{name}</title><link>{self.url(f'/broken/{name}.html')}</link></item>"
            for name in BROKEN
        )
        items += (
            f"<item><title>fine</title><link>{self.url(self.story(1).path)}</link></item>"
            f"<item><title>private</title>"
            f"<link>{self.url('/private/2024/11/04/members-only-story-briefing.html')}</link></item>"
        )
        head = '<?xml version="1.0"?><rss version="2.0"><channel><title>b</title>'
        return f"{head}{items}</channel></rss>"

    def _broken_page(self, name: str) -> Page:
        # article 1's page under another address, without its canonical link (else it would be
        # read, rightly, as article 1 again)
        story_html = re.sub(
            r'<link rel="canonical"[^>]*>', "", self._article_html(self.story(1), 1)
        )
        if name == "latin1":
            text = story_html.replace("Kursk", "Kürsk – café").replace("<h1>", "<h1>Latin-1: ")
            return Page(200, text.encode("latin-1", "replace"), "text/html; charset=utf-8")
        if name == "nocharset":
            text = story_html.replace('<meta charset="utf-8">', "").replace("Kursk", "Kürsk")
            text = text.replace("<h1>", "<h1>No charset: ")
            return Page(200, text.encode("cp1252", "replace"), "text/html")
        if name == "empty":
            return Page(200, b"", "text/html; charset=utf-8")
        if name == "missing":
            return Page(404, b"<h1>Not found</h1>", "text/html")
        if name == "error":
            return Page(500, b"<h1>Server error</h1>", "text/html")
        if name == "navonly":
            nav = "".join(f'<li><a href="/{n.lower()}/">{n}</a></li>' for n in NAV)
            return Page(
                200, f"<html><body><nav><ul>{nav}</ul></nav></body></html>".encode(), "text/html"
            )
        if name == "huge":
            filler = "<p>" + "padding " * 200 + "</p>"
            body = story_html.replace(
                "</article>", filler * (self.huge_size // len(filler) + 2) + "</article>"
            )
            return Page(200, body.encode(), "text/html; charset=utf-8")
        if name == "slow":  # a fine page, sent after SLOW_SECONDS (longer than tests' timeout)
            return Page(200, story_html.encode(), "text/html; charset=utf-8")
        if name == "image":
            return Page(200, b"\x89PNG\r\n\x1a\n" + bytes(2048), "image/png")
        raise KeyError(name)

    def _render_uncached(self, path: str, stage: int) -> Page | None:
        """The page at `path` at `stage` (None: 404). Pure: same input, same bytes."""
        xml = "application/xml; charset=utf-8"
        if path == "/robots.txt":
            return Page(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        if path in ("/world/", "/world"):
            return Page(200, self._listing_html(stage).encode(), "text/html; charset=utf-8")
        feeds = {
            "/feeds/rss.xml": (self._rss2, "application/rss+xml; charset=utf-8"),
            "/feeds/rss091.xml": (self._rss091, "application/rss+xml"),
            "/feeds/rdf.xml": (self._rdf, "application/rdf+xml"),
            "/feeds/atom.xml": (self._atom, "application/atom+xml; charset=utf-8"),
            "/sitemap-news.xml": (self._news_sitemap, xml),
        }
        if path in feeds:
            render, content_type = feeds[path]
            return Page(200, render(stage).encode(), content_type)
        if path == "/sitemap.xml":
            return Page(200, self._sitemap_index(stage).encode(), xml)
        if path == "/sitemap-pages.xml.gz":
            body = gzip.compress(self._news_sitemap(1).encode(), mtime=0)
            return Page(200, body, "application/x-gzip")
        if path == "/feeds/broken.xml":
            return Page(
                200, b'<?xml version="1.0"?><rss><channel><item><title>a &bad; <b>x</rss', xml
            )
        if path == "/feeds/broken-links.xml":
            return Page(200, self._broken_feed().encode(), xml)
        if path.startswith("/broken/") and path.endswith(".html"):
            name = path.removeprefix("/broken/").removesuffix(".html")
            return self._broken_page(name) if name in BROKEN else None
        if path.startswith("/wire/"):
            original = self.story(1)
            if path == f"/wire/{original.slug}.html":
                return Page(
                    200,
                    self._article_html(original, stage, copy=True).encode(),
                    "text/html; charset=utf-8",
                )
        by_path = {s.path: s for s in self.stories(stage)}
        if path in by_path:
            return Page(
                200, self._article_html(by_path[path], stage).encode(), "text/html; charset=utf-8"
            )
        if path.startswith("/private/"):
            return Page(200, self._article_html(self.story(1), stage).encode(), "text/html")
        return None

    def page(self, path: str) -> tuple[Page | None, int]:
        """The current page and the stage since which its bytes are unchanged."""
        stage = self.stage
        page = self._render(path, stage)
        since = stage
        while page is not None and since > 1:
            before = self._render(path, since - 1)
            if before is None or before.body != page.body:
                break
            since -= 1
        return page, since

    # --- serving ----------------------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._answer_one(handler)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer_one(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?", 1)[0].split("#", 1)[0]
        conditional = "If-None-Match" in handler.headers or "If-Modified-Since" in handler.headers
        with self._lock:
            self.hits[path] += 1
            if conditional:
                self.conditional_hits[path] += 1
            self.user_agents.add(handler.headers.get("User-Agent", ""))
        if path == "/broken/slow.html":
            time.sleep(SLOW_SECONDS)
        if self.article_delay and path.startswith("/world/20"):  # an article page
            time.sleep(self.article_delay)
        if path == "/broken/loop.html":
            handler.send_response(302)
            handler.send_header("Location", "/broken/loop.html")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        page, since = self.page(path)
        if page is None:
            page = Page(404, b"<html><body><h1>Not found</h1></body></html>", "text/html")
        etag = '"' + hashlib.sha1(page.body).hexdigest()[:16] + '"'
        modified = self.stage_times[since]
        if page.status == 200 and self._not_modified(handler, etag, modified):
            with self._lock:
                self.not_modified[path] += 1
            handler.send_response(304)
            handler.send_header("ETag", etag)
            handler.end_headers()
            return
        handler.send_response(page.status)
        handler.send_header("Content-Type", page.content_type)
        handler.send_header("Content-Length", str(len(page.body)))
        if page.status == 200:
            handler.send_header("ETag", etag)
            handler.send_header("Last-Modified", format_datetime(modified, usegmt=True))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(page.body)

    @staticmethod
    def _not_modified(handler: BaseHTTPRequestHandler, etag: str, modified: datetime) -> bool:
        if (tags := handler.headers.get("If-None-Match")) is not None:
            return etag in [t.strip() for t in tags.split(",")] or tags.strip() == "*"
        if (since := handler.headers.get("If-Modified-Since")) is not None:
            try:
                return modified <= parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
        return False

    @contextmanager
    def serve(self) -> Iterator[NewsSite]:
        """Serve on 127.0.0.1 on a port the OS picks, in a thread, for the block's duration."""
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
                site._answer(self)

            def do_HEAD(self) -> None:  # noqa: N802
                site._answer(self)

            def log_message(self, format: str, *args: object) -> None:
                return  # quiet: tests read `hits` instead

        class Server(ThreadingHTTPServer):
            request_queue_size = 128  # a crawler opens dozens of connections at once

            def handle_error(self, request: object, _client_address: object) -> None:
                return  # clients that hang up (timeouts, size limits) are part of the tests

        server = Server(("127.0.0.1", 0), Handler)
        self._render.cache_clear()  # pages hold absolute URLs with the port
        server.daemon_threads = True
        self._server = server
        thread = threading.Thread(target=server.serve_forever, name="newsite", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
            self._server = None

    def reset_counts(self) -> None:
        with self._lock:
            self.hits.clear()
            self.conditional_hits.clear()
            self.not_modified.clear()
            self.max_in_flight = 0
