"""Scale-out (spiders/poll_queue.py): `newsmon run --role scheduler|worker` as real processes,
on a private redis-server (a free port, never the shared one), a fresh PostgreSQL database and a
local news site whose article pages can answer slowly, so a poll can be cut in the middle.

- a worker SIGKILLed mid-poll: another worker redoes the poll after the visibility timeout; no
  article is stored twice and no alert is sent twice;
- the active scheduler SIGKILLed: the standby takes over within 30 s;
- a worker with another config refuses the polls with one clear line;
- the broker restarted: the workers reconnect and polls go on.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from newsmon.storage import Database
from newsmon.storage.models import Alert, Article, ArticleVersion, CrawlRun, Delivery
from tests.newsite.config import site_config

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = 6
# seconds per article page in the test that kills a worker mid-poll: its poll takes about
# ARTICLES * PAGE_DELAY; the other tests need no slow pages
PAGE_DELAY = 1.0
# seconds: the killed worker's poll is handed out again after this. The redone poll (a fresh
# crawl engine's start included, ~12 s on a loaded 2-core machine) must end within it, or it is
# handed out once more: a third run
VISIBILITY = 25.0


class NewsSite:
    """/feed.xml lists ARTICLES articles; each page answers after `page_delay` seconds and
    reports a figure of the configured topic (North Korean troops in Russia)."""

    def __init__(self, page_delay: float = 0.0) -> None:
        self.page_delay = page_delay
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
                if self.path == "/feed.xml":
                    body = site.feed().encode()
                    kind = "application/rss+xml"
                elif self.path.startswith("/story-"):
                    time.sleep(site.page_delay)
                    body = site.page(int(self.path[7:-5])).encode()
                    kind = "text/html; charset=utf-8"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: a line per request would bury the output."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def feed(self) -> str:
        items = "".join(
            f"<item><title>Story {n}</title><link>{self.url}/story-{n}.html</link>"
            f"<pubDate>Mon, 30 Nov 2026 0{n}:00:00 GMT</pubDate></item>"
            for n in range(ARTICLES)
        )
        channel = f"<channel><title>wire</title>{items}</channel>"
        return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'

    @staticmethod
    def page(n: int) -> str:
        troops = 10000 + 1000 * n
        text = (
            f"Seoul says {troops:,} North Korean troops are now deployed in Russia's Kursk "
            "region, according to South Korea's intelligence service. The soldiers arrived "
            "over several weeks, officials said on Monday, and more may follow. "
        ) * 3
        return (
            f"<html><head><title>Story {n}</title></head><body><article><h1>Story {n}: "
            f"troops in Russia</h1><p>{text}</p><p>{text}</p></article></body></html>"
        )

    def __enter__(self) -> NewsSite:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Broker:
    """A private redis-server; `restart()` stops it and starts it again on the same port."""

    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.work = work
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.work)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        pytest.fail("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    served = Broker(tmp_path)
    served.start()
    yield served
    served.stop()


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with NewsSite() as served:
        yield served


def scale_config(
    path: Path, database_url: str, broker: Broker, site: NewsSite, every: str = "2s",
    visibility: str = "25s",
) -> Path:  # fmt: skip
    crawl = {"timeout": "30s", "retries": 0, "autothrottle": False, "obey_robots": False}
    crawl |= {"allow_private_addresses": True, "concurrency": 1}
    text = site_config(database_url, {"wire": ("feed", site.url + "/feed.xml")}, crawl,
                       {"wire": {"every": every}})  # fmt: skip
    alerts = json.dumps(str(path.with_name("alerts.jsonl")))
    text += (
        "daemon: {jitter: 0s, heartbeat_every: 1s, misfire_grace: 30s, dispatch_every: 1s, "
        # crawl_timeout + 10 s (a crawl engine's start) must stay under the visibility timeout
        f"crawl_timeout: 14s, broker_visibility_timeout: {visibility}, "
        f"broker_url: {broker.url}}}\n"
        "alerts:\n  channels:\n"
        f"    - {{name: out, type: file, path: {alerts}}}\n"
    )
    path.write_text(text)
    return path


class Role:
    """`newsmon run --role ROLE` in a process of its own, its JSON log in a file."""

    def __init__(self, config: Path, role: str) -> None:
        self.log_path = config.with_name(f"{role}-{uuid.uuid4().hex[:6]}.log")
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "newsmon.cli", "--config", str(config), "run",
                 "--role", role, "--log-format", "json"],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def messages(self) -> list[str]:
        lines = self.log_path.read_text().splitlines()
        return [str(json.loads(line)["message"]) for line in lines if line.startswith("{")]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def start_role() -> Iterator[Callable[[Path, str], Role]]:
    started: list[Role] = []

    def start(config: Path, role: str) -> Role:
        started.append(Role(config, role))
        return started[-1]

    yield start
    for role in started:
        if role.process.poll() is None:
            role.process.send_signal(signal.SIGTERM)
    for role in started:
        try:
            role.process.wait(40)
        except subprocess.TimeoutExpired:
            role.kill()


def wait_until(condition: Callable[[], bool], timeout: float, what: str, *roles: Role) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if any(r.process.poll() is not None for r in roles):
            break
        time.sleep(0.2)
    logs = "\n".join(f"--- {r.log_path.name}\n{r.log_path.read_text()[-2500:]}" for r in roles)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def count(url: str, statement) -> int:  # type: ignore[no-untyped-def]
    database = Database(url)
    try:
        with database.session() as session:
            return int(session.execute(statement).scalar_one())
    finally:
        database.dispose()


def ok_runs(url: str) -> int:
    return count(url, select(func.count()).select_from(CrawlRun).where(CrawlRun.status == "ok"))


def test_a_worker_killed_mid_poll_has_its_poll_redone_by_another_without_doubles(
    tmp_path: Path, postgres_url: str, broker: Broker, site: NewsSite, start_role
) -> None:
    Database.open(postgres_url).dispose()
    site.page_delay = PAGE_DELAY
    config = scale_config(tmp_path / "config.yaml", postgres_url, broker, site, every="1h",
                          visibility=f"{VISIBILITY:g}s")  # fmt: skip
    scheduler = start_role(config, "scheduler")
    first = start_role(config, "worker")
    stored = select(func.count()).select_from(Article)
    # mid-poll: some of the slow article pages stored, not all
    wait_until(lambda: count(postgres_url, stored) >= 1, 120, "the first article", first)
    assert count(postgres_url, stored) < ARTICLES
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    killed = time.monotonic()
    site.page_delay = 0.0  # the redone poll need not be slow: it ends sooner after it starts
    second = start_role(config, "worker")
    wait_until(lambda: ok_runs(postgres_url) >= 1, 120, "the redone poll", second, scheduler)
    # redone once the message became visible again, well before a second visibility
    assert time.monotonic() - killed < VISIBILITY + 40
    assert "redoing a poll whose worker died" in second.messages()
    statuses = count(postgres_url, select(func.count()).select_from(CrawlRun))
    assert statuses == 2  # the dead worker's run (closed) and the redone one
    assert count(postgres_url, stored) == ARTICLES
    assert count(postgres_url, select(func.count()).select_from(ArticleVersion)) == ARTICLES
    # the run is closed before its alerts are decided (a separate transaction): wait for them
    wait_until(
        lambda: count(postgres_url, select(func.count()).select_from(Alert)) >= 1,
        30,
        "the redone poll's alerts",
        second,
        scheduler,
    )
    alerts = count(postgres_url, select(func.count()).select_from(Alert))
    assert alerts >= 1
    wait_until(
        lambda: count(postgres_url, select(func.count()).select_from(Delivery)
                      .where(Delivery.status == "sent")) == alerts,  # fmt: skip
        60, "every alert delivered", second, scheduler,
    )  # fmt: skip
    lines = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert len(lines) == alerts  # each alert written once to the channel


def test_the_standby_scheduler_takes_over_when_the_active_one_dies(
    tmp_path: Path, postgres_url: str, broker: Broker, site: NewsSite, start_role
) -> None:
    Database.open(postgres_url).dispose()
    config = scale_config(tmp_path / "config.yaml", postgres_url, broker, site)
    active = start_role(config, "scheduler")
    wait_until(lambda: "poll enqueued" in active.messages(), 60, "a first poll", active)
    standby = start_role(config, "scheduler")
    wait_until(lambda: any(m.startswith("standing by") for m in standby.messages()), 60,
               "the standby", standby)  # fmt: skip
    assert "poll enqueued" not in standby.messages()
    active.process.send_signal(signal.SIGKILL)
    active.process.wait()
    killed = time.monotonic()
    wait_until(lambda: "taking over as the active scheduler" in standby.messages(), 30,
               "the take-over", standby)  # fmt: skip
    assert time.monotonic() - killed < 30


def test_a_worker_with_another_config_refuses_polls_in_one_line(
    tmp_path: Path, postgres_url: str, broker: Broker, site: NewsSite, start_role
) -> None:
    Database.open(postgres_url).dispose()
    config = scale_config(tmp_path / "config.yaml", postgres_url, broker, site)
    newer = tmp_path / "newer" / "config.yaml"
    newer.parent.mkdir()
    scale_config(newer, postgres_url, broker, site)
    newer.write_text(newer.read_text().replace("polls_at_once", "").replace(
        "dispatch_every: 1s", "dispatch_every: 2s"))  # fmt: skip
    scheduler = start_role(config, "scheduler")
    worker = start_role(newer, "worker")
    wait_until(lambda: any(m.startswith("refusing polls") for m in worker.messages()), 90,
               "the refusal", worker, scheduler)  # fmt: skip
    refusing = [m for m in worker.messages() if m.startswith("refusing polls")]
    assert len(refusing) == 1
    assert "differs from the scheduler's" in refusing[0]
    assert count(postgres_url, select(func.count()).select_from(CrawlRun)) == 0
    # a worker with the scheduler's config takes the poll that was refused: the refusing worker
    # stopped consuming before giving it back, so it is not bounced back to it meanwhile
    good = start_role(config, "worker")
    wait_until(lambda: ok_runs(postgres_url) >= 1, 120, "a poll by the right worker", good)
    assert sum(m.startswith("not taking polls for") for m in worker.messages()) == 1
    assert sum(m.startswith("refusing polls") for m in worker.messages()) == 1


def test_workers_reconnect_after_the_broker_restarts(
    tmp_path: Path, postgres_url: str, broker: Broker, site: NewsSite, start_role
) -> None:
    Database.open(postgres_url).dispose()
    config = scale_config(tmp_path / "config.yaml", postgres_url, broker, site)
    scheduler = start_role(config, "scheduler")
    worker = start_role(config, "worker")
    wait_until(lambda: ok_runs(postgres_url) >= 1, 120, "a first poll", worker, scheduler)
    broker.restart()
    before = ok_runs(postgres_url)
    wait_until(lambda: ok_runs(postgres_url) > before, 120, "a poll after the restart",
               worker, scheduler)  # fmt: skip
    assert worker.process.poll() is None
