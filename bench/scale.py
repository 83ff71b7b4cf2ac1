"""How many feed sources one daemon keeps up with: N feed sources on a local site that answers
304 to a repeated poll, polled by the real daemon (`newsmon run`, its long-lived crawl engine)
for a few minutes; with `--workers`, also by the split setup (`newsmon run --role scheduler`
and 1, 2, 3 `newsmon run --role worker`) on PostgreSQL and a private redis-server.

    .venv/bin/python bench/scale.py --sources 100 1000 --every 1m --minutes 3
    .venv/bin/python bench/scale.py --sources 1000 --every 1m --minutes 3 --workers 1 2 3

Prints, per N: polls done vs due, CPU per poll (every process of the setup and all their
descendants, the split setup's redis-server included; PostgreSQL's own server is not counted, for
either setup), peak RSS, and lag p50/p95/max (how late each poll started against its source's
previous start plus `every`; in the split setup the time a poll waits in the queue is part of it).
The sources' last runs are seeded spread over one interval, as a daemon that has been running for a
while has them, so the figures are the steady state rather than the first burst after a fresh start.
`--until-polled` ends each row once every source has been polled ok (`--minutes` is then a cap):
a smoke run that proves each setup polls, not a measurement (tests/test_scale_bench.py).

Without `--workers` the daemon runs on SQLite. With it, every row of that N (the single
`newsmon run` first, then the split setups) runs on a fresh PostgreSQL database the bench creates
and drops (`--postgres`, an admin URL with trust auth), so the rows compare like with like.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import select

from newsmon.storage import Database
from newsmon.storage.crawls import ensure_source
from newsmon.storage.models import CrawlRun, Source

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>wire</title></channel></rss>'
ETAG = '"v1"'
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class Feeds(BaseHTTPRequestHandler):
    """Every path is an empty feed with an ETag; 304 when asked with it."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
        if self.headers.get("If-None-Match") == ETAG:
            self.send_response(304)
            self.send_header("ETag", ETAG)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(FEED)))
        self.send_header("ETag", ETAG)
        self.end_headers()
        self.wfile.write(FEED)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a line per request would bury the output."""


def duration(text: str) -> timedelta:
    units = {"s": 1, "m": 60, "h": 3600}
    return timedelta(seconds=float(text[:-1]) * units[text[-1]])


def proc_stats() -> dict[int, list[str]]:
    """pid -> /proc/pid/stat fields (after the command name) of every process."""
    stats: dict[int, list[str]] = {}
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            stats[int(path.parent.name)] = path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
    return stats


def tree(root: int, stats: dict[int, list[str]] | None = None) -> dict[int, list[str]]:
    """pid -> /proc/pid/stat fields of root and its descendants."""
    stats = proc_stats() if stats is None else stats
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            found[pid] = stats[pid]
            todo.extend(p for p, fields in stats.items() if int(fields[1]) == pid)
    return found


def cpu_seconds(stats: dict[int, list[str]]) -> float:
    """utime + stime of each live process, plus what its reaped children used."""
    return sum(sum(int(f[i]) for i in (11, 12, 13, 14)) for f in stats.values()) / TICK


def rss(stats: dict[int, list[str]], pid: int | None = None) -> int:
    return sum(int(f[21]) * PAGE for p, f in stats.items() if pid is None or p == pid)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of the bench's own on a free port (never the shared one on 6379)."""

    def __init__(self, work: Path) -> None:
        port = free_port()
        self.url = f"redis://127.0.0.1:{port}/0"
        command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(work)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.1)
        self.stop()
        sys.exit(f"scale: the private redis-server on port {port} did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)


class FreshPostgres:
    """A PostgreSQL database created for one row of the bench and dropped after it."""

    def __init__(self, admin_url: str, name: str) -> None:
        self.name = name
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.url = sa.engine.make_url(admin_url).set(database=name).render_as_string(False)
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


@dataclass
class Peaks:
    """Peak RSS per process role, sampled every second."""

    main: int = 0  # the daemon's, or the scheduler's, own process
    worker: int = 0  # the largest worker tree (worker, its engine, its extraction pool)
    total: int = 0  # every process of the setup at once
    broker: int = 0
    cpu: dict[int, float] = field(default_factory=dict)  # root pid -> CPU-s of its tree


def seed(url: str, names: list[str], site: str, seeds: dict[str, datetime]) -> None:
    database = Database.open(url)
    with database.session() as session:  # steady state: last runs spread over one interval
        for name in names:
            ensure_source(session, name, f"{site}/{name}.xml", "feed").last_run_at = seeds[name]
    database.dispose()


def write_config(
    path: Path, url: str, names: list[str], site: str, every: timedelta, broker: str | None
) -> None:
    sources = "".join(
        f'  - {{name: {name}, url: "{site}/{name}.xml", type: feed, every: '
        f"{int(every.total_seconds())}s}}\n"
        for name in names
    )
    # the split setup: a poll lost with its worker comes back after 5 min (none is lost here)
    queue = (
        f", broker_url: {broker}, crawl_timeout: 2m, broker_visibility_timeout: 5m"
        if broker
        else ""
    )
    path.write_text(
        f'storage: {{url: "{url}"}}\n'
        "crawl: {obey_robots: false, allow_private_addresses: true, retries: 0, "
        "autothrottle: false, download_delay: 0s}\n"
        f"daemon: {{jitter: 1s, heartbeat_every: 15s, misfire_grace: 10m{queue}}}\n"
        "sources:\n" + sources
    )


def start(config: Path, log_path: Path, role: str | None) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "newsmon.cli", "--config", str(config), "run"]
    command += ["--role", role] if role else []
    with log_path.open("w") as log:
        return subprocess.Popen(
            command + ["--log-format", "json", "--log-level", "warning"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def polled_ok(database: Database, since: datetime) -> int:
    """How many sources have had an ok poll started since `since`."""
    with database.session() as session:
        return int(
            session.execute(
                select(sa.func.count(sa.distinct(CrawlRun.source_id))).where(
                    CrawlRun.started_at >= since, CrawlRun.status == "ok"
                )
            ).scalar_one()
        )


def run_one(
    n: int, every: timedelta, minutes: float, site: str, work: Path,
    workers: int | None, postgres: str | None, until_polled: bool = False,
) -> dict[str, float]:  # fmt: skip
    """One row: `workers` None is the single `newsmon run`; else a scheduler and that many
    workers on a private redis-server. `postgres` an admin URL, or None for SQLite.
    `until_polled`: end the row early, once every source has been polled ok (a smoke run)."""
    label = "run" if workers is None else f"w{workers}"
    fresh = (
        FreshPostgres(postgres, f"newsmon_scale_{os.getpid()}_{n}_{label}") if postgres else None
    )
    url = fresh.url if fresh else f"sqlite:///{work / f'scale-{n}.db'}"
    now = datetime.now(UTC)
    rng = random.Random(n)
    names = [f"feed-{i:05d}" for i in range(n)]
    seeds = {name: now - timedelta(seconds=rng.uniform(0, every.total_seconds())) for name in names}
    seed(url, names, site, seeds)
    broker = PrivateRedis(work) if workers is not None else None
    config = work / f"scale-{n}-{label}.yaml"
    write_config(config, url, names, site, every, broker.url if broker else None)
    logs = [work / f"scale-{n}-{label}-main.log"]
    main = start(config, logs[0], None if workers is None else "scheduler")
    crew = []
    for i in range(workers or 0):
        logs.append(work / f"scale-{n}-{label}-worker{i + 1}.log")
        crew.append(start(config, logs[-1], "worker"))
    roots = [main, *crew]
    started = datetime.now(UTC)
    deadline = time.monotonic() + minutes * 60
    # every source's first poll is due by then (its seeded last run plus `every`)
    all_due = max(seeds.values()) + every
    watch = Database(url) if until_polled else None
    peaks = Peaks()
    while time.monotonic() < deadline and all(p.poll() is None for p in roots):
        if watch and datetime.now(UTC) >= all_due and polled_ok(watch, started) == n:
            break
        stats = proc_stats()
        trees = {p.pid: tree(p.pid, stats) for p in roots}
        if broker:
            trees[broker.process.pid] = tree(broker.process.pid, stats)
            peaks.broker = max(peaks.broker, rss(trees[broker.process.pid]))
        peaks.main = max(peaks.main, rss(trees[main.pid], main.pid))
        peaks.worker = max([peaks.worker, *(rss(trees[p.pid]) for p in crew)])
        peaks.total = max(peaks.total, sum(rss(t) for t in trees.values()))
        peaks.cpu = {pid: cpu_seconds(t) for pid, t in trees.items()}  # from each start
        time.sleep(1.0)
    ended = datetime.now(UTC)
    exited = [p.pid for p in roots if p.poll() is not None]
    for process in roots:  # the scheduler first: no new polls while the workers drain
        process.send_signal(signal.SIGTERM)
    for process in roots:
        try:
            process.wait(90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if broker:
        broker.stop()
    if watch:
        watch.dispose()
    database = Database(url)
    with database.session() as session:
        rows = session.execute(
            select(Source.name, CrawlRun.started_at, CrawlRun.status)
            .join(CrawlRun)
            .where(CrawlRun.started_at >= started)
            .order_by(CrawlRun.started_at)
        ).all()
    database.dispose()
    if fresh:
        fresh.drop()
    lags, last, done = [], {}, 0
    for name, at, status in rows:
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        previous = last.get(name)
        if previous is None:  # the first poll after the start: against the seeded last run
            previous = seeds[name]
        lags.append(max(0.0, (at - (previous + every)).total_seconds()))
        last[name] = at
        done += status == "ok"
    seconds = (ended - started).total_seconds()
    due = 0  # scheduled poll times within the run, per source from its seeded last run
    for name in names:
        first = seeds[name] + every
        if first < ended:
            due += 1 + int((ended - first) / every)
    lags.sort()
    cpu = sum(peaks.cpu.values())
    lines = [line for path in logs for line in path.read_text().splitlines()]
    if exited:
        print(f"  {label}: process {exited} exited early; the logs are in {work}", flush=True)
    return {
        "sources": n,
        "workers": workers or 0,
        "seconds": seconds,
        "due": due,
        "polls": len(rows),
        "ok": done,
        "cpu_per_poll_ms": 1000 * cpu / max(1, len(rows)),
        "cpu_share": cpu / seconds / (os.cpu_count() or 1),
        "main_rss_mb": peaks.main / 2**20,
        "worker_rss_mb": peaks.worker / 2**20,
        "broker_rss_mb": peaks.broker / 2**20,
        "total_rss_mb": peaks.total / 2**20,
        "broker_cpu_s": peaks.cpu.get(broker.process.pid, 0.0) if broker else 0.0,
        "lag_p50": statistics.median(lags) if lags else float("nan"),
        "lag_p95": lags[int(0.95 * (len(lags) - 1))] if lags else float("nan"),
        "lag_max": lags[-1] if lags else float("nan"),
        "warnings": sum("falling behind" in line for line in lines),
    }


def print_row(setup: str, r: dict[str, float]) -> None:
    worker = f"{r['worker_rss_mb']:>10.0f}" if r["workers"] else f"{'-':>10}"
    print(
        f"{int(r['sources']):>8} {setup:<11}{int(r['due']):>7}{int(r['polls']):>7}{int(r['ok']):>7}"
        f"{r['cpu_per_poll_ms']:>8.1f}ms{100 * r['cpu_share']:>6.0f}%{r['main_rss_mb']:>8.0f}"
        f"{worker}{r['total_rss_mb']:>9.0f}"
        f"{r['lag_p50']:>8.1f}s{r['lag_p95']:>7.1f}s{r['lag_max']:>7.1f}s{int(r['warnings']):>5}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--every", default="1m")
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument(
        "--workers", type=int, nargs="*", default=[],
        help="also a scheduler and this many workers (e.g. 1 2 3), all rows on PostgreSQL",
    )  # fmt: skip
    parser.add_argument(
        "--until-polled", action="store_true",
        help="end each row once every source has been polled ok (--minutes is then the cap)",
    )  # fmt: skip
    parser.add_argument(
        "--postgres", default=os.environ.get("NEWSMON_TEST_POSTGRES", POSTGRES_ADMIN),
        help="admin URL of the PostgreSQL server the bench creates its databases on",
    )  # fmt: skip
    args = parser.parse_args()
    if any(w < 1 for w in args.workers):
        sys.exit(f"scale: --workers wants counts of 1 or more, got {args.workers}")
    try:
        every = duration(args.every)
    except (KeyError, ValueError, IndexError):
        sys.exit(f"scale: --every wants a duration such as 90s, 1m or 15m, got {args.every!r}")
    postgres = args.postgres if args.workers else None
    if postgres:
        try:
            engine = sa.create_engine(postgres, connect_args={"connect_timeout": 3})
            engine.connect().close()  # reachable, or the one line below
            engine.dispose()
        except sa.exc.OperationalError as exc:
            sys.exit(f"scale: --workers needs PostgreSQL; none answers at {postgres}: {exc.orig}")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Feeds)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{server.server_address[1]}"
    work = Path(tempfile.mkdtemp(prefix="newsmon-scale-"))
    store = "PostgreSQL" if postgres else "SQLite"
    print(f"scale: every {args.every}, {args.minutes:g} min per row, on {store}; work dir {work}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{'sources':>8} {'setup':<11}{'due':>7}{'polls':>7}{'ok':>7}{'CPU/poll':>10}{'CPU %':>7}"
        f"{'main MB':>8}{'worker MB':>10}{'total MB':>9}{'lag p50':>9}{'p95':>8}{'max':>8}"
        f"{'warn':>5}"
    )
    results = []
    for n in args.sources:
        for workers in [None, *args.workers]:
            r = run_one(n, every, args.minutes, site, work, workers, postgres, args.until_polled)
            setup = "run" if workers is None else f"sched+{workers}w"
            print_row(setup, r)
            results.append((setup, r))
            print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    for setup, r in results:
        print(f"{setup}: " + json.dumps({k: round(v, 3) for k, v in r.items()}))
    server.shutdown()


if __name__ == "__main__":
    main()
