"""Benchmark the near-duplicate check and the run history at archive sizes, on both backends.

    .venv/bin/python bench/dedup.py [--sizes 10000,1000000] [--lookups 400] [--stores 200]
                                    [--no-postgres | --no-sqlite] [--no-old]
                                    [--keep DIR [--reuse]]

For each size N, a fresh SQLite database and (when a server answers at $NEWSMON_TEST_POSTGRES or
postgresql+psycopg://postgres@127.0.0.1:5432/test) a fresh PostgreSQL database, created for the
run and dropped after it, are filled in bulk with N synthetic originals: `articles` rows with a
URL, a random 64-bit SimHash and a first-seen time inside the 30-day window, but no text or
versions, and their `simhash_blocks` rows (what migration 0008 and the store step write). Plus
N/10 crawl runs over 100 sources. Then it prints, side by side:

- the duplicate check of a new article (spiders.simhash.SimhashIndex.candidates, as the store
  step calls it): CPU per lookup (this process plus, on PostgreSQL, the server backend's CPU
  read from /proc), wall time, and index rows read per lookup;
- a whole store of one new article (ingest.ingest_batch, one article per transaction with
  its commit; a 300-word on-topic text with figures, an original that gets indexed): CPU and wall;
- `last_runs()` and `last_complete_run_at()` times, and the query plans of the lookup and of
  `last_runs()` at the largest size;
- for comparison, the in-memory index every crawl built before migration 0008 (in a child
  process): load time, RSS it added, and time per lookup.

Load average is printed at start and end: the machine is shared, so compare within one run.
`--keep DIR` keeps the SQLite files in DIR; with `--reuse` a kept file is measured again without
refilling (fill and measurement can then run at different times: the fill is slow, and only the
measurement needs a quiet machine). Each measurement adds its `--stores` articles to the file.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.newsite, the local site's shared topic config

import sqlalchemy as sa  # noqa: E402

from newsmon.config import Config, parse_config  # noqa: E402
from newsmon.figures import extract_figures  # noqa: E402
from newsmon.ingest import Batch, Validators, ingest_batch  # noqa: E402
from newsmon.spiders.article_page import ArticleRecord  # noqa: E402
from newsmon.spiders.simhash import MAX_DISTANCE, SimhashIndex, distance  # noqa: E402
from newsmon.storage import Database  # noqa: E402
from newsmon.storage.crawls import ensure_source, last_complete_run_at, last_runs  # noqa: E402
from newsmon.storage.models import Article, CrawlRun, SimhashBlock, Source  # noqa: E402
from newsmon.storage.near_duplicates import block_keys, probe_keys  # noqa: E402
from tests.newsite.config import TOPICS  # noqa: E402

POSTGRES_ADMIN = os.environ.get(
    "NEWSMON_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = datetime.now(UTC)
SINCE = NOW - timedelta(days=30)
CHUNK = 20_000
SOURCES = 100
CONFIG = (
    "storage: {url: 'sqlite://'}\n"
    + TOPICS
    + "sources:\n  - {name: wire, url: 'http://127.0.0.1/rss', type: feed}\n"
)
WORDS_TEXT = (
    "officials said government military forces region border report week ministry statement "
    "people country city attack president minister talks security according agency news told "
    "spokesman army defence plans support international aid killed wounded civilians village "
    "front line sources intelligence weapons shells drones missiles strike soldiers units"
)
WORDS = WORDS_TEXT.split()


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# === filling ===================================================================================


def fill(database: Database, count: int, rng: random.Random) -> float:
    """N originals and their blocks, N/10 runs; returns seconds taken."""
    started = time.perf_counter()
    with database.engine.begin() as connection:
        connection.execute(
            sa.insert(Source),
            [
                {"name": f"bench-{n}", "url": f"http://127.0.0.1/{n}", "type": "feed"}
                for n in range(SOURCES)
            ],
        )
    source_ids = [sid for (sid,) in _rows(database, sa.select(Source.id))]
    for start in range(0, count, CHUNK):
        articles, blocks = [], []
        for n in range(start + 1, min(start + CHUNK, count) + 1):
            value = rng.getrandbits(64) - (1 << 63)
            seen = NOW - timedelta(seconds=rng.randrange(25 * 86400))  # inside the window
            articles.append((n, f"https://bench.example/{n}", "[]", seen, value, 0))
            blocks += [(key, n, value, seen) for key in block_keys(value)]
        _bulk(
            database, "articles (id, url, authors, first_seen_at, simhash, version_count)", articles
        )
        _bulk(database, "simhash_blocks (block_key, article_id, simhash, first_seen_at)", blocks)
    runs = []
    for n in range(max(count // 10, SOURCES)):
        status = "ok" if n % 7 else "failed"
        at = NOW - timedelta(minutes=n)
        runs.append(
            {"source_id": source_ids[n % SOURCES], "started_at": at, "status": status}
            | {"finished_at": at, "error_counts": {}}
        )
    with database.engine.begin() as connection:
        for start in range(0, len(runs), CHUNK):
            connection.execute(sa.insert(CrawlRun), runs[start : start + CHUNK])
    with database.engine.connect() as connection:
        if database.dialect == "postgresql":  # ids were given: move the sequence past them
            connection.execute(sa.text(f"SELECT setval('articles_id_seq', {count + 1})"))
            connection.commit()
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(sa.text("VACUUM ANALYZE"))  # what autovacuum keeps up
        else:
            connection.execute(sa.text("ANALYZE"))
            connection.commit()
    return time.perf_counter() - started


def _bulk(database: Database, table: str, rows: list[tuple[Any, ...]]) -> None:
    """Rows straight through the driver (COPY on PostgreSQL): the fill is not what is measured.
    Times go in as the archive stores them (SQLite: naive UTC text)."""
    connection = database.engine.raw_connection()
    try:
        cursor = connection.cursor()
        if database.dialect == "postgresql":
            with cursor.copy(f"COPY {table} FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
        else:
            rows = [
                tuple(
                    v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v
                    for v in row
                )
                for row in rows
            ]
            marks = ", ".join("?" * len(rows[0]))
            cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        connection.commit()
    finally:
        connection.close()


def _rows(database: Database, query: Any) -> list[Any]:
    with database.engine.connect() as connection:
        return list(connection.execute(query))


# === measuring =================================================================================


@contextmanager
def cpu_meter(database: Database) -> Iterator[Callable[[], float]]:
    """CPU seconds since entry: this process, plus (PostgreSQL) the server backend of the pool's
    connection, which the measured code's sessions reuse: it runs one session at a time."""
    backend = None
    if database.dialect == "postgresql":
        with database.engine.connect() as connection:
            backend = int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
    start = time.process_time() + _backend_cpu(backend)
    yield lambda: time.process_time() + _backend_cpu(backend) - start
    if backend is not None:  # the measured code ran on that connection, not on a new one
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() == backend


def _backend_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def bench_lookups(database: Database, lookups: int, rng: random.Random) -> dict[str, float]:
    index = SimhashIndex(SINCE)
    values = [rng.getrandbits(64) - (1 << 63) for _ in range(lookups)]
    with database.session() as session:
        for value in values[:20]:  # warm the caches and the statement cache
            index.candidates(session, value)
    walls = []
    with cpu_meter(database) as cpu, database.session() as session:
        for value in values:
            started = time.perf_counter()
            index.candidates(session, value)
            walls.append(time.perf_counter() - started)
        cpu_seconds = cpu()
    with database.session() as session:
        rows_read = [
            session.scalar(
                sa.select(sa.func.count()).where(
                    SimhashBlock.block_key.in_(probe_keys(value, MAX_DISTANCE))
                )
            )
            for value in values[:50]
        ]
    return {
        "cpu_ms": 1000 * cpu_seconds / lookups,
        "wall_ms": 1000 * statistics.median(walls),
        "rows": statistics.mean(rows_read),
    }


def article_text(rng: random.Random) -> str:
    troops = rng.randrange(1000, 20000)
    lead = f"North Korea has sent about {troops:,} troops to Russia, officials said. "
    return lead + " ".join(rng.choice(WORDS) + str(rng.randrange(10**6)) for _ in range(300))


def bench_stores(database: Database, config: Config, stores: int, rng: random.Random) -> dict:
    records = []
    for _ in range(stores + 5):
        text = article_text(rng)
        found = ArticleRecord(
            f"https://bench.example/new/{uuid.uuid4().hex}",
            "North Korean troops",
            [],
            NOW - timedelta(hours=1),
            None,
            "en",
            text,
        )
        found.figures = extract_figures(text)
        records.append(found)
    with database.session() as session:
        source_id = ensure_source(session, "wire", "http://127.0.0.1/rss", "feed").id
    index = SimhashIndex(SINCE)

    def store(found: ArticleRecord) -> None:
        batch = Batch(config, config.sources[0], source_id, [(found, Validators(NOW), None)])
        (result,) = ingest_batch(database, batch, index)
        assert not isinstance(result, Exception) and result.outcome == "new_article", result

    for found in records[:5]:  # warm up
        store(found)
    walls = []
    with cpu_meter(database) as cpu:
        for found in records[5:]:
            started = time.perf_counter()
            store(found)
            walls.append(time.perf_counter() - started)
        cpu_seconds = cpu()
    return {
        "cpu_ms": 1000 * cpu_seconds / stores,
        "wall_ms": 1000 * statistics.median(walls),
    }


def bench_runs(database: Database, reps: int = 20) -> dict[str, float]:
    with database.session() as session:
        source_id = session.scalar(sa.select(Source.id).where(Source.name == "bench-1"))
        assert source_id is not None
        started = time.perf_counter()
        for _ in range(reps):
            latest = last_runs(session)
        all_ms = 1000 * (time.perf_counter() - started) / reps
        started = time.perf_counter()
        for _ in range(reps):
            last_runs(session, ["bench-1"])
        one_ms = 1000 * (time.perf_counter() - started) / reps
        started = time.perf_counter()
        for _ in range(reps):
            last_complete_run_at(session, source_id)
        complete_ms = 1000 * (time.perf_counter() - started) / reps
    assert len(latest) == SOURCES
    return {"all_ms": all_ms, "one_ms": one_ms, "complete_ms": complete_ms}


def plans(database: Database) -> list[str]:
    """The plans of the statements the lookup, last_runs() and last_complete_run_at() run."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    with database.session() as session:
        source_id = session.scalar(sa.select(Source.id).where(Source.name == "bench-2"))
        assert source_id is not None
        sa.event.listen(database.engine, "before_cursor_execute", record)
        try:
            SimhashIndex(SINCE).candidates(session, 0x1234_5678_9ABC_DEF0)
            last_runs(session)
            last_complete_run_at(session, source_id)
        finally:
            sa.event.remove(database.engine, "before_cursor_execute", record)
    names = ["lookup", "last_runs 1/2", "last_runs 2/2", "last_complete_run_at"]
    prefix = "EXPLAIN QUERY PLAN " if database.dialect == "sqlite" else "EXPLAIN "
    out = []
    with database.engine.connect() as connection:
        for name, (statement, parameters) in zip(names, seen, strict=True):
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
            lines = [_shorten(str(row[-1])) for row in rows]
            out.append(f"  {name}:\n" + "\n".join(f"    {line}" for line in lines))
    return out


def _shorten(line: str, width: int = 160) -> str:
    """A plan line without most of the 508 probed keys."""
    return line if len(line) <= width else line[: width - 5] + " ..."


# === the old in-memory index, for comparison ===================================================


class OldSimhashIndex:
    """The index every crawl built in memory before migration 0008 (8 exact 8-bit bands)."""

    def __init__(self, known: list[tuple[int, int]]) -> None:
        self._bands: list[dict[int, list[tuple[int, int]]]] = [{} for _ in range(8)]
        for article_id, value in known:
            for band, key in enumerate(self._keys(value)):
                self._bands[band].setdefault(key, []).append((article_id, value))

    @staticmethod
    def _keys(value: int) -> list[int]:
        unsigned = value & 0xFFFFFFFFFFFFFFFF
        return [unsigned >> (8 * band) & 0xFF for band in range(8)]

    def candidates(self, value: int) -> list[int]:
        return sorted(
            {
                article_id
                for band, key in enumerate(self._keys(value))
                for article_id, other in self._bands[band].get(key, [])
                if distance(value, other) <= MAX_DISTANCE
            }
        )


def _rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def old_index(url: str, lookups: int) -> dict[str, float]:
    """Run in a child process: what loading the old index costs on this database."""
    database = Database(url)
    gc.collect()
    before = _rss_mb()
    started = time.perf_counter()
    with database.session() as session:  # the query the old crawl ran
        known = list(
            session.execute(
                sa.select(Article.id, Article.simhash).where(
                    Article.simhash.is_not(None),
                    Article.duplicate_of_id.is_(None),
                    Article.first_seen_at >= SINCE,
                )
            )
        )
    index = OldSimhashIndex(known)
    load = time.perf_counter() - started
    rss = _rss_mb() - before
    rng = random.Random(7)
    values = [rng.getrandbits(64) - (1 << 63) for _ in range(lookups)]
    started = time.process_time()
    for value in values:
        index.candidates(value)
    per_lookup = 1000 * (time.process_time() - started) / lookups
    return {"load_s": load, "rss_mb": rss, "cpu_ms": per_lookup, "known": len(known)}


def measure_old(url: str, lookups: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--old-index", url, "--lookups", str(lookups)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output)


# === the run ===================================================================================


def postgres_database() -> tuple[str, sa.Engine] | None:
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"newsmon_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        print(f"postgresql: skipped, no server answers ({exc.orig})", file=sys.stderr)
        return None
    return sa.engine.make_url(POSTGRES_ADMIN).set(database=name).render_as_string(False), admin


def drop_postgres(url: str, admin: sa.Engine) -> None:
    name = sa.engine.make_url(url).database
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_one(
    backend: str, url: str, size: int, args: argparse.Namespace, refill: bool = True
) -> dict[str, Any]:
    rng = random.Random(size)
    database = Database.open(url)
    try:
        filled = fill(database, size, rng) if refill else 0.0
        if not refill:  # a kept archive: new hashes for this run's lookups and stores
            rng = random.Random(time.time_ns())
        config = parse_config(CONFIG, Path("config.yaml"), {})
        row: dict[str, Any] = {"backend": backend, "size": size, "fill_s": filled}
        row["lookup"] = bench_lookups(database, args.lookups, rng)
        row["store"] = bench_stores(database, config, args.stores, rng)
        row["runs"] = bench_runs(database)
        if size == max(args.sizes):
            row["plans"] = plans(database)
        if not args.no_old and backend == "sqlite":
            database.dispose()
            row["old"] = measure_old(url, args.lookups)
        return row
    finally:
        database.dispose()


def report(rows: list[dict[str, Any]]) -> None:
    print(
        f"\n{'backend':<11}{'archived':>10}{'fill s':>8} | {'lookup CPU ms':>13}{'wall ms':>9}"
        f"{'rows read':>10} | {'store CPU ms':>12}{'wall ms':>9} | "
        f"{'last_runs ms':>12}{'(1 src)':>8}{'last ok':>8}"
    )
    for row in rows:
        lookup, store, runs = row["lookup"], row["store"], row["runs"]
        print(
            f"{row['backend']:<11}{row['size']:>10,}{row['fill_s']:>8.0f} | "
            f"{lookup['cpu_ms']:>13.3f}{lookup['wall_ms']:>9.3f}{lookup['rows']:>10.1f} | "
            f"{store['cpu_ms']:>12.2f}{store['wall_ms']:>9.2f} | "
            f"{runs['all_ms']:>12.2f}{runs['one_ms']:>8.2f}{runs['complete_ms']:>8.2f}"
        )
    # the target: per-new-article CPU the same (within 20 %) at the smallest and largest size
    for backend in dict.fromkeys(row["backend"] for row in rows):
        mine = [row for row in rows if row["backend"] == backend]
        if len(mine) < 2:
            continue
        small, large = min(mine, key=lambda r: r["size"]), max(mine, key=lambda r: r["size"])
        print(
            f"{backend}: {large['size']:,} / {small['size']:,} archived: store CPU "
            f"x{large['store']['cpu_ms'] / small['store']['cpu_ms']:.2f}, lookup CPU "
            f"x{large['lookup']['cpu_ms'] / small['lookup']['cpu_ms']:.2f}"
        )
    old = [row for row in rows if "old" in row]
    if old:
        print("\nthe in-memory index each crawl loaded before (SQLite, in a child process):")
        print(f"{'archived':>10}{'load s':>8}{'+RSS MB':>9}{'lookup CPU ms':>14}")
        for row in old:
            o = row["old"]
            print(f"{row['size']:>10,}{o['load_s']:>8.2f}{o['rss_mb']:>9.0f}{o['cpu_ms']:>14.3f}")
    for row in rows:
        if "plans" in row:
            print(f"\nquery plans, {row['backend']} at {row['size']:,} archived:")
            print("\n".join(row["plans"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--lookups", type=int, default=400)
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--no-old", action="store_true", help="skip the old in-memory index")
    parser.add_argument("--keep", type=Path, help="keep the SQLite files in this folder")
    parser.add_argument("--reuse", action="store_true", help="measure kept files, no refill")
    parser.add_argument("--old-index", help=argparse.SUPPRESS)  # the child process's URL
    args = parser.parse_args()
    if args.old_index:
        print(json.dumps(old_index(args.old_index, args.lookups)))
        return
    args.sizes = [int(size) for size in args.sizes.split(",")]
    print(f"load average at start: {load_average()}  ({os.cpu_count()} cores)")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for size in args.sizes:
            if not args.no_sqlite:
                path = folder / f"dedup-{size}.db"
                refill = not (args.reuse and path.exists())
                if refill:
                    path.unlink(missing_ok=True)
                rows.append(run_one("sqlite", f"sqlite:///{path}", size, args, refill))
                print(f"  sqlite {size:,} done, load {load_average()}", file=sys.stderr)
            if args.no_postgres:
                continue
            created = postgres_database()
            if created is None:
                args.no_postgres = True
                continue
            pg_url, admin = created
            try:
                rows.append(run_one("postgresql", pg_url, size, args))
            finally:
                drop_postgres(pg_url, admin)
            print(f"  postgresql {size:,} done, load {load_average()}", file=sys.stderr)
    report(rows)
    print(f"\nload average at end: {load_average()}")


if __name__ == "__main__":
    main()
