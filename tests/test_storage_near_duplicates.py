"""The near-duplicate index on both backends: copies found through simhash_blocks, near-misses
and old originals not, rows written for every stored original and gone with it (rolled back or
deleted), the migration's backfill equal to what the store step writes, and index-only plans
for the lookup and for the run history."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from newsmon.config import parse_config
from newsmon.figures import extract_figures
from newsmon.ingest import Batch, Validators, ingest_article, ingest_batch
from newsmon.spiders.article_page import ArticleRecord
from newsmon.spiders.simhash import MAX_DISTANCE, SimhashIndex, simhash
from newsmon.storage import Database
from newsmon.storage.crawls import ensure_source, last_complete_run_at, last_runs, start_run
from newsmon.storage.models import Article, SimhashBlock
from newsmon.storage.near_duplicates import BLOCKS, add_original, block_keys, probe_keys, radii
from tests.newsite.config import TOPICS

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SINCE = NOW - timedelta(days=30)
FILLER = " ".join(
    f"Paragraph word{n} about the front line and the supply routes." for n in range(30)
)
STORY = "North Korea has sent about 3,000 troops to Russia, officials said. " + FILLER
CONFIG = parse_config(
    f"storage: {{url: 'sqlite://'}}\n{TOPICS}\nsources:\n"
    "  - {name: wire, url: 'http://127.0.0.1/rss', type: feed}\n",
    Path("config.yaml"),
    {},
)


def flip(value: int, positions: list[int]) -> int:
    unsigned = value & (2**64 - 1)
    for position in positions:
        unsigned ^= 1 << position
    return unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned


def record(url: str | None, text: str) -> ArticleRecord:
    found = ArticleRecord(url, "North Korean troops", [], NOW, None, "en", text)
    found.figures = extract_figures(text)
    return found


def source_id(database: Database) -> int:
    with database.session() as session:
        return ensure_source(session, "wire", "http://127.0.0.1/rss", "feed").id


def put(database: Database, found: ArticleRecord, at: datetime = NOW):
    with database.session() as session:
        return ingest_article(
            session,
            CONFIG,
            CONFIG.sources[0],
            source_id(database),
            found,
            Validators(at),
            SimhashIndex(SINCE),
        )


def blocks(database: Database) -> dict[int, set[int]]:
    """article id -> its block keys, as stored."""
    with database.session() as session:
        rows = session.execute(select(SimhashBlock.article_id, SimhashBlock.block_key))
        found: dict[int, set[int]] = {}
        for article_id, key in rows:
            found.setdefault(article_id, set()).add(key)
        return found


def test_every_hash_within_the_threshold_shares_a_probed_key() -> None:
    # pigeonhole: the radii (+1) add up to more than the threshold, for any threshold
    for distance in range(0, 12):
        assert sum(radius + 1 for radius in radii(distance)) > distance
    assert sum(bits for _shift, bits in BLOCKS) == 64
    rng = random.Random(15)
    for _ in range(2000):
        value = rng.getrandbits(64) - (1 << 63)
        near = flip(value, rng.sample(range(64), rng.randrange(MAX_DISTANCE + 1)))
        assert set(probe_keys(near, MAX_DISTANCE)) & set(block_keys(value))
    # the worst case: every block off by one more bit than its radius (3 + 3 + 2 = 8 bits)
    value = rng.getrandbits(64) - (1 << 63)
    miss = flip(value, [63, 62, 61, 41, 40, 39, 1, 0])
    assert not set(probe_keys(miss, MAX_DISTANCE)) & set(block_keys(value))


def test_a_syndicated_copy_is_found_through_the_index(database: Database) -> None:
    first = put(database, record("http://127.0.0.1/a", STORY))
    copy = put(database, record("http://127.0.0.1/b", "SEOUL (Wire) - " + STORY + " By Wire."))
    assert first.duplicate_of is None and copy.duplicate_of == first.article_id
    # the original is indexed under its three blocks, the copy not at all
    assert blocks(database) == {first.article_id: set(block_keys(simhash(STORY)))}


def test_a_near_miss_beyond_the_threshold_is_not_a_candidate(database: Database) -> None:
    value = simhash(STORY)
    assert value is not None
    with database.session() as session:
        article = Article(url="http://127.0.0.1/a", simhash=value, first_seen_at=NOW)
        session.add(article)
        session.flush()
        add_original(session, article.id, value, NOW)
        index = SimhashIndex(SINCE)
        # 7 bits apart, spread over every block: found; 8 bits apart: not, even where the
        # 8th bit leaves a block key shared (the distance is checked on the whole hash)
        assert index.candidates(session, flip(value, [63, 62, 41, 40, 20, 1, 0])) == [article.id]
        assert index.candidates(session, flip(value, [63, 62, 61, 41, 40, 39, 1, 0])) == []
        assert index.candidates(session, flip(value, list(range(8)))) == []


def test_a_batch_lookup_finds_what_one_lookup_per_hash_finds(database: Database) -> None:
    """The ingest step looks up a whole batch's hashes with one query (candidates_of)."""
    rng = random.Random(14)
    originals = [rng.getrandbits(64) - (1 << 63) for _ in range(30)]
    with database.session() as session:
        for n, value in enumerate(originals):
            article = Article(url=f"http://127.0.0.1/{n}", simhash=value, first_seen_at=NOW)
            session.add(article)
            session.flush()
            add_original(session, article.id, value, NOW)
        index = SimhashIndex(SINCE)
        probes = [flip(value, rng.sample(range(64), rng.randrange(10))) for value in originals]
        probes += [rng.getrandbits(64) - (1 << 63) for _ in range(5)]  # near nothing
        one_by_one = {value: index.candidates(session, value) for value in probes}
        assert index.candidates_of(session, probes) == one_by_one
        assert sum(1 for ids in one_by_one.values() if ids) > 10  # hits and misses both


def test_an_original_outside_the_window_is_not_a_candidate(database: Database) -> None:
    old = put(database, record("http://127.0.0.1/a", STORY), at=NOW - timedelta(days=31))
    reprint = put(database, record("http://127.0.0.1/b", "SEOUL (Wire) - " + STORY))
    assert reprint.duplicate_of is None  # a month later it is news again, as before
    assert set(blocks(database)) == {old.article_id, reprint.article_id}
    with database.session() as session:
        wider = SimhashIndex(SINCE - timedelta(days=2)).candidates(session, simhash(STORY))
        assert wider == [old.article_id, reprint.article_id]  # a wider window finds both


def test_rows_go_with_a_rolled_back_or_deleted_article(database: Database) -> None:
    refused = record(None, "North Korean soldiers: 4,000 more, officials said. " + FILLER[::-1])
    items = [
        (record("http://127.0.0.1/a", STORY), Validators(NOW), None),
        (refused, Validators(NOW), None),
    ]
    batch = Batch(CONFIG, CONFIG.sources[0], source_id(database), items)
    # the batch fails as a whole (rolled back, its blocks with it), then each is stored alone
    first, error = ingest_batch(database, batch, SimhashIndex(SINCE))
    assert isinstance(error, Exception) and not isinstance(first, Exception)
    assert blocks(database) == {first.article_id: set(block_keys(simhash(STORY)))}
    with database.session() as session:
        session.execute(sa.delete(Article).where(Article.id == first.article_id))
    assert blocks(database) == {}


def test_the_migration_fills_the_index_for_stored_originals(database_url: str) -> None:
    database = Database.open(database_url, upgrade=False)
    database.upgrade("0006")
    rng = random.Random(8)
    values = [rng.getrandbits(64) - (1 << 63) for _ in range(50)] + [-1, -(2**63), 2**63 - 1]
    with database.session() as session:
        originals = [
            Article(url=f"http://127.0.0.1/{n}", simhash=value, first_seen_at=NOW)
            for n, value in enumerate(values)
        ]
        session.add_all(originals)
        session.flush()
        session.add(Article(url="http://127.0.0.1/copy", simhash=values[0], first_seen_at=NOW))
        session.flush()
        session.execute(
            sa.update(Article)
            .where(Article.url == "http://127.0.0.1/copy")
            .values(duplicate_of_id=originals[0].id)
        )
        session.add(Article(url="http://127.0.0.1/short", simhash=None, first_seen_at=NOW))
        expected = {article.id: set(block_keys(article.simhash)) for article in originals}
    database.upgrade()
    try:
        assert blocks(database) == expected
        with database.session() as session:
            rows = session.execute(select(SimhashBlock.article_id, SimhashBlock.simhash))
            hashes = {article_id: value for article_id, value in rows}
            assert hashes == {article.id: article.simhash for article in originals}
    finally:
        database.dispose()


@contextmanager
def statements(database: Database) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (with parameters) run inside the block."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    sa.event.listen(database.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", record)


def plan(database: Database, statement: str, parameters: Any) -> str:
    with database.engine.connect() as connection:
        if database.dialect == "postgresql":  # tiny tables: ask whether an index serves it
            connection.exec_driver_sql("SET enable_seqscan = off")
            prefix = "EXPLAIN "
        else:
            prefix = "EXPLAIN QUERY PLAN "
        rows = connection.exec_driver_sql(prefix + statement, parameters)
        return "\n".join(str(row[-1]) for row in rows)


def test_run_history_and_lookup_are_read_through_indexes(database: Database) -> None:
    with database.session() as session:
        wire = ensure_source(session, "wire", "http://127.0.0.1/rss", "feed")
        other = ensure_source(session, "other", "http://127.0.0.1/other", "feed")
        for day in range(1, 4):
            start_run(session, wire, NOW + timedelta(days=day)).status = "ok"
        latest = start_run(session, other, NOW)
    with database.session() as session, statements(database) as seen:
        assert {name: run.id for name, run in last_runs(session, ["other"]).items()} == {
            "other": latest.id
        }
        runs = last_runs(session)
        assert runs["wire"].started_at == NOW + timedelta(days=3) and set(runs) == {"wire", "other"}
        assert last_complete_run_at(session, wire.id) == NOW + timedelta(days=3)
        assert SimhashIndex(SINCE).candidates(session, 12345) == []
    assert len(seen) == 6  # two queries per last_runs(), one per lookup
    for statement, parameters in seen:
        shown = plan(database, statement, parameters)
        if database.dialect == "sqlite":
            assert "SCAN crawl_runs" not in shown and "SCAN simhash_blocks" not in shown, shown
            assert "SEARCH crawl_runs" in shown or "SEARCH simhash_blocks" in shown, shown
        else:
            assert "Seq Scan on crawl_runs" not in shown, shown
            assert "Seq Scan on simhash_blocks" not in shown, shown
            assert "Index" in shown, shown


def test_postgres_lookup_reads_only_the_index(database: Database) -> None:
    """The primary key carries the hash and date (migration 0009): a lookup needs no heap page
    per block row it finds (~180 at 1M originals), so an index-only scan answers it."""
    if database.dialect != "postgresql":
        pytest.skip("SQLite's table is its own index (WITHOUT ROWID)")
    with database.session() as session, statements(database) as seen:
        SimhashIndex(SINCE).candidates(session, 12345)
    ((statement, parameters),) = seen
    with database.engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        connection.exec_driver_sql("SET enable_bitmapscan = off")
        shown = "\n".join(
            str(row[0]) for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        )
    assert "Index Only Scan using pk_simhash_blocks" in shown, shown
