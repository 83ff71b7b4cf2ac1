"""What the poll queue costs on Celery with a Redis broker: the measurements behind choosing it
(docs/daemon.md, "Running at scale").

    .venv/bin/python bench/queue_choice.py            # --polls 1000 --concurrency 4

Starts a private redis-server on a free port (never the shared one), a Celery worker with the
options `newsmon run --role worker` uses (threads pool, acks_late, task_reject_on_worker_lost,
prefetch 1, lost polls looked for every second) and:
1. enqueues N no-op polls as fast as it can and prints enqueue->start latency p50/p95/max, the
   broker's CPU per poll (redis-server's utime+stime from /proc) and the worker's CPU per poll;
2. starts a poll that sleeps, SIGKILLs the worker mid-poll, starts a second worker and prints how
   long after the kill the poll started again (visibility timeout 5 s).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--polls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
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
    finally:
        worker.kill()
        worker.wait()
        redis.terminate()
        redis.wait()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")


if __name__ == "__main__":
    main()
