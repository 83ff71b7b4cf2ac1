"""Article extraction on the local news site's pages, and `newsmon extract` on files, stdin,
plain text and URLs (a real subprocess, with no config.yaml anywhere near it)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_in_process import newsmon_in_process

from newsmon.spiders.article_page import ExtractionError, extract_article, parse_datetime
from tests.newsite import NewsSite

NEWSMON = str(Path(sys.executable).parent / "newsmon")
FURNITURE = ("Most read", "views", "comments", "DOW", "KOSPI", "reader_", "kp_watch", "Section")


@pytest.fixture(scope="module")
def site() -> Iterator[NewsSite]:
    with NewsSite(articles=6).serve() as served:
        yield served


def page(site: NewsSite, path: str) -> bytes:
    found, _ = site.page(path)
    assert found is not None
    return found.body


@pytest.mark.parametrize("index", [1, 2, 3])  # dates in OpenGraph, <time>, JSON-LD
def test_article_text_and_metadata(site: NewsSite, index: int) -> None:
    story = site.story(index)
    record = extract_article(page(site, story.path), site.url(story.path) + "?utm_source=x#c")
    assert record.url == site.url(story.path)  # canonical, tracking parameters dropped
    assert record.title == story.title
    assert record.authors == [story.author]
    assert record.published == story.published.astimezone(UTC)
    assert record.published.tzinfo is UTC
    assert record.language == "en"
    assert record.text.split("\n") == site.body_paragraphs(story)
    for furniture in FURNITURE:
        assert furniture not in record.text


def test_revision_date_and_new_text(site: NewsSite) -> None:
    story = next(s for s in site.stories() if site.is_revised(s, 2))
    site.stage = 2
    try:
        record = extract_article(page(site, story.path), site.url(story.path))
    finally:
        site.stage = 1
    assert record.modified == (story.published + timedelta(days=3)).astimezone(UTC)
    assert "12,000 troops" in record.text


def test_pages_without_article_text_are_named(site: NewsSite) -> None:
    for name, kind in (("empty", "empty"), ("navonly", "no_text")):
        with pytest.raises(ExtractionError) as caught:
            extract_article(page(site, f"/broken/{name}.html"), site.url(f"/broken/{name}.html"))
        assert caught.value.kind == kind


def test_wrong_and_missing_encodings_are_read(site: NewsSite) -> None:
    for name in ("latin1", "nocharset"):
        record = extract_article(page(site, f"/broken/{name}.html"), site.url("/broken/x.html"))
        assert "troops to Russia" in record.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-11-01T09:30:00+09:00", datetime(2024, 11, 1, 0, 30, tzinfo=UTC)),
        ("2024-11-01T09:30:00+0900", datetime(2024, 11, 1, 0, 30, tzinfo=UTC)),
        ("2024-11-01T09:30:00Z", datetime(2024, 11, 1, 9, 30, tzinfo=UTC)),
        ("2024-11-01T09:30:00", datetime(2024, 11, 1, 9, 30, tzinfo=UTC)),
        ("Fri, 01 Nov 2024 09:30:00 -0500", datetime(2024, 11, 1, 14, 30, tzinfo=UTC)),
        ("2024-11-01", datetime(2024, 11, 1, tzinfo=UTC)),
        ("yesterday", None),
        ("0001-01-01", None),
    ],
)
def test_datetimes_are_utc(value: str, expected: datetime | None) -> None:
    assert parse_datetime(value) == expected


def run_extract(*args: str, cwd: Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """`newsmon extract` in this process (tests/cli_in_process.py), answering in bytes as the
    console script does; the first test below runs the console script itself."""
    result = newsmon_in_process("extract", *args, cwd=cwd, stdin=stdin)
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.encode(), result.stderr.encode()
    )


def run_console_script(*args: str, cwd: Path, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [NEWSMON, "extract", *args], input=stdin, capture_output=True, cwd=cwd, timeout=300
    )


def test_extract_command_reads_files_stdin_text_and_urls(site: NewsSite, tmp_path: Path) -> None:
    first, second = site.story(1), site.story(3)
    html = tmp_path / "first.html"
    html.write_bytes(page(site, first.path))
    packed = tmp_path / "second.html.gz"
    packed.write_bytes(gzip.compress(page(site, second.path)))
    result = run_console_script(
        "--format",
        "jsonl",
        str(html),
        str(packed),
        "-",
        site.url(second.path),
        cwd=tmp_path,
        stdin=page(site, first.path),
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["source"] for r in records] == [str(html), str(packed), "-", site.url(second.path)]
    assert [r["title"] for r in records] == [first.title, second.title, first.title, second.title]
    assert records[0]["published"] == first.published.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert records[3]["url"] == site.url(second.path)
    assert records[0]["url"] is None  # a file whose canonical link is relative: no address
    assert set(records[0]) == {
        "source", "url", "title", "authors", "published", "modified", "language", "text", "figures"
    }  # fmt: skip
    figure = records[0]["figures"][0]
    assert (figure["value"], figure["unit"]) == (first.troops, "troop")
    assert records[0]["text"][figure["start"] : figure["end"]] == figure["text"]
    for furniture in FURNITURE:
        assert furniture not in records[0]["text"]


def test_extract_plain_text(tmp_path: Path) -> None:
    text = "Officials said 12,000 North Korean soldiers were in Kursk.\n"
    result = run_extract("--text", "-", cwd=tmp_path, stdin=text.encode())
    assert result.returncode == 0
    (record,) = json.loads(result.stdout)
    assert record["text"] == text.strip() and record["url"] is None
    assert [f["value"] for f in record["figures"]] == [12000.0]


def test_extract_many_files_in_one_call(site: NewsSite, tmp_path: Path) -> None:
    paths = []
    for n in range(150):
        story = site.story(n % 6 + 1)
        path = tmp_path / f"page-{n:03}.html"
        path.write_bytes(page(site, story.path))
        paths.append(str(path))
    result = run_extract("--format", "jsonl", *paths, cwd=tmp_path)
    assert result.returncode == 0
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["source"] for r in records] == paths
    assert [r["title"] for r in records] == [site.story(n % 6 + 1).title for n in range(150)]


def test_extract_bad_sources_are_named_and_exit_2(site: NewsSite, tmp_path: Path) -> None:
    good = tmp_path / "good.html"
    good.write_bytes(page(site, site.story(1).path))
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    result = run_extract(
        "--format", "jsonl", "missing.html", str(good), str(empty), site.url("/nope"), cwd=tmp_path
    )
    assert result.returncode == 2
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [("error" in r) for r in records] == [True, False, True, True]
    errors = result.stderr.decode().splitlines()
    assert errors == [
        "newsmon: missing.html: no such file (give a URL, an .html/.html.gz file or -)",
        f"newsmon: {empty}: empty page",
        f"newsmon: {site.url('/nope')}: HTTP 404 Not Found",
        "newsmon: 3 of 4 sources could not be read",
    ]
    assert "Traceback" not in result.stderr.decode()


BODY = "Officials said on Monday that 1,200 people had been evacuated from the valley. " * 4


def test_a_page_trafilatura_finds_nothing_in_is_read_from_its_declared_body() -> None:
    html = (
        '<html><head><script type="application/ld+json">'
        f'{{"@type": "NewsArticle", "headline": "Evacuations", "articleBody": "{BODY}"}}'
        '</script></head><body><div id="app"></div><nav><a href="/">Home</a></nav></body></html>'
    )
    record = extract_article(html, "https://example.org/a")
    assert record.text == BODY.strip() and "Home" not in record.text


def test_a_page_with_nothing_but_furniture_still_has_no_text() -> None:
    html = "<html><body><nav><ul><li><a href='/'>Home</a></li></ul></nav></body></html>"
    with pytest.raises(ExtractionError) as caught:
        extract_article(html, "https://example.org/a")
    assert caught.value.kind == "no_text"
