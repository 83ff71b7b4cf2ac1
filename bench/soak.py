"""Soak: the real daemon (`newsmon run`, real spiders, its long-lived crawl engine) against the
local news site (tests/newsite) on a 1 s schedule, for N crawl cycles, the site changing now and
then (its stage flips between 1 and 2: figures revised, an article added, then back).

Prints the daemon's memory at cycles 20 and N (its own RSS, and its RSS plus its crawl engine
process and that engine's extraction workers at their peak around that cycle), crawls completed,
and alerts created, delivered (lines in the file channel), lost (created but never delivered)
and duplicated (delivered more than once).

    .venv/bin/python bench/soak.py [--cycles 200] [--every 1s] [--articles 10] [--flip-every 25]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests")]

from newsite import NewsSite  # noqa: E402  (tests/newsite: the local news site)
from sqlalchemy import func, select  # noqa: E402

from newsmon.storage import Database  # noqa: E402
from newsmon.storage.models import Alert, CrawlRun, Delivery  # noqa: E402

CONFIG = """\
storage:
  url: sqlite:///{db}
topics:
  nk-troops:
    title: North Korean troops in Russia
    keywords:
      all: ["North Korea|North Korean|Pyongyang|DPRK"]
      any: [troops, soldiers, deployment, deployed, casualties, Kursk]
    quantities:
      troops-in-russia:
        label: North Korean troops in Russia
        units: [troops, soldiers, servicemen, personnel, forces]
sources:
  - name: local news
    url: {feed}
    type: feed
    every: {every}
crawl:
  extract_workers: 1
  autothrottle: false
daemon:
  jitter: 0s
  crawl_timeout: 60s
  heartbeat_every: 2s
  dispatch_every: 1s
alerts:
  channels:
    - name: archive
      type: file
      path: {alerts}
"""

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def rss(pid: int) -> int:
    """Resident memory of one process in bytes (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * PAGE_SIZE
    except (FileNotFoundError, ProcessLookupError):
        return 0


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children, their children…), from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Sampler(threading.Thread):
    """Samples the daemon's RSS and its whole tree's RSS every 0.2 s, tagged with the cycle."""

    def __init__(self, pid: int, cycles: list[int]) -> None:
        super().__init__(daemon=True)
        self.pid, self.cycles = pid, cycles
        self.samples: list[tuple[int, int, int]] = []  # (cycle, daemon rss, tree rss)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            own = rss(self.pid)
            tree = own + sum(rss(child) for child in descendants(self.pid))
            self.samples.append((self.cycles[0], own, tree))

    def around(self, cycle: int, window: int = 5) -> tuple[float, int]:
        """(median daemon RSS, peak tree RSS) over the `window` cycles up to `cycle`."""
        chosen = [s for s in self.samples if cycle - window < s[0] <= cycle]
        return statistics.median(s[1] for s in chosen), max(s[2] for s in chosen)


def mb(size: float) -> str:
    return f"{size / 1024**2:.1f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--every", default="1s", help="the source's schedule (1s-2s)")
    parser.add_argument("--articles", type=int, default=10)
    parser.add_argument("--flip-every", type=int, default=25, help="cycles between site changes")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="newsmon-soak-"))
    db, alerts_file, log_file = work / "soak.db", work / "alerts.jsonl", work / "daemon.log"
    site = NewsSite(articles=args.articles)
    with site.serve():
        config = work / "config.yaml"
        config.write_text(
            CONFIG.format(
                db=db, feed=site.url("/feeds/rss.xml"), every=args.every, alerts=alerts_file
            )
        )
        database = Database.open(f"sqlite:///{db}")
        with log_file.open("w") as log:
            daemon = subprocess.Popen(
                [sys.executable, "-m", "newsmon.cli", "--config", str(config), "run"],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        cycles = [0]
        sampler = Sampler(daemon.pid, cycles)
        sampler.start()
        started = time.monotonic()
        flips = 0
        try:
            while cycles[0] < args.cycles:
                if daemon.poll() is not None:
                    print(f"daemon exited early ({daemon.returncode}); log: {log_file}")
                    return 1
                time.sleep(0.2)
                with database.session() as session:
                    cycles[0] = session.scalar(
                        select(func.count()).where(CrawlRun.status != "running")
                    )
                if cycles[0] >= (flips + 1) * args.flip_every:
                    flips += 1
                    site.stage = 2 if site.stage == 1 else 1
            elapsed = time.monotonic() - started
            drain_deadline = time.monotonic() + 30
            while time.monotonic() < drain_deadline:  # the last alerts' deliveries
                with database.session() as session:
                    pending = session.scalar(
                        select(func.count()).where(Delivery.status == "pending")
                    )
                if not pending:
                    break
                time.sleep(0.5)
        finally:
            sampler.done.set()
            daemon.send_signal(signal.SIGTERM)
            stop_status = daemon.wait(60)
    with database.session() as session:
        statuses = Counter(session.scalars(select(CrawlRun.status)).all())
        interrupted = session.scalar(
            select(func.count()).where(CrawlRun.message.startswith("interrupted"))
        )
        alert_ids = set(session.scalars(select(Alert.id)).all())
        failed_deliveries = session.scalar(select(func.count()).where(Delivery.status == "failed"))
    database.dispose()
    lines = alerts_file.read_text().splitlines() if alerts_file.exists() else []
    delivered = Counter(json.loads(line)["id"] for line in lines)
    lost = len(alert_ids - set(delivered))
    duplicated = sum(count - 1 for count in delivered.values() if count > 1)
    own_20, tree_20 = sampler.around(20)
    own_n, tree_n = sampler.around(args.cycles)
    print(f"soak: {args.cycles} crawl cycles, source every {args.every}, {flips} site changes, "
          f"{elapsed:.0f} s; work dir {work}")  # fmt: skip
    print(f"daemon RSS           cycle 20: {mb(own_20):>9}   cycle {args.cycles}: {mb(own_n):>9}"
          f"   growth {100 * (own_n - own_20) / own_20:+.1f} %")  # fmt: skip
    print(f"daemon+children peak cycle 20: {mb(tree_20):>9}   cycle {args.cycles}: "
          f"{mb(tree_n):>9}   growth {100 * (tree_n - tree_20) / tree_20:+.1f} %")  # fmt: skip
    print(f"crawls completed: {statuses.get('ok', 0)} ok, {statuses.get('failed', 0)} failed "
          f"({interrupted} interrupted by the final SIGTERM), "
          f"{statuses.get('timeout', 0)} timed out")  # fmt: skip
    print(f"alerts: {len(alert_ids)} created, {len(delivered)} delivered, {lost} lost, "
          f"{duplicated} duplicated, {failed_deliveries} deliveries failed")  # fmt: skip
    print(f"daemon stopped with SIGTERM: exit status {stop_status}")
    return 0 if lost == duplicated == 0 and stop_status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
