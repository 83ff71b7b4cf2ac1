"""What the poll queue costs on Celery with a Redis broker: the measurements behind choosing it
(docs/daemon.md, "Running at scale").

    .venv/bin/python bench/queue_choice.py            # --polls 1000 --concurrency 4

Starts a private redis-server on a free port (never the shared one), a Celery worker with the
options `newsmon run --role worker` uses (threads pool, acks_late, task_reject_on_worker_lost,
prefetch 1, lost polls looked for every second) and:
1. enqueues N no-op polls as fast as it can and prints enqueue->start latency p50/p95/max, the
   broker's CPU per poll (redis-server's utime+stime from /proc) and the worker's CPU per poll;
2. starts a poll that sleeps, SIGKILLs the worker mid-poll, starts a second worker and prints how
   long after the kill the poll started again (visibility timeout 5 s);
3. the same with scrapy-redis (a RedisSpider whose start URLs and request frontier are on the
   same Redis; each no-op poll is one request to a local HTTP server, latency measured to its
   arrival there), and a SIGKILL mid-request. scrapy-redis is not a dependency of newsmon:
   `pip install scrapy-redis` first, or this part is skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from celery import Celery

from newsmon.spiders.poll_queue import restore_lost_polls

TICK = os.sysconf("SC_CLK_TCK")
VISIBILITY = 5.0


def make_app(broker: str) -> Celery:
    app = Celery("bench_queue", broker=broker)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY},
        worker_hijack_root_logger=False,
    )

    @app.task(name="bench.noop")
    def noop(sent: float, log_path: str) -> None:
        with open(log_path, "a") as log:
            log.write(f"{time.time() - sent:.6f}\n")

    @app.task(name="bench.slow")
    def slow(log_path: str) -> None:
        with open(log_path, "a") as log:
            log.write(f"start {os.getpid()} {time.time():.6f}\n")
        time.sleep(3)
        with open(log_path, "a") as log:
            log.write(f"end {os.getpid()} {time.time():.6f}\n")

    return app


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_worker(broker: str, concurrency: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, __file__, "--worker", broker, "--concurrency", str(concurrency)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def run_spider(broker: str, concurrency: int) -> None:
    """A scrapy-redis spider: start URLs and the request frontier on Redis."""
    from scrapy.crawler import CrawlerProcess
    from scrapy_redis.spiders import RedisSpider

    class Frontier(RedisSpider):
        name = "frontier"
        redis_key = "bench:start_urls"

        def make_request_from_data(self, data):  # type: ignore[no-untyped-def]
            from scrapy import Request

            return Request(data.decode(), dont_filter=True)

        def parse(self, response):  # type: ignore[no-untyped-def]
            return None

    process = CrawlerProcess(
        {
            "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_PERSIST": True,
            "REDIS_URL": broker,
            "CONCURRENT_REQUESTS": concurrency,
            "ROBOTSTXT_OBEY": False,
            "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "RETRY_ENABLED": False,
        }
    )
    process.crawl(Frontier)
    process.start()


def bench_scrapy_redis(broker: str, redis_pid: int, polls: int, concurrency: int) -> None:
    """The same measurements with scrapy-redis: each no-op poll is one request pushed as a start
    URL and scheduled through the shared frontier on Redis."""
    import redis as redis_client

    server = redis_client.Redis.from_url(broker)
    server.flushdb()
    arrivals: dict[str, float] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
            arrivals[self.path] = time.time()
            if self.path.startswith("/slow"):
                time.sleep(3)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            with contextlib.suppress(BrokenPipeError):  # the spider killed mid-request
                self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: a line per request would bury the output."""

    site = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{site.server_address[1]}"

    def start_spider() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, __file__, "--spider", broker, "--concurrency", str(concurrency)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    spider = start_spider()
    try:
        server.lpush("bench:start_urls", f"{base}/warm")
        if not wait_for(lambda: "/warm" in arrivals, 60):
            sys.exit("bench: the scrapy-redis spider never took a request")
        redis_cpu, spider_cpu = cpu_seconds(redis_pid), cpu_seconds(spider.pid)
        sent: dict[str, float] = {}
        started = time.monotonic()
        for n in range(polls):
            path = f"/noop/{n}"
            sent[path] = time.time()
            server.lpush("bench:start_urls", base + path)
        enqueue_seconds = time.monotonic() - started
        if not wait_for(lambda: all(path in arrivals for path in sent), 300):
            sys.exit(f"bench: only {sum(p in arrivals for p in sent)} of {polls} polls ran")
        drain_seconds = time.monotonic() - started
        redis_cpu = cpu_seconds(redis_pid) - redis_cpu
        spider_cpu = cpu_seconds(spider.pid) - spider_cpu
        latencies = sorted((arrivals[path] - sent[path]) * 1000 for path in sent)
        p50, p95 = statistics.median(latencies), latencies[int(0.95 * (len(latencies) - 1))]
        print(f"scrapy-redis: {polls} no-op polls (one request each), 1 spider, "
              f"{concurrency} requests at once")  # fmt: skip
        print(f"  enqueue {enqueue_seconds * 1000 / polls:.2f} ms/poll, "
              f"all done in {drain_seconds:.1f} s")  # fmt: skip
        print(f"  enqueue->start latency ms: p50 {p50:.1f}  p95 {p95:.1f}  "
              f"max {latencies[-1]:.1f} (a burst of {polls} at once)")  # fmt: skip
        print(f"  broker CPU {redis_cpu * 1000 / polls:.3f} ms/poll, "
              f"spider CPU {spider_cpu * 1000 / polls:.2f} ms/poll")  # fmt: skip
        server.lpush("bench:start_urls", f"{base}/slow")
        if not wait_for(lambda: "/slow" in arrivals, 30):
            sys.exit("bench: the slow poll never started")
        first = arrivals.pop("/slow")
        time.sleep(1)  # mid-request: the page answers after 3 s
        spider.send_signal(signal.SIGKILL)
        spider.wait()
        killed = time.time()
        spider = start_spider()
        if wait_for(lambda: "/slow" in arrivals, 30):
            print(f"  SIGKILL mid-poll: redone {arrivals['/slow'] - killed:.1f} s after the kill")
        else:
            print(f"  SIGKILL mid-poll ({killed - first:.1f} s into its request): not redone "
                  "within 30 s (a popped request has no acknowledgement)")  # fmt: skip
    finally:
        spider.kill()
        spider.wait()
        site.shutdown()
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--polls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--spider", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.spider:
        run_spider(args.spider, args.concurrency)
        return
    if args.worker:
        app = make_app(args.worker)
        # as `newsmon run --role worker` does: lost polls looked for every second
        threading.Thread(
            target=restore_lost_polls, args=(app, 1.0, threading.Event()), daemon=True
        ).start()
        app.Worker(pool="threads", concurrency=args.concurrency, loglevel="WARNING").start()
        return

    work = Path(tempfile.mkdtemp(prefix="newsmon-queue-bench-"))
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", work],
        stdout=subprocess.DEVNULL,
    )
    broker = f"redis://127.0.0.1:{port}/0"
    app = make_app(broker)
    worker = start_worker(broker, args.concurrency)
    try:
        latency_log = work / "latency"
        # warm up: the worker is connected once a poll comes back
        app.send_task("bench.noop", (time.time(), str(latency_log)))
        if not wait_for(lambda: len(lines(latency_log)) == 1, 60):
            sys.exit("bench: the worker never took a poll")
        latency_log.unlink()
        redis_cpu, worker_cpu = cpu_seconds(redis.pid), cpu_seconds(worker.pid)
        started = time.monotonic()
        for _ in range(args.polls):
            app.send_task("bench.noop", (time.time(), str(latency_log)))
        enqueue_seconds = time.monotonic() - started
        if not wait_for(lambda: len(lines(latency_log)) >= args.polls, 300):
            sys.exit(f"bench: only {len(lines(latency_log))} of {args.polls} polls ran")
        drain_seconds = time.monotonic() - started
        redis_cpu = cpu_seconds(redis.pid) - redis_cpu
        worker_cpu = cpu_seconds(worker.pid) - worker_cpu
        latencies = sorted(float(x) * 1000 for x in lines(latency_log))
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(f"celery+redis: {args.polls} no-op polls, 1 worker, {args.concurrency} threads")
        print(f"  enqueue {enqueue_seconds * 1000 / args.polls:.2f} ms/poll, "
              f"all done in {drain_seconds:.1f} s")  # fmt: skip
        p50 = statistics.median(latencies)
        print(f"  enqueue->start latency ms: p50 {p50:.1f}  p95 {p95:.1f}  "
              f"max {latencies[-1]:.1f} (a burst of {args.polls} at once)")  # fmt: skip
        print(f"  broker CPU {redis_cpu * 1000 / args.polls:.3f} ms/poll, "
              f"worker CPU {worker_cpu * 1000 / args.polls:.2f} ms/poll")  # fmt: skip

        slow_log = work / "slow"
        app.send_task("bench.slow", (str(slow_log),))
        if not wait_for(lambda: len(lines(slow_log)) == 1, 30):
            sys.exit("bench: the slow poll never started")
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        killed = time.time()
        worker = start_worker(broker, args.concurrency)
        if not wait_for(lambda: len(lines(slow_log)) >= 2, 60):
            sys.exit("bench: the poll was not redelivered within 60 s")
        again = float(lines(slow_log)[1].split()[2])
        print(
            f"  SIGKILL mid-poll: redone {again - killed:.1f} s after the kill "
            f"(visibility_timeout {VISIBILITY:g} s), by pid {lines(slow_log)[1].split()[1]}"
        )
        worker.kill()
        worker.wait()
        if importlib.util.find_spec("scrapy_redis") is None:
            print("scrapy-redis: not installed (pip install scrapy-redis), not measured")
        else:
            bench_scrapy_redis(broker, redis.pid, args.polls, args.concurrency)
    finally:
        worker.kill()
        worker.wait()
        redis.terminate()
        redis.wait()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
