"""The store step on both backends: one row per canonical URL, a version only when the text
changed, topics, figures with offsets into the version, copies linked to the first copy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from newsmon.alerts.assess import assess_sources
from newsmon.config import Config, parse_config
from newsmon.figures import extract_figures
from newsmon.ingest import Batch, IngestResult, Validators, ingest_article, ingest_batch
from newsmon.spiders.article_page import ArticleRecord
from newsmon.spiders.simhash import SimhashIndex, simhash
from newsmon.storage import Database
from newsmon.storage import articles as article_rows
from newsmon.storage.crawls import ensure_source
from newsmon.storage.models import Alert, Article, ArticleVersion, Figure, SimhashBlock
from tests.newsite.config import TOPICS

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=30)  # the crawl's window for copies
FILLER = " ".join(
    f"Paragraph word{n} about the front line and the supply routes." for n in range(30)
)


def config_for(database: Database, store_all: bool = False) -> Config:
    keep = "true" if store_all else "false"
    text = f"storage: {{url: 'sqlite://'}}\n{TOPICS}\nsources:\n"
    text += f"  - {{name: wire, url: 'http://127.0.0.1/rss', type: feed, store_all: {keep}}}\n"
    return parse_config(text, Path("config.yaml"), {})


def record(url: str, text: str, title: str = "North Korean troops") -> ArticleRecord:
    found = ArticleRecord(url, title, ["Kim"], NOW - timedelta(hours=2), None, "en", text)
    found.figures = extract_figures(text)
    return found


def put(database: Database, config, found: ArticleRecord, index: SimhashIndex, at: datetime = NOW):
    with database.session() as session:
        source = ensure_source(session, "wire", "http://127.0.0.1/rss", "feed")
        return ingest_article(
            session, config, config.sources[0], source.id, found, Validators(at, '"e1"'), index
        )


def test_versions_only_when_text_changes(database: Database) -> None:
    config = config_for(database)
    index = SimhashIndex(SINCE)
    url = "http://127.0.0.1/world/a.html"
    first = "North Korea has sent about 3,000 troops to Russia, officials said. " + FILLER
    assert put(database, config, record(url, first), index).outcome == "new_article"
    same = first.replace(". ", ".  ")  # whitespace only: the normalised text is the same
    assert put(database, config, record(url, same), index).outcome == "unchanged"
    revised = first.replace("3,000", "12,000")
    assert (
        put(database, config, record(url, revised), index, NOW + timedelta(hours=1)).outcome
        == "new_version"
    )
    with database.session() as session:
        article = article_rows.article_by_url(session, url)
        assert article is not None
        assert (article.version_count, article.text) == (2, revised)
        assert [t.topic for t in article.topics] == ["nk-troops"]
        latest = article_rows.latest_version(session, article)
        assert latest is not None and latest.number == 2
        figure = session.scalars(select(Figure).where(Figure.version_id == latest.id)).one()
        assert (figure.value, figure.quantity, figure.topic) == (
            12000.0,
            "nk-troops/troops-in-russia",
            "nk-troops",
        )
        assert latest.text[figure.start_offset : figure.end_offset] == figure.text
        # alerts/ assesses it after the crawl, in publication order (alerts.assess)
        assert figure.status is None
        # the first version speaks for its publication; the revision, whose page gives no
        # modified time (nor a Last-Modified), for when it was fetched, marked so
        first_version = session.scalars(
            select(ArticleVersion).where(ArticleVersion.number == 1)
        ).one()
        assert (first_version.dated_at, first_version.dated_by) == (
            NOW - timedelta(hours=2),
            "published",
        )
        assert (latest.dated_at, latest.dated_by) == (NOW + timedelta(hours=1), "fetched")
        assert session.scalars(
            select(ArticleVersion.number).order_by(ArticleVersion.number)
        ).all() == [1, 2]


def test_off_topic_articles_are_kept_only_with_store_all(database: Database) -> None:
    text = "The harvest festival drew 40,000 visitors, organisers said. " + FILLER
    assert (
        put(
            database,
            config_for(database),
            record("http://127.0.0.1/f", text, "Festival"),
            SimhashIndex(SINCE),
        ).outcome
        == "no_topic"
    )
    kept = put(
        database,
        config_for(database, store_all=True),
        record("http://127.0.0.1/f", text, "Festival"),
        SimhashIndex(SINCE),
    )
    assert kept.outcome == "new_article"
    with database.session() as session:
        article = session.scalars(select(Article)).one()
        assert article.topics == []


def test_syndicated_copy_points_at_the_first_copy(database: Database) -> None:
    config = config_for(database)
    index = SimhashIndex(SINCE)
    story = "North Korea has sent about 3,000 troops to Russia, officials said. " + FILLER
    other = "North Korea has sent 500 troops to Russia. " + " ".join(
        f"Entirely different text number{n} on a separate matter of policy." for n in range(30)
    )
    first = put(database, config, record("http://127.0.0.1/a", story), index)
    copy = put(
        database,
        config,
        record("http://127.0.0.1/b", "SEOUL (Wire) - " + story + " Reporting by Wire."),
        index,
    )
    distinct = put(database, config, record("http://127.0.0.1/c", other), index)
    assert first.duplicate_of is None and distinct.duplicate_of is None
    assert copy.duplicate_of == first.article_id
    # a later crawl (another index object, the same table) still finds the original
    with database.session() as session:
        indexed = set(session.scalars(select(SimhashBlock.article_id)))
    assert indexed == {first.article_id, distinct.article_id}  # originals only
    again = put(
        database, config, record("http://127.0.0.1/d", story + " Updated."), SimhashIndex(SINCE)
    )
    assert again.duplicate_of == first.article_id


def test_lookups_and_checks(database: Database) -> None:
    config = config_for(database)
    put(
        database,
        config,
        record("http://127.0.0.1/a", "North Korean troops, 3,000 of them. " + FILLER),
        SimhashIndex(SINCE),
    )
    with database.session() as session:
        found = article_rows.articles_by_url(
            session, ["http://127.0.0.1/a", "http://127.0.0.1/zzz"]
        )
        assert list(found) == ["http://127.0.0.1/a"]
        article_rows.mark_checked(session, "http://127.0.0.1/a", NOW + timedelta(hours=3), '"e2"')
    with database.session() as session:
        article = article_rows.article_by_url(session, "http://127.0.0.1/a")
        assert article is not None
        assert (article.last_checked_at, article.etag) == (NOW + timedelta(hours=3), '"e2"')
        assert article.first_seen_at == NOW


def test_a_batch_keeps_its_good_articles_when_one_fails(database: Database) -> None:
    """The crawl stores several articles per transaction; one the database refuses (here: no
    URL) costs only itself, and the copy check still sees the batch's own originals."""
    config = config_for(database)
    index = SimhashIndex(SINCE)
    story = "North Korea has sent about 3,000 troops to Russia, officials said. " + FILLER
    refused = record(None, "North Korean soldiers: 4,000 more, officials said. " + FILLER[::-1])
    with database.session() as session:
        source_id = ensure_source(session, "wire", "http://127.0.0.1/rss", "feed").id
    items = [
        (record("http://127.0.0.1/a", story), Validators(NOW), None),
        (refused, Validators(NOW), None),
        (record("http://127.0.0.1/b", "SEOUL (Wire) - " + story), Validators(NOW), None),
    ]
    first, error, copy = ingest_batch(
        database, Batch(config, config.sources[0], source_id, items), index
    )
    assert isinstance(error, SQLAlchemyError)
    assert isinstance(first, IngestResult) and first.outcome == "new_article"
    assert isinstance(copy, IngestResult) and copy.duplicate_of == first.article_id
    assess_sources(database, config, [source_id])  # what the crawl does at its end
    with database.session() as session:
        assert sorted(session.scalars(select(Article.url))) == [
            "http://127.0.0.1/a",
            "http://127.0.0.1/b",
        ]
        assert session.scalars(select(Alert.article_id)).all() == [first.article_id]
    # only stored originals stay indexed: nothing from the rolled-back attempt
    with database.session() as session:
        assert index.candidates(session, simhash(story)) == [first.article_id]
        assert set(session.scalars(select(SimhashBlock.article_id))) == {first.article_id}
