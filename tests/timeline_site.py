"""A local news site for the alerts-over-time acceptance tests: one RSS feed per outlet
(newest first, as feeds are) and article pages with JSON-LD dates, served on 127.0.0.1.

Older articles answer more slowly, so downloads finish newest first: the order in which a
backlog is stored is the reverse of its publication order, as on a real first crawl."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from peers import page_server

FILLER = [
    "The deployment has alarmed officials in Seoul and Kyiv, who have traded intelligence on "
    "the movements for weeks.",
    "Moscow has neither confirmed nor denied the presence of the units near the border, and "
    "the Kremlin declined to comment on Tuesday.",
    "Analysts said the move deepens military cooperation between the two governments, which "
    "signed a mutual defence treaty in June.",
]
SLOWER_PER_RANK = 0.15  # seconds: each older article answers this much later


@dataclass(frozen=True)
class Story:
    outlet: str  # the feed's path: /{outlet}/rss.xml
    slug: str
    title: str
    published: str  # ISO 8601
    lead: str
    modified: str | None = None  # JSON-LD dateModified, for a revision

    @property
    def path(self) -> str:
        return f"/{self.outlet}/{self.published[:10]}/{self.slug}.html"


WORDS = (  # noqa: SIM905 - a sentence of words reads better than a list of 47 strings
    "officials analysts ministry border region army unit forces front line village river "
    "bridge road supply convoy winter talks envoy summit briefing parliament committee agency "
    "satellite images footage witnesses residents families engineers hospital harbour rail "
    "station factory shipment cargo fuel grain steel radio signal weather storm coast island"
).split()


def own_words(story: Story) -> list[str]:
    """Paragraphs of this story only: without them, stories sharing the filler would read as
    syndicated copies of each other."""
    rng = random.Random(f"{story.outlet}/{story.slug}/{story.published}")
    return [" ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + "." for _ in range(3)]


def page(story: Story) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": story.title,
        "datePublished": story.published,
        "author": {"@type": "Person", "name": f"{story.outlet} reporter"},
    }
    if story.modified:
        data["dateModified"] = story.modified
    body = "".join(f"<p>{p}</p>" for p in [story.lead, *FILLER, *own_words(story)])
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{story.title}</title><script type="application/ld+json">{json.dumps(data)}</script>
</head><body><main><article><h1>{story.title}</h1>
<p class="byline">By {story.outlet} reporter</p>{body}</article></main></body></html>"""


class StorySite:
    """Outlets' feeds and pages; replace `stories` between crawls to move the story on."""

    def __init__(self, outlets: list[str]) -> None:
        self.outlets = outlets
        self.stories: list[Story] = []
        self.base = ""

    def feed_url(self, outlet: str) -> str:
        return f"{self.base}/{outlet}/rss.xml"

    def _answer(self, path: str) -> tuple[str, str, float] | None:
        newest_first = sorted(self.stories, key=lambda s: s.published, reverse=True)
        for outlet in self.outlets:
            if path == f"/{outlet}/rss.xml":
                items = "".join(
                    f"<item><title>{s.title}</title><link>{self.base}{s.path}</link>"
                    f"<guid>{self.base}{s.path}</guid></item>"
                    for s in newest_first
                    if s.outlet == outlet
                )
                return (
                    "application/rss+xml",
                    f'<?xml version="1.0"?><rss version="2.0"><channel><title>{outlet}</title>'
                    f"<link>{self.base}/{outlet}/</link><description>news</description>"
                    f"{items}</channel></rss>",
                    0.0,
                )
        for rank, story in enumerate(newest_first):
            if story.path == path:
                return "text/html; charset=utf-8", page(story), rank * SLOWER_PER_RANK
        return None

    @contextmanager
    def serve(self) -> Iterator[StorySite]:
        with page_server(self._answer) as base:
            self.base = base
            yield self
