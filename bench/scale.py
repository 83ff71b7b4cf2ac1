"""How many feed sources one daemon keeps up with: N feed sources on a local site that answers
304 to a repeated poll, polled by the real daemon (`newsmon run`, its long-lived crawl engine)
for a few minutes.

    .venv/bin/python bench/scale.py --sources 100 1000 --every 1m --minutes 3

Prints, per N: polls done vs due, CPU per poll (the daemon and all its descendants), the
daemon's and the whole tree's peak RSS, and lag p50/p95/max (how late each poll started against
its source's previous start plus `every`). The sources' last runs are seeded spread over one
interval, as a daemon that has been running for a while has them, so the figures are the steady
state rather than the first burst after a fresh start.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import select

from newsmon.storage import Database
from newsmon.storage.crawls import ensure_source
from newsmon.storage.models import CrawlRun, Source

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>wire</title></channel></rss>'
ETAG = '"v1"'
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


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
        pass


def duration(text: str) -> timedelta:
    units = {"s": 1, "m": 60, "h": 3600}
    return timedelta(seconds=float(text[:-1]) * units[text[-1]])


def tree(root: int) -> dict[int, list[str]]:
    """pid -> /proc/pid/stat fields (after the command name) of root and its descendants."""
    stats: dict[int, list[str]] = {}
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            stats[int(path.parent.name)] = path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
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


def run_one(n: int, every: timedelta, minutes: float, site: str, work: Path) -> dict[str, float]:
    url = f"sqlite:///{work / f'scale-{n}.db'}"
    database = Database.open(url)
    now = datetime.now(UTC)
    rng = random.Random(n)
    names = [f"feed-{i:05d}" for i in range(n)]
    seeds = {name: now - timedelta(seconds=rng.uniform(0, every.total_seconds())) for name in names}
    with database.session() as session:  # steady state: last runs spread over one interval
        for name in names:
            ensure_source(session, name, f"{site}/{name}.xml", "feed").last_run_at = seeds[name]
    sources = "".join(
        f'  - {{name: {name}, url: "{site}/{name}.xml", type: feed, every: '
        f"{int(every.total_seconds())}s}}\n"
        for name in names
    )
    config = work / f"scale-{n}.yaml"
    config.write_text(
        f'storage: {{url: "{url}"}}\n'
        "crawl: {obey_robots: false, allow_private_addresses: true, retries: 0, "
        "autothrottle: false, download_delay: 0s}\n"
        "daemon: {jitter: 1s, heartbeat_every: 15s, misfire_grace: 10m}\n"
        "sources:\n" + sources
    )
    log_path = work / f"scale-{n}.log"
    with log_path.open("w") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "newsmon.cli", "--config", str(config), "run"]
            + ["--log-format", "json", "--log-level", "warning"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    started = datetime.now(UTC)
    deadline = time.monotonic() + minutes * 60
    peak_daemon = peak_tree = 0
    cpu = 0.0  # from the daemon's own start: its start-up is part of the cost
    while time.monotonic() < deadline and daemon.poll() is None:
        stats = tree(daemon.pid)
        peak_daemon = max(peak_daemon, rss(stats, daemon.pid))
        peak_tree = max(peak_tree, rss(stats))
        cpu = cpu_seconds(stats)
        time.sleep(1.0)
    ended = datetime.now(UTC)
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(60)
    with database.session() as session:
        rows = session.execute(
            select(Source.name, CrawlRun.started_at, CrawlRun.status)
            .join(CrawlRun)
            .where(CrawlRun.started_at >= started)
            .order_by(CrawlRun.id)
        ).all()
    database.dispose()
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
    return {
        "sources": n,
        "seconds": seconds,
        "due": due,
        "polls": len(rows),
        "ok": done,
        "cpu_per_poll_ms": 1000 * cpu / max(1, len(rows)),
        "cpu_share": cpu / seconds / (os.cpu_count() or 1),
        "daemon_rss_mb": peak_daemon / 2**20,
        "tree_rss_mb": peak_tree / 2**20,
        "lag_p50": statistics.median(lags) if lags else float("nan"),
        "lag_p95": lags[int(0.95 * (len(lags) - 1))] if lags else float("nan"),
        "lag_max": lags[-1] if lags else float("nan"),
        "warnings": sum("falling behind" in line for line in log_path.read_text().splitlines()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--every", default="1m")
    parser.add_argument("--minutes", type=float, default=3.0)
    args = parser.parse_args()
    every = duration(args.every)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Feeds)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{server.server_address[1]}"
    work = Path(tempfile.mkdtemp(prefix="newsmon-scale-"))
    print(f"scale: every {args.every}, {args.minutes:g} min per size; work dir {work}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    header = (
        f"{'sources':>8}{'due':>8}{'polls':>8}{'ok':>8}{'CPU/poll':>10}{'CPU %':>7}"
        f"{'daemon MB':>10}{'tree MB':>9}{'lag p50':>9}{'p95':>8}{'max':>8}{'warn':>6}"
    )
    print(header)
    for n in args.sources:
        r = run_one(n, every, args.minutes, site, work)
        print(
            f"{n:>8}{r['due']:>8}{r['polls']:>8}{r['ok']:>8}{r['cpu_per_poll_ms']:>8.1f}ms"
            f"{100 * r['cpu_share']:>6.0f}%{r['daemon_rss_mb']:>10.0f}{r['tree_rss_mb']:>9.0f}"
            f"{r['lag_p50']:>8.1f}s{r['lag_p95']:>7.1f}s{r['lag_max']:>7.1f}s{r['warnings']:>6}",
            flush=True,
        )
        print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print("  " + json.dumps({k: round(v, 3) for k, v in r.items()}))
    server.shutdown()


if __name__ == "__main__":
    main()
