"""Benchmark the archive at scale: search latency, figures latency, export throughput and memory.

    .venv/bin/python bench/archive.py [--articles N] [--reps N] [--no-postgres]
                                        [--keep DIR [--reuse]] [--keep-postgres NAME]
                                        [--search-only]

Fills a fresh SQLite database (and, when a server answers at $NEWSMON_TEST_POSTGRES or
postgresql+psycopg://postgres@127.0.0.1:5432/test, a fresh PostgreSQL database created for the
run and dropped after it) with N synthetic news articles (default 100,000; 300-1,500 words of
news-like sentences, Zipf-distributed vocabulary, 20 outlets, a quarter of them in topic `nk`
with one or two tracked figures each), then prints:

- search latency p50/p95 over a mix of queries (common and rare words, phrases, OR, exclusions,
  topic/source/date filters), measured through storage.search as `newsmon search` calls it;
- `figures` latency (storage.archive.figure_timeline) for the whole timeline and the newest 100;
- export throughput and peak memory of the real command (`newsmon export` in a child process,
  peak RSS from the kernel) for a tenth of the articles and for all of them: flat memory means
  both peaks are about the same.

`--keep-postgres NAME` keeps the PostgreSQL database under that name instead of dropping it, and
a later run with the same name searches it instead of refilling it (a fill takes about 15 minutes
there); it is upgraded to the current schema first.

Only articles with figures get an article_versions row (the figures need one); the search and
export paths do not read versions.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

import sqlalchemy as sa  # noqa: E402

from newsmon.storage import Database  # noqa: E402
from newsmon.storage.archive import figure_timeline  # noqa: E402
from newsmon.storage.models import Article, ArticleTopic, ArticleVersion, Figure, Source  # noqa: E402
from newsmon.storage.search import SearchFilters, search_articles  # noqa: E402

POSTGRES_ADMIN = os.environ.get(
    "NEWSMON_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BATCH = 2_000
START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 365

COMMON_TEXT = (
    "officials said the government would military forces region border report week ministry "
    "statement people country city attack president minister talks security troops according "
    "agency news new told spokesman army defence plans support international aid people "
    "killed wounded civilians village front line sources intelligence weapons shells drones "
    "missiles strike strikes attacks soldiers units deployed deployment officials economy "
    "prices inflation budget billion million percent growth market energy gas oil election "
    "vote parliament party leader opposition protest police court judge law hospital doctors "
    "patients health outbreak cases vaccine schools children families weather storm flood "
    "rain heat drought fire firefighters residents evacuated homes"
)
COMMON = COMMON_TEXT.split()
CONNECTORS_TEXT = "the a of in on to and for with by from at as after before over into"
CONNECTORS = CONNECTORS_TEXT.split()
VERBS_TEXT = (
    "said reported confirmed denied warned announced estimated claimed added noted stated "
    "told described expected"
)
VERBS = VERBS_TEXT.split()
SYLLABLES_TEXT = "ka ri mo sa ne lu vo ta pe zi ro ba ki dan sk ov mir gor lin tek sha vel"
SYLLABLES = SYLLABLES_TEXT.split()


def synthetic_names(rng: random.Random, count: int) -> list[str]:
    """Place and person names: the long tail of a news vocabulary."""
    names = set()
    while len(names) < count:
        names.add("".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))).capitalize())
    return sorted(names)


def vocabulary(names: list[str], rng: random.Random) -> list[str]:
    """Content words by rank: a few words every article has ("said"), the story's words in
    a quarter to all of the articles, then the long tail of names that few articles mention."""
    top = ["said", "officials", "government", "people", "minister"]
    topical = [word for word in COMMON + VERBS if word not in top]
    rng.shuffle(topical)
    tail = list(names)
    rng.shuffle(tail)
    return top + topical + tail


def sentence_pool(rng: random.Random, names: list[str], size: int) -> list[str]:
    words_by_rank = vocabulary(names, rng)
    # Zipf: the word of rank r is used in proportion to 1/r
    cumulative = list(itertools.accumulate(1 / rank for rank in range(1, len(words_by_rank) + 1)))
    pool = []
    for _ in range(size):
        words = []
        for _ in range(rng.randint(14, 26)):
            roll = rng.random()
            if roll < 0.4:
                words.append(rng.choice(CONNECTORS))
            elif roll < 0.95:
                words.append(rng.choices(words_by_rank, cum_weights=cumulative)[0])
            else:
                words.append(f"{rng.randint(2, 900) * 10:,}")
        words[0] = words[0].capitalize()
        pool.append(" ".join(words) + ".")
    return pool


def article_rows(
    count: int, seed: int = 7
) -> Iterator[tuple[list[dict], list[dict], list[dict], list[dict]]]:
    """Batches of (articles, topics, versions, figures) rows with explicit ids."""
    rng = random.Random(seed)
    names = synthetic_names(rng, 4_000)
    pool = sentence_pool(rng, names, 8_000)
    version_id = figure_id = 0
    for first in range(1, count + 1, BATCH):
        articles, topics, versions, figures = [], [], [], []
        for article_id in range(first, min(first + BATCH, count + 1)):
            words = rng.randint(300, 1500)
            text = " ".join(rng.choices(pool, k=max(1, words // 20)))
            title = " ".join(rng.choices(pool, k=1)[0].split()[: rng.randint(7, 13)])
            published = START + timedelta(seconds=rng.randrange(DAYS * 86400))
            in_topic = rng.random() < 0.25
            articles.append(
                {
                    "id": article_id,
                    "url": f"https://news{article_id % 20}.example.org/{article_id}",
                    "source_id": article_id % 20 + 1,
                    "title": ("North Korean troops: " if in_topic else "") + title,
                    "text": text,
                    "authors": [],
                    "published_at": published if rng.random() < 0.9 else None,
                    "first_seen_at": published + timedelta(minutes=rng.randint(1, 600)),
                    "version_count": 1,
                }
            )
            if not in_topic:
                continue
            topics.append({"article_id": article_id, "topic": "nk"})
            version_id += 1
            versions.append(
                {
                    "id": version_id,
                    "article_id": article_id,
                    "number": 1,
                    "title": title,
                    "text": text,
                    "text_hash": uuid.uuid4().hex * 2,
                    "fetched_at": published,
                }
            )
            for _ in range(rng.randint(1, 2)):
                figure_id += 1
                value = float(rng.choice([3000, 10000, 11000, 12000, 15000]))
                figures.append(
                    {
                        "id": figure_id,
                        "version_id": version_id,
                        "article_id": article_id,
                        "topic": "nk",
                        "quantity": "nk/troops",
                        "value": value,
                        "qualifier": rng.choice(["exact", "approx", "at_least"]),
                        "unit": "soldier",
                        "text": f"{value:,.0f} soldiers",
                        "start_offset": 0,
                        "end_offset": 10,
                        "sentence": f"Officials said {value:,.0f} soldiers were deployed.",
                        "attribution": rng.choice(["the NIS", "the Pentagon", "Kyiv", None]),
                        "projection": rng.random() < 0.1,
                        "status": rng.choice(["new", "changed", "corroboration", None]),
                    }
                )
        yield articles, topics, versions, figures


def fill(database: Database, count: int) -> tuple[float, int]:
    """Insert the synthetic archive; returns (seconds, stored text bytes)."""
    began = time.perf_counter()
    text_bytes = 0
    with database.session() as session:
        session.execute(
            sa.insert(Source),
            [
                {"id": n, "name": f"outlet-{n}", "url": f"https://news{n}.example.org/rss",
                 "type": "feed"}
                for n in range(1, 21)
            ],
        )  # fmt: skip
    for articles, topics, versions, figures in article_rows(count):
        with database.session() as session:
            session.execute(sa.insert(Article), articles)
            if topics:
                session.execute(sa.insert(ArticleTopic), topics)
                session.execute(sa.insert(ArticleVersion), versions)
                session.execute(sa.insert(Figure), figures)
        text_bytes += sum(len(row["text"]) for row in articles)
        print(f"\r  stored {articles[-1]['id']:,} articles", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if database.dialect == "postgresql":
        with database.engine.begin() as connection:
            for table in ("sources", "articles", "article_versions", "figures"):
                connection.execute(
                    sa.text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
                )
            connection.execute(sa.text("ANALYZE"))
    else:
        with database.engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))
    return time.perf_counter() - began, text_bytes


NAMES = synthetic_names(random.Random(7), 4_000)  # the names article_rows(seed=7) uses

QUERIES: list[tuple[str, SearchFilters]] = [
    ("officials said", SearchFilters()),  # in nearly every article
    ("troops", SearchFilters()),
    ('"front line"', SearchFilters()),
    ("drones OR missiles", SearchFilters()),
    ("election -protest", SearchFilters()),
    ("intelligence deployed", SearchFilters(topic="nk")),
    ("hospital outbreak", SearchFilters(source="outlet-3")),
    ("inflation", SearchFilters(since=START + timedelta(days=300))),
    ("flood evacuated", SearchFilters(until=START + timedelta(days=30))),
    (NAMES[0], SearchFilters()),  # a name somewhere in the tail
    (f"{NAMES[1]} {NAMES[2]}", SearchFilters()),
    ("korean troops strike", SearchFilters(topic="nk", since=START + timedelta(days=180))),
]


def query_kind(query: str, filters: SearchFilters) -> str:
    """The query with its filters, as the per-kind table names it."""
    given = [f"{name}" for name in ("topic", "source", "since", "until") if getattr(filters, name)]
    return query + (f" [{'+'.join(given)}]" if given else "")


def print_kinds(backends: dict[str, dict[str, list[float]]]) -> None:
    """p50/p95 of each query kind, the backends side by side, and PostgreSQL's over SQLite's."""
    names = list(backends)
    header = f"{'query kind':<44}" + "".join(f"{name + ' p50/p95 ms':>26}" for name in names)
    if len(names) == 2:
        header += f"{'p95 ratio':>11}"
    print(header)
    for kind in backends[names[0]]:
        line = f"{kind[:43]:<44}"
        p95s = []
        for name in names:
            timings = backends[name].get(kind, [])
            p50, p95 = percentile(timings, 0.5) * 1000, percentile(timings, 0.95) * 1000
            p95s.append(p95)
            line += f"{p50:>16.1f} / {p95:>7.1f}"
        if len(names) == 2:
            line += f"{p95s[1] / p95s[0]:>10.1f}x"
        print(line)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def bench_search(databases: dict[str, Database], reps: int) -> dict[str, dict[str, list[float]]]:
    """Each search's seconds by backend and query kind. The backends take turns query by query,
    so a change in the machine's load weighs on both alike."""
    timings: dict[str, dict[str, list[float]]] = {name: {} for name in databases}
    with contextlib.ExitStack() as stack:
        sessions = {
            name: stack.enter_context(database.session()) for name, database in databases.items()
        }
        for query, filters in QUERIES:  # warm the caches once
            for session in sessions.values():
                search_articles(session, query, filters, 20)
        for _ in range(reps):
            for query, filters in QUERIES:
                for name, session in sessions.items():
                    began = time.perf_counter()
                    search_articles(session, query, filters, 20)
                    elapsed = time.perf_counter() - began
                    kind = query_kind(query, filters)
                    timings[name].setdefault(kind, []).append(elapsed)
    return timings


def print_search(name: str, by_kind: dict[str, list[float]], reps: int) -> None:
    every = [seconds for timings in by_kind.values() for seconds in timings]
    slowest = max(by_kind, key=lambda kind: statistics.median(by_kind[kind]))
    print(
        f"{name:<10} search     p50 {percentile(every, 0.5) * 1000:6.1f} ms  "
        f"p95 {percentile(every, 0.95) * 1000:6.1f} ms  max {max(every) * 1000:6.1f} ms  "
        f"({len(every)} queries: {len(QUERIES)} kinds x {reps}; slowest {slowest!r} "
        f"(median {statistics.median(by_kind[slowest]) * 1000:.1f} ms); "
        f"load average {os.getloadavg()[0]:.1f})"
    )


def bench_figures(database: Database) -> tuple[float, int, float]:
    with database.session() as session:
        figure_timeline(session, quantity="nk/troops", limit=100)  # warm up
        began = time.perf_counter()
        rows = figure_timeline(session, quantity="nk/troops")
        whole = time.perf_counter() - began
        began = time.perf_counter()
        figure_timeline(session, quantity="nk/troops", limit=100)
        newest = time.perf_counter() - began
    return whole * 1000, len(rows), newest * 1000


CONFIG = """storage:
  url: {url}
topics:
  nk:
    title: North Korean troops
    quantities:
      troops: {{label: troops, units: [soldier]}}
"""


def bench_export(url: str, folder: Path, since: str | None) -> tuple[float, int, float, int]:
    """Run `newsmon export` as a child process; (seconds, lines, peak RSS MB, bytes)."""
    config = folder / "bench-config.yaml"
    config.write_text(CONFIG.format(url=url), encoding="utf-8")
    target = folder / "export.jsonl"
    command = [
        sys.executable,
        "-m",
        "newsmon.cli",
        "--config",
        str(config),
        "export",
        "-o",
        str(target),
    ]
    if since:
        command += ["--since", since]
    began = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    if status != 0:
        raise SystemExit(f"export failed with status {status}")
    size = target.stat().st_size
    with target.open("rb") as handle:
        lines = sum(1 for _ in handle)
    target.unlink()
    return seconds, lines, usage.ru_maxrss / 1024, size  # ru_maxrss is in kB on Linux


def prepare_backend(name: str, url: str, articles: int, reuse: bool) -> Database:
    """The backend's database, filled with `articles` articles, or as an earlier run left it."""
    database = Database.open(url)  # a reused database is upgraded to the current schema here
    if reuse:
        with database.session() as session:
            stored = session.scalar(sa.select(sa.func.count()).select_from(Article))
        print(f"{name:<10} fill       reused {url} ({stored:,} articles)")
    else:
        print(f"{name}: filling {articles:,} articles …", file=sys.stderr)
        seconds, text_bytes = fill(database, articles)
        print(
            f"{name:<10} fill       {articles:,} articles, {text_bytes / 1e6:,.0f} MB of "
            f"text in {seconds:,.1f} s ({articles / seconds:,.0f} articles/s)"
        )
    return database


def bench_rest(name: str, url: str, database: Database, folder: Path) -> None:
    """figures and export of one backend."""
    whole, rows, newest = bench_figures(database)
    print(
        f"{name:<10} figures    whole timeline {whole:7.1f} ms ({rows:,} reports)  "
        f"newest 100 {newest:6.1f} ms"
    )
    since = (START + timedelta(days=DAYS * 0.9)).date().isoformat()  # about a tenth
    for label, since_arg in (("a tenth", since), ("all", None)):
        secs, lines, peak, size = bench_export(url, folder, since_arg)
        print(
            f"{name:<10} export     {label:<8} {lines:>7,} articles  {size / 1e6:7,.0f} MB  "
            f"{secs:6.1f} s  {lines / secs:8,.0f} articles/s  peak RSS {peak:5.0f} MB"
        )


def postgres_database(kept: str | None) -> tuple[str, sa.Engine, bool] | None:
    """(url, admin engine, reused) of the database to bench: a new one, or the kept one."""
    admin = sa.create_engine(
        POSTGRES_ADMIN, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    name = kept or f"newsmon_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            exists = connection.scalar(
                sa.text("SELECT count(*) FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        print(f"postgresql: skipped, no server answers ({exc.orig})", file=sys.stderr)
        admin.dispose()
        return None
    url = sa.engine.make_url(POSTGRES_ADMIN).set(database=name).render_as_string(False)
    return url, admin, bool(exists)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000, help="articles to store")
    parser.add_argument("--reps", type=int, default=10, help="passes over the query mix")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--keep", type=Path, help="build the SQLite file here and keep it")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: search the SQLite file kept there by an earlier run instead of "
        "refilling it (for trying queries; report figures from a fresh fill)",
    )
    parser.add_argument(
        "--search-only", action="store_true", help="time search only (no figures, no export)"
    )
    parser.add_argument(
        "--keep-postgres",
        metavar="NAME",
        help="keep the PostgreSQL database under this name; when it exists (an earlier run "
        "kept it), search it instead of refilling it",
    )
    args = parser.parse_args()
    if args.keep_postgres is not None and not re.fullmatch(r"[a-z_][a-z0-9_]*", args.keep_postgres):
        parser.error("--keep-postgres: a database name of lower-case letters, digits and _")
    if args.articles < 100:
        parser.error("--articles: at least 100")
    if args.reuse and args.keep is None:
        parser.error("--reuse: give --keep DIR, the folder of the kept file")
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-") as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        sqlite_file = folder / "bench.db"
        if args.reuse and not sqlite_file.exists():
            raise SystemExit(f"--reuse: no {sqlite_file}; run once with --keep {folder} first")
        if sqlite_file.exists() and not args.reuse:
            raise SystemExit(f"{sqlite_file} exists; give --keep an empty folder, or --reuse")
        print(f"cpu {os.cpu_count()} cores; sqlite file {sqlite_file}")
        urls = {"sqlite": f"sqlite:///{sqlite_file}"}
        databases = {"sqlite": prepare_backend("sqlite", urls["sqlite"], args.articles, args.reuse)}
        print(f"sqlite     file size  {sqlite_file.stat().st_size / 1e6:,.0f} MB")
        created = None if args.no_postgres else postgres_database(args.keep_postgres)
        try:
            if created is not None:
                urls["postgresql"], _, reused = created
                databases["postgresql"] = prepare_backend(
                    "postgresql", urls["postgresql"], args.articles, reused
                )
            timings = bench_search(databases, args.reps)
            for name, by_kind in timings.items():
                print_search(name, by_kind, args.reps)
            print_kinds(timings)
            for name, database in databases.items():
                if not args.search_only:
                    bench_rest(name, urls[name], database, folder)
                database.dispose()
        finally:
            if created is not None:
                url, admin, _ = created
                name = sa.engine.make_url(url).database
                if args.keep_postgres is None:
                    with admin.connect() as connection:
                        connection.execute(
                            sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                        )
                admin.dispose()
    print(
        f"bench process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
