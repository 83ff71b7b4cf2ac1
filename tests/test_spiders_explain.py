"""`newsmon crawl --explain [--dry-run]`: per article, its topic (or why none), its figures with
the quantity each went to and why, and the alerts raised; `--dry-run` writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsmon.storage import Database
from newsmon.storage.models import Alert, Article, CrawlRun, SkippedArticle
from tests.newsite import NewsSite
from tests.newsite.config import site_config
from tests.test_spiders_crawl import FAST, crawl

ARTICLES = 3


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with NewsSite(articles=ARTICLES).serve() as served:
        yield served


def test_explain_dry_run_says_why_and_writes_nothing(site: NewsSite, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'news.db'}"
    config = tmp_path / "config.yaml"
    sources = {"rss": ("feed", site.url("/feeds/rss.xml"))}
    config.write_text(site_config(url, sources, FAST), encoding="utf-8")

    result = crawl(config, "--explain", "--dry-run")
    assert result.returncode == 0, result.stderr
    story = site.story(2)
    out = result.stdout
    assert f"{story.path}  (new article)" in out
    assert "topic: nk-troops" in out
    assert f"figure 'about {story.troops:,} troops' = {story.troops:g} troop -> " in out
    assert "-> nk-troops/troops-in-russia (unit troop)" in out
    assert "alert: new_figure nk-troops/troops-in-russia" in out
    assert "dry run: nothing was written" in out
    database = Database.open(url)
    with database.session() as session:
        for model in (Article, Alert, CrawlRun, SkippedArticle):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model

    # a topic that matches nothing says which keyword is missing
    wrong = config.read_text().replace('"North Korea|North Korean|Pyongyang"', '"Zanzibar"')
    config.write_text(wrong, encoding="utf-8")
    why = crawl(config, "--explain")
    assert why.returncode == 0, why.stderr
    assert "(no topic)" in why.stdout
    assert "topic: none (nk-troops: no 'Zanzibar')" in why.stdout
    with database.session() as session:  # --explain alone does write
        assert session.scalar(select(func.count()).select_from(SkippedArticle)) == ARTICLES
    database.dispose()
