"""Dispatch throughput: N pending deliveries to a fast local webhook (a receiver process on
127.0.0.1 answering 200 at once), drained by the real dispatcher as the daemon runs it.

Prints deliveries per second, the time to drain, duplicates and losses seen by the receiver, and
the 1-minute load average before and after.

    .venv/bin/python bench/dispatch.py [--deliveries 50000] [--url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from sqlalchemy import func, insert, select  # noqa: E402

from newsmon.alerts.dispatch import dispatch_pending  # noqa: E402
from newsmon.clock import utcnow  # noqa: E402
from newsmon.config import parse_config  # noqa: E402
from newsmon.storage import Database  # noqa: E402
from newsmon.storage.models import Alert, Delivery  # noqa: E402


def receiver(port_out: multiprocessing.connection.Connection, log_path: str) -> None:
    """A webhook that answers 200 at once and appends each Idempotency-Key to a file."""
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - open for the process' lifetime

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            log.write(self.headers.get("Idempotency-Key", "") + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            """Quiet: the benchmark prints its own figures, not a line per request."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.send(server.server_address[1])
    server.serve_forever()


def fill(database: Database, count: int) -> None:
    now = utcnow()
    payload = {"id": "", "kind": "new", "label": "x", "article": {"url": "http://x/"}}
    for start in range(0, count, 5000):
        ids = [str(uuid.uuid4()) for _ in range(start, min(count, start + 5000))]
        with database.session() as session:
            session.execute(
                insert(Alert),
                [
                    {"id": i, "dedupe_key": i, "kind": "new", "topic": "t", "quantity": "t/q",
                     "payload": payload | {"id": i}, "created_at": now}
                    for i in ids
                ],
            )  # fmt: skip
            session.execute(
                insert(Delivery),
                [
                    {"alert_id": i, "channel": "hook", "status": "pending", "attempts": 0,
                     "next_attempt_at": now, "created_at": now}
                    for i in ids
                ],
            )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=50_000)
    parser.add_argument("--url", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="newsmon-bench-dispatch-"))
    url = args.url or f"sqlite:///{folder / 'bench.db'}"
    keys_path = folder / "received.txt"
    parent_end, child_end = multiprocessing.Pipe()
    server = multiprocessing.Process(target=receiver, args=(child_end, str(keys_path)), daemon=True)
    server.start()
    port = parent_end.recv()
    config = parse_config(
        "alerts:\n  channels:\n"
        f"    - {{name: hook, type: webhook, url: 'http://127.0.0.1:{port}/in', timeout: 5s}}\n",
        folder / "config.yaml",
        {},
    )
    database = Database.open(url)
    fill(database, args.deliveries)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    report = dispatch_pending(database, config)
    seconds = time.monotonic() - started
    load_after = os.getloadavg()[0]
    server.terminate()
    with database.session() as session:
        pending = session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status != "sent")
        )
    received = Counter(keys_path.read_text().split())
    print(f"database            {database.safe_url.split('@')[-1]}")
    print(f"deliveries          {args.deliveries}")
    print(f"sent                {report.sent} in {seconds:.1f}s ({report.sent / seconds:.0f}/s)")
    print(f"received            {sum(received.values())} ({len(received)} distinct alert ids)")
    print(f"duplicates          {sum(n - 1 for n in received.values() if n > 1)}")
    print(f"not sent            {pending}")
    print(f"load average (1m)   {load_before:.2f} before, {load_after:.2f} after")
    database.dispose()


if __name__ == "__main__":
    main()
