"""The poll queue's Celery app (spiders/poll_queue.py) on a private redis-server (a free port,
never the shared one): a worker whose slots are all busy acknowledges each finished poll at once
and takes the next, rather than in batches every couple of seconds."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsmon.config import Config, ConfigError, parse_config
from newsmon.spiders.poll_queue import make_queue_app

ROOT = Path(__file__).resolve().parent.parent
SLOTS = 4
TASKS = 20
TASK_SECONDS = 0.3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broker_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    server = subprocess.Popen(command + ["--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(20)


def queue_app(url: str):  # type: ignore[no-untyped-def]
    app = make_queue_app(Config.model_validate({"daemon": {"broker_url": url}}))

    @app.task(name="test.busy")
    def busy(log_path: str) -> None:
        time.sleep(TASK_SECONDS)
        with open(log_path, "a") as log:
            log.write(f"{time.time():.3f}\n")

    return app


def serve(url: str) -> None:
    """The worker process: the queue app's worker on threads, as `newsmon run --role worker`."""
    worker = queue_app(url).Worker(
        pool="threads", concurrency=SLOTS, quiet=True, without_gossip=True, without_mingle=True
    )
    worker.start()


def test_a_busy_worker_takes_the_next_poll_as_soon_as_one_ends(
    tmp_path: Path, broker_url: str
) -> None:
    log_path = tmp_path / "ends.log"
    app = queue_app(broker_url)
    for _ in range(TASKS):
        app.send_task("test.busy", args=(str(log_path),))
    worker = subprocess.Popen(
        [sys.executable, "-c", f"from tests.test_poll_queue import serve; serve({broker_url!r})"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        ends: list[float] = []
        while time.monotonic() < deadline and len(ends) < TASKS:
            time.sleep(0.1)
            ends = [float(x) for x in log_path.read_text().split()] if log_path.exists() else []
        assert len(ends) == TASKS
    finally:
        worker.terminate()
        worker.wait(30)
    # 5 rounds of 0.3 s: about 1.5 s from the first end to the last when each slot is refilled
    # at once; acknowledged in batches (the loop waking every ~2 s) it took about 8 s
    assert max(ends) - min(ends) < 4.0


def test_the_visibility_timeout_covers_the_engine_start_up_as_well_as_the_poll(
    tmp_path: Path,
) -> None:
    # a redone poll took 21.5 s with crawl_timeout 15 s (a fresh crawl engine started first): a
    # visibility timeout just over crawl_timeout handed the running poll to a second worker
    def config(crawl_timeout: str, visibility: str) -> str:
        return (
            f"daemon: {{crawl_timeout: {crawl_timeout}, broker_visibility_timeout: {visibility}, "
            "broker_url: redis://127.0.0.1:1/0}\n"
        )

    with pytest.raises(ConfigError, match=r"crawl_timeout \+ 10s, the crawl engine's start-up"):
        parse_config(config("15s", "22s"), tmp_path / "config.yaml", {})
    accepted = parse_config(config("15s", "26s"), tmp_path / "config.yaml", {})
    assert accepted.daemon.broker_visibility_timeout.total_seconds() == 26
