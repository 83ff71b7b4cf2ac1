"""End to end: `newsmon crawl` (a real subprocess: a reactor runs once per process) against the
local news site served on 127.0.0.1, into a real database."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_process import run_newsmon
from sqlalchemy import func, select

from newsmon.storage import Database
from newsmon.storage.models import Article, ArticleVersion, CrawlRun, Figure, Source
from tests.newsite import NewsSite
from tests.newsite.config import site_config

# a timeout short enough for the slow page, long enough for a loaded test machine
FAST = {"timeout": "3s", "retries": 1, "autothrottle": False}
# where requests are counted exactly: a generous timeout and no retry (a timeout is counted)
UNHURRIED = {"timeout": "30s", "retries": 0, "autothrottle": False}
ARTICLES = 8


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with NewsSite(articles=ARTICLES).serve() as served:
        yield served


def crawl(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_newsmon("--config", config, "crawl", *args, timeout=120, cwd=config.parent)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def runs(database: Database) -> dict[str, CrawlRun]:
    with database.session() as session:
        rows = session.execute(select(Source.name, CrawlRun).join(CrawlRun.source))
        return {name: run for name, run in rows}  # the last run of each source


def errors(database: Database) -> list[tuple[str, str | None, dict[str, int]]]:
    """Each source's last run: status, message and error counts (for assertion messages)."""
    return [(r.status, r.message, r.error_counts) for r in runs(database).values()]


def article_paths(database: Database) -> set[str]:
    with database.session() as session:
        urls = session.scalars(select(Article.url)).all()
    return {"/" + url.split("/", 3)[3] for url in urls}


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("feed", "/feeds/rss.xml"),
        ("feed", "/feeds/rss091.xml"),
        ("feed", "/feeds/rdf.xml"),
        ("feed", "/feeds/atom.xml"),
        ("sitemap", "/sitemap.xml"),
        ("page", "/world/"),
    ],
)
def test_every_source_type_stores_the_sites_articles(
    site: NewsSite, tmp_path: Path, kind: str, path: str
) -> None:
    url = f"sqlite:///{tmp_path / 'news.db'}"
    config = write(tmp_path, site_config(url, {"src": (kind, site.url(path))}, FAST))
    result = crawl(config)
    assert result.returncode == 0, result.stderr
    database = Database.open(url)
    expected = {story.path for story in site.stories()}
    if kind == "page":
        expected.add(f"/wire/{site.story(1).slug}.html")  # the listing links the wire copy
    assert article_paths(database) == expected
    run = runs(database)["src"]
    assert (run.status, run.new_articles) == ("ok", len(expected))
    with database.session() as session:
        story = site.story(2)
        article = session.scalars(select(Article).where(Article.url.endswith(story.path))).one()
        assert article.published_at == story.published.astimezone(UTC)
        assert article.text.startswith(site.lead(story))
        assert "comments" not in article.text and "DOW" not in article.text
        figure = session.scalars(select(Figure).where(Figure.article_id == article.id)).one()
        assert (figure.value, figure.quantity) == (story.troops, "nk-troops/troops-in-russia")
        assert article.text[figure.start_offset : figure.end_offset] == figure.text
    row = next(line for line in result.stdout.splitlines() if "│ src" in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    # source, status, requests, not modified, new, versions, dupes, errors; requests: the document,
    # the articles, a feed the listing page announces, and any retry on a loaded machine
    documents = 2 if kind == "page" else 1
    assert int(cells[2]) >= len(expected) + documents
    # the listing also links the wire copy (a duplicate) and a page robots.txt forbids (an error)
    page = "1" if kind == "page" else "0"
    assert cells[:2] + cells[3:] == ["src", "ok", "0", str(len(expected)), "0", page, page]


def test_second_crawl_is_conditional_and_revisions_become_versions(
    site: NewsSite, tmp_path: Path, database_url: str
) -> None:
    sources = {
        "news": ("sitemap", site.url("/sitemap.xml")),
        "rss": ("feed", site.url("/feeds/rss.xml")),
    }
    # the counts below are exact, so no request may be sent twice. With FAST (3 s timeout, one
    # retry) this failed at load 5-8 (about 1 run in 10, both backends): one article requested
    # twice in one crawl, every run `ok` with no error counted, the mark of a request answered
    # after its timeout and retried (two sources cannot both claim an article: spiders/sources.py)
    config = write(tmp_path, site_config(database_url, sources, UNHURRIED))
    assert crawl(config).returncode == 0
    database = Database.open(database_url)
    assert len(article_paths(database)) == ARTICLES
    first_hits = {story.path: site.hits[story.path] for story in site.stories()}
    # two sources, one GET (the runs' error counts say whether a request timed out)
    assert first_hits == {story.path: 1 for story in site.stories()}, errors(database)

    # nothing changed: each source costs one conditional request answered 304, articles nothing
    site.reset_counts()
    assert crawl(config).returncode == 0
    requested = {path: n for path, n in site.hits.items() if path != "/robots.txt"}
    assert requested == {"/sitemap.xml": 1, "/feeds/rss.xml": 1}
    assert site.not_modified == requested
    after = runs(database)
    assert [(r.requests, r.not_modified, r.new_articles) for r in after.values()] == [(1, 1, 0)] * 2

    # stage 2: some texts revised, some pages touched (text unchanged), one new article;
    # a short revisit_every makes every fresh article due for a conditional re-check
    site.stage = 2
    write(tmp_path, site_config(database_url, sources, UNHURRIED | {"revisit_every": "1s"}))
    site.reset_counts()
    result = crawl(config)
    assert result.returncode == 0, result.stderr
    revised = [s for s in site.stories(1) if site.is_revised(s, 2)]
    touched = [s for s in site.stories(1) if site.is_touched(s, 2)]
    assert revised and touched
    with database.session() as session:
        versions = dict(
            session.execute(
                select(Article.url, func.count(ArticleVersion.id))
                .join(Article.versions)
                .group_by(Article.url)
            ).all()
        )
        by_path = {"/" + url.split("/", 3)[3]: n for url, n in versions.items()}
        for story in site.stories(2):
            assert by_path[story.path] == (2 if story in revised else 1), story.path
        latest = session.scalars(
            select(ArticleVersion)
            .join(Article)
            .where(Article.url.endswith(revised[0].path), ArticleVersion.number == 2)
        ).one()
        assert "12,000 troops" in latest.text
        assert [f.value for f in latest.figures if f.quantity] == [12000.0]
    unchanged = [s for s in site.stories(1) if s not in revised and s not in touched]
    checks = {s.path: (site.not_modified[s.path], site.hits[s.path]) for s in unchanged}
    # re-checked once each, answered 304
    assert checks == {s.path: (1, 1) for s in unchanged}, errors(database)
    last = runs(database)
    assert sum(r.new_versions for r in last.values()) == len(revised)
    assert sum(r.new_articles for r in last.values()) == 1
    database.dispose()


def test_syndicated_copy_is_linked_to_the_first_copy(site: NewsSite, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'news.db'}"
    feed = write(tmp_path, site_config(url, {"rss": ("feed", site.url("/feeds/rss.xml"))}, FAST))
    assert crawl(feed).returncode == 0
    both = {"rss": ("feed", site.url("/feeds/rss.xml")), "world": ("page", site.url("/world/"))}
    write(tmp_path, site_config(url, both, FAST))
    assert crawl(feed).returncode == 0
    database = Database.open(url)
    with database.session() as session:
        original = session.scalars(
            select(Article).where(Article.url.endswith(site.story(1).path))
        ).one()
        copy = session.scalars(select(Article).where(Article.url.contains("/wire/"))).one()
        assert copy.duplicate_of_id == original.id
        assert original.duplicate_of_id is None
        others = session.scalars(select(Article).where(Article.duplicate_of_id.is_not(None))).all()
        assert others == [copy]  # distinct stories on one topic are not taken for copies
        assert {
            f.status for f in session.scalars(select(Figure).where(Figure.article_id == copy.id))
        } == {"duplicate"}
    assert runs(database)["world"].duplicates == 1


def test_robots_txt_is_obeyed_unless_configured_off(site: NewsSite, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'news.db'}"
    listing = {"world": ("page", site.url("/world/"))}
    config = write(tmp_path, site_config(url, listing, FAST))
    assert crawl(config).returncode == 0
    private = "/private/2024/11/04/members-only-story-briefing.html"
    assert site.hits["/robots.txt"] == 1 and site.hits[private] == 0
    assert runs(Database.open(url))["world"].error_counts == {"robots": 1}
    assert any("newsmon/" in agent and "contact" in agent for agent in site.user_agents)
    write(
        tmp_path,
        site_config(f"sqlite:///{tmp_path / 'other.db'}", listing, FAST | {"obey_robots": False}),
    )
    assert crawl(config).returncode == 0
    assert site.hits[private] == 1


def test_bad_input_is_counted_per_source_and_the_crawl_carries_on(
    site: NewsSite, tmp_path: Path
) -> None:
    site.huge_size = 64 * 1024
    url = f"sqlite:///{tmp_path / 'news.db'}"
    sources = {
        "broken-links": ("feed", site.url("/feeds/broken-links.xml")),
        "malformed": ("feed", site.url("/feeds/broken.xml")),
        "gone": ("feed", site.url("/feeds/nothing-here.xml")),
        "rss": ("feed", site.url("/feeds/rss.xml")),
    }
    config = write(
        tmp_path, site_config(url, sources, FAST | {"max_size": "40kB", "max_redirects": 3})
    )
    result = crawl(config)
    assert result.returncode == 0, result.stderr
    database = Database.open(url)
    last = runs(database)
    assert last["broken-links"].error_counts == {
        "empty": 1,  # empty body
        "http_404": 1,
        "http_500": 1,  # after its retry
        "timeout": 1,
        "redirects": 1,  # a redirect loop
        "no_text": 1,  # navigation only
        "too_large": 1,
        "not_html": 1,  # an image
        "robots": 1,
    }
    assert site.hits["/broken/error.html"] == 2 and site.hits["/broken/slow.html"] == 2
    assert site.hits["/broken/loop.html"] == 4  # the first request and 3 redirects
    assert last["malformed"].error_counts == {"malformed_feed": 1}
    assert (last["gone"].status, last["gone"].error_counts) == ("failed", {"http_404": 1})
    assert last["rss"].status == "ok" and last["rss"].new_articles >= ARTICLES - 1
    with database.session() as session:
        texts = session.scalars(select(Article.text).where(Article.url.contains("/broken/"))).all()
    assert len(texts) == 2  # wrong and missing encodings are read, not dropped
    assert all("troops to Russia" in text for text in texts)
    for path in ("/broken/missing.html", "/broken/navonly.html", "/broken/huge.html"):
        assert sum(path in line for line in result.stderr.splitlines()) == 1  # logged once
    assert "gone" in result.stdout and "failed" in result.stdout


def test_unknown_source_name_is_one_line_and_exit_2(site: NewsSite, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'news.db'}"
    config = write(tmp_path, site_config(url, {"rss": ("feed", site.url("/feeds/rss.xml"))}))
    result = crawl(config, "--source", "rsss")
    assert result.returncode == 2
    assert result.stderr.strip() == "newsmon: unknown source 'rsss'; did you mean 'rss'?"
    assert sum(site.hits.values()) == 0


def test_crawl_record_has_times(site: NewsSite, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'news.db'}"
    config = write(tmp_path, site_config(url, {"rss": ("feed", site.url("/feeds/rss.xml"))}, FAST))
    before = datetime.now(UTC)
    assert crawl(config, "--source", "rss").returncode == 0
    run = runs(Database.open(url))["rss"]
    assert run.started_at >= before.replace(microsecond=0) and run.finished_at >= run.started_at
