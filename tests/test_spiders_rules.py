"""The crawl's small rules: URL normalisation, article-link heuristics, topic keywords,
SimHash near-duplicates and when an article is requested again."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsmon.config import parse_config
from newsmon.spiders.revisits import Known, decide_request
from newsmon.spiders.simhash import MAX_DISTANCE, distance, resemblance, shingles, simhash
from newsmon.spiders.topics import match_topics
from newsmon.spiders.urls import looks_like_article, normalise_url
from newsmon.storage.near_duplicates import block_keys, probe_keys


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM:80/a/B?utm_source=rss&id=7#top", "http://example.com/a/B?id=7"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com/a?fbclid=x&gclid=y&page=2&ref=tw", "https://example.com/a?page=2"),
        ("https://example.com:8443/a?b=1&a=2", "https://example.com:8443/a?b=1&a=2"),
    ],
)
def test_normalise_url(url: str, expected: str) -> None:
    assert normalise_url(url) == expected


def test_relative_links_resolve() -> None:
    assert normalise_url("../b.html#x", base="http://127.0.0.1:8000/a/c/") == (
        "http://127.0.0.1:8000/a/b.html"
    )


@pytest.mark.parametrize(
    ("url", "article"),
    [
        ("https://news.example/world/2024/11/04/troops-arrive.html", True),
        ("https://www.news.example/story/troops-arrive-in-kursk-region", True),
        ("https://news.example/world/asia-12345678", True),
        ("https://news.example/world/", False),
        ("https://news.example/tag/north-korea/", False),
        ("https://news.example/author/kim-min-ji-writes-here", False),
        ("https://other.example/world/2024/11/04/troops-arrive.html", False),
        ("https://news.example/img/2024/11/04/photo.jpg", False),
    ],
)
def test_article_links_by_heuristic(url: str, article: bool) -> None:
    assert looks_like_article(url, "https://news.example/world/") is article


CONFIG = """
topics:
  nk:
    title: NK troops
    keywords: {all: ["North Korea|Pyongyang"], any: [troops, soldiers], not: [football]}
  quake:
    title: Quake
    keywords: {any: [earthquake]}
sources:
  - {name: a, url: "http://127.0.0.1/", type: feed}
  - {name: b, url: "http://127.0.0.1/", type: feed, topics: [quake]}
"""


@pytest.mark.parametrize(
    ("title", "text", "source", "topics"),
    [
        ("Pyongyang sends troops", "More soldiers.", 0, ["nk"]),
        ("North Korea", "Its TROOPS moved.", 0, ["nk"]),
        ("North Korea", "troopship", 0, []),  # whole words only
        ("North Korea troops", "at the football match", 0, []),  # `not`
        ("North Korea troops", "an earthquake too", 0, ["nk", "quake"]),
        ("North Korea troops", "an earthquake too", 1, ["quake"]),  # the source's topics only
    ],
)
def test_topic_keywords(title: str, text: str, source: int, topics: list[str]) -> None:
    config = parse_config(CONFIG, Path("config.yaml"), {})
    assert match_topics(config, config.sources[source], title, text) == topics


def test_simhash_finds_copies_not_neighbours() -> None:
    words = [f"w{n % 97}x{n % 13}" for n in range(400)]
    story = " ".join(words)
    copy = "SEOUL (Wire) - " + story + " Reporting by the wire desk."
    other = " ".join(reversed(words))
    assert distance(simhash(story), simhash(copy)) <= MAX_DISTANCE
    # the copy's lookup probes a key the story is indexed under
    assert set(probe_keys(simhash(copy), MAX_DISTANCE)) & set(block_keys(simhash(story)))
    assert resemblance(story, copy) > 0.9 and resemblance(story, other) < 0.2
    assert simhash("too short to judge") is None


def test_simhash_stays_what_the_archive_stored() -> None:
    """Hashes stored by earlier crawls are compared with new ones: the value is still, bit by
    bit, the majority over the 3-word shingles' 8-byte BLAKE2b digests, as a signed BIGINT."""
    for text in [
        " ".join(f"w{n % 89}y{n % 7}" for n in range(300)),
        "North Korea has deployed about 3,500 troops to Russia, officials said. " * 8,
        "Ünïcode wörds, 12,000 of them; punctuation - and CAPITALS too. " * 9,
    ]:
        found = shingles(text)
        digests = [
            int.from_bytes(hashlib.blake2b(one.encode(), digest_size=8).digest()) for one in found
        ]
        unsigned = sum(
            1 << bit
            for bit in range(64)
            if 2 * sum(digest >> bit & 1 for digest in digests) > len(found)
        )
        assert simhash(text) == unsigned - (1 << 64) * (unsigned >> 63)


NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW, EVERY = timedelta(hours=48), timedelta(hours=1)


def known(first_seen_hours: float, checked_minutes: float | None) -> Known:
    checked = NOW - timedelta(minutes=checked_minutes) if checked_minutes is not None else None
    return Known(NOW - timedelta(hours=first_seen_hours), checked, checked, '"e"', None)


@pytest.mark.parametrize(
    ("state", "listed", "headers"),
    [
        (None, None, {}),  # new: plain GET
        (known(2, 30), None, None),  # fresh, checked 30 min ago: not yet
        (known(2, 61), None, {"If-None-Match": '"e"'}),  # fresh, due: conditional
        (known(72, 600), None, None),  # old: never again…
        (known(72, 600), NOW, {"If-None-Match": '"e"'}),  # …unless the listing says it changed
    ],
)
def test_when_articles_are_requested(
    state: Known | None, listed: datetime | None, headers: dict[str, str] | None
) -> None:
    assert decide_request(state, listed, NOW, WINDOW, EVERY) == headers
