"""The ingest pipeline (newsmon.ingest) on both backends, as the crawl calls it: figures matched
and assigned in a worker come out as if matched while storing, and a batch stored with one flush
still links a copy to an original of the same batch and stores an article listed twice once."""

from __future__ import annotations

import pickle

from sqlalchemy import select

from newsmon.ingest import Batch, IngestResult, TopicRules, Validators, ingest_batch, match
from newsmon.spiders.simhash import SimhashIndex
from newsmon.storage import Database
from newsmon.storage.crawls import ensure_source
from newsmon.storage.models import Article, ArticleVersion, Figure
from tests.test_storage_articles import FILLER, NOW, SINCE, config_for, record

STORY = "North Korea has sent about 3,000 troops to Russia, officials said. " + FILLER


def source_id(database: Database) -> int:
    with database.session() as session:
        return ensure_source(session, "wire", "http://127.0.0.1/rss", "feed").id


def stored_figures(database: Database) -> dict[str, list[tuple[float, str | None, str | None]]]:
    with database.session() as session:
        rows = session.execute(
            select(Article.url, Figure.value, Figure.quantity, Figure.assigned_by)
            .join(Figure, Figure.article_id == Article.id)
            .order_by(Article.url, Figure.start_offset)
        )
        found: dict[str, list[tuple[float, str | None, str | None]]] = {}
        for url, value, quantity, why in rows:
            found.setdefault(url, []).append((value, quantity, why))
        return found


def test_a_match_made_in_a_worker_stores_what_matching_while_storing_would(
    database: Database,
) -> None:
    config = config_for(database)
    rules = pickle.loads(pickle.dumps(TopicRules.of(config, config.sources[0])))  # as sent
    worker = record("http://127.0.0.1/a", STORY)
    matched = match(rules, worker)
    assert matched.topics == ["nk-troops"]
    assert [(f.value, f.quantity) for f in matched.figures] == [
        (3000.0, "nk-troops/troops-in-russia")
    ]
    here = record("http://127.0.0.1/b", STORY.replace("officials said", "a minister said"))
    items = [(worker, Validators(NOW), matched), (here, Validators(NOW), None)]
    results = ingest_batch(
        database, Batch(config, config.sources[0], source_id(database), items), SimhashIndex(SINCE)
    )
    assert [r.outcome for r in results if isinstance(r, IngestResult)] == ["new_article"] * 2
    figures = stored_figures(database)
    assert figures["http://127.0.0.1/a"] == figures["http://127.0.0.1/b"]
    assert figures["http://127.0.0.1/a"][0][1] == "nk-troops/troops-in-russia"


def test_one_flush_per_batch_still_links_copies_and_stores_a_url_once(database: Database) -> None:
    config = config_for(database)
    revised = STORY.replace("3,000", "12,000")
    items = [
        (record("http://127.0.0.1/a", STORY), Validators(NOW), None),
        # a wire copy of the batch's own original: found before anything is flushed
        (record("http://127.0.0.1/b", "SEOUL (Wire) - " + STORY), Validators(NOW), None),
        (record("http://127.0.0.1/a", STORY), Validators(NOW), None),  # listed twice
        (record("http://127.0.0.1/a", revised), Validators(NOW), None),  # then revised
    ]
    first, copy, again, newer = ingest_batch(
        database, Batch(config, config.sources[0], source_id(database), items), SimhashIndex(SINCE)
    )
    assert isinstance(first, IngestResult) and first.outcome == "new_article"
    assert isinstance(copy, IngestResult) and copy.duplicate_of == first.article_id
    assert isinstance(again, IngestResult) and again.outcome == "unchanged"
    assert isinstance(newer, IngestResult) and newer.outcome == "new_version"
    assert again.article_id == newer.article_id == first.article_id
    with database.session() as session:
        versions = session.execute(
            select(ArticleVersion.number, ArticleVersion.text)
            .where(ArticleVersion.article_id == first.article_id)
            .order_by(ArticleVersion.number)
        ).all()
        assert [number for number, _ in versions] == [1, 2]
        assert versions[1][1] == revised
    # the copy check of a later batch finds the original the flush indexed
    later = [(record("http://127.0.0.1/c", "TOKYO (Wire) - " + STORY), Validators(NOW), None)]
    (third,) = ingest_batch(
        database, Batch(config, config.sources[0], source_id(database), later), SimhashIndex(SINCE)
    )
    assert isinstance(third, IngestResult) and third.duplicate_of == first.article_id
