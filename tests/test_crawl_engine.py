"""The daemon's long-lived crawl engine (spiders/crawl_engine.py), as `newsmon run` uses it: a
real daemon, the real spiders, and a local feed site that answers 304 to a repeated poll, hangs,
or answers slowly.

- many polls go through one engine process (its pid does not change);
- an engine killed mid-poll is replaced and the poll is redone, its first run closed;
- a source that hangs is cut by the poll timeout (its run `timeout`), and the engine keeps
  polling the others.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cli_process import start_newsmon
from sqlalchemy import select

from newsmon.storage import Database
from newsmon.storage.models import CrawlRun, Source
from tests.newsite.config import site_config

ROOT = Path(__file__).resolve().parent.parent
EMPTY_FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>wire</title></channel></rss>'
ETAG = '"v1"'


class FeedSite:
    """/feed-*.xml: an empty feed with an ETag, 304 when asked with it; /slow.xml answers after
    4 s; /hang.xml never answers."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.release = threading.Event()  # ends the hanging answers at the end of the test
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
                site.hits[self.path] += 1
                if self.path == "/hang.xml":
                    site.release.wait(120)
                    return
                if self.path == "/slow.xml":
                    time.sleep(4)
                if not self.path.endswith(".xml"):
                    self.send_error(404)
                    return
                if self.headers.get("If-None-Match") == ETAG:
                    self.send_response(304)
                    self.send_header("ETag", ETAG)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(EMPTY_FEED)))
                self.send_header("ETag", ETAG)
                self.end_headers()
                self.wfile.write(EMPTY_FEED)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: a line per request would bury the output."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FeedSite:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site() -> Iterator[FeedSite]:
    with FeedSite() as served:
        yield served


def engine_config(tmp_path: Path, site: FeedSite, paths: dict[str, str], daemon: str) -> Path:
    url = f"sqlite:///{tmp_path / 'newsmon.db'}"
    sources = {name: ("feed", site.url + path) for name, path in paths.items()}
    crawl = {"timeout": "30s", "retries": 0, "autothrottle": False, "obey_robots": False}
    crawl["allow_private_addresses"] = True
    text = site_config(url, sources, crawl, {name: {"every": "1s"} for name in paths})
    text += "daemon: {jitter: 0s, heartbeat_every: 1s, misfire_grace: 30s, " + daemon + "}\n"
    path = tmp_path / "config.yaml"
    path.write_text(text)
    Database.open(url).dispose()  # migrated before the daemon starts: the test reads it at once
    return path


class Daemon:
    def __init__(self, config: Path) -> None:
        self.log_path = config.with_name(f"daemon-{uuid.uuid4().hex[:6]}.log")
        with self.log_path.open("w") as log:
            self.process = start_newsmon(
                "--config",
                config,
                "run",
                "--log-format",
                "json",
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def entries(self) -> list[dict[str, object]]:
        lines = self.log_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def messages(self) -> list[str]:
        return [str(entry["message"]) for entry in self.entries()]

    def engine_pids(self) -> list[int]:
        prefix = "crawl engine started (pid "
        return [int(m[len(prefix) : -1]) for m in self.messages() if m.startswith(prefix)]

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(40)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def start_daemon() -> Iterator[Callable[[Path], Daemon]]:
    started: list[Daemon] = []

    def start(config: Path) -> Daemon:
        daemon = Daemon(config)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.kill()


def runs(config: Path) -> dict[str, list[CrawlRun]]:
    url = f"sqlite:///{config.parent / 'newsmon.db'}"
    database = Database(url)
    try:
        with database.session() as session:
            rows = session.execute(
                select(Source.name, CrawlRun).join(CrawlRun).order_by(CrawlRun.id)
            )
            found: dict[str, list[CrawlRun]] = {}
            for name, run in rows:
                found.setdefault(name, []).append(run)
            return found
    finally:
        database.dispose()


def wait_until(condition: Callable[[], bool], timeout: float, what: str, daemon: Daemon) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if daemon.process.poll() is not None:
            pytest.fail(f"daemon exited before {what}:\n{daemon.log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}\n{daemon.log_path.read_text()[-3000:]}")


def ok_runs(config: Path, name: str) -> int:
    return sum(run.status == "ok" for run in runs(config).get(name, []))


def engines(pid: int) -> set[int]:
    """The daemon's child processes started by multiprocessing's spawn (not its resource
    tracker): its crawl engines."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and b"spawn_main" in command:
            found.add(int(stat.parent.name))
    return found


def test_many_polls_go_through_one_engine_process(
    tmp_path: Path, site: FeedSite, start_daemon
) -> None:
    names = {f"wire-{n}": f"/feed-{n}.xml" for n in range(3)}
    config = engine_config(tmp_path, site, names, "crawl_timeout: 20s")
    daemon = start_daemon(config)
    wait_until(lambda: ok_runs(config, "wire-0") >= 2, 90, "the first polls", daemon)
    (engine,) = daemon.engine_pids()
    assert engines(daemon.process.pid) == {engine}
    wait_until(lambda: sum(ok_runs(config, name) for name in names) >= 24, 90, "24 polls", daemon)
    # the same engine did them all: one start, still the daemon's only child
    assert daemon.engine_pids() == [engine]
    assert engines(daemon.process.pid) == {engine}
    # after each source's first poll the site answered 304: what a poll mostly costs
    by_name = runs(config)
    assert all(run.status == "ok" for name in names for run in by_name[name][:-1])
    assert sum(run.not_modified for name in names for run in by_name[name]) >= 20
    assert daemon.stop() == 0
    assert not Path(f"/proc/{engine}").exists()


def test_an_engine_killed_mid_poll_is_replaced_and_the_poll_redone(
    tmp_path: Path, site: FeedSite, start_daemon
) -> None:
    config = engine_config(tmp_path, site, {"slow": "/slow.xml"}, "crawl_timeout: 30s")
    daemon = start_daemon(config)
    wait_until(lambda: site.hits["/slow.xml"] >= 1, 60, "the slow poll to be in flight", daemon)
    (first,) = daemon.engine_pids()
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: ok_runs(config, "slow") >= 1, 60, "the poll to be redone", daemon)
    pids = daemon.engine_pids()
    assert pids[0] == first and len(pids) >= 2 and first not in pids[1:]
    assert any("died" in m and "redoing the poll" in m for m in daemon.messages())
    killed, redone = runs(config)["slow"][:2]
    # the killed engine's run is closed (failed, saying why), the redone one is ok
    assert killed.status == "failed" and "killed by SIGKILL" in (killed.message or "")
    assert redone.status == "ok"
    assert daemon.stop() == 0


def test_a_hung_source_is_cut_by_the_poll_timeout_and_the_engine_keeps_going(
    tmp_path: Path, site: FeedSite, start_daemon
) -> None:
    paths = {"hung": "/hang.xml", "wire": "/feed-0.xml"}
    # a short poll timeout: each hung poll costs it (the 304 polls of wire take milliseconds)
    config = engine_config(tmp_path, site, paths, "crawl_timeout: 2s")
    daemon = start_daemon(config)

    def hung_cut_twice() -> bool:
        return sum(run.status == "timeout" for run in runs(config).get("hung", [])) >= 2

    wait_until(hung_cut_twice, 90, "two cut polls of the hung source", daemon)
    before = ok_runs(config, "wire")
    wait_until(lambda: ok_runs(config, "wire") >= before + 3, 60, "more polls", daemon)
    hung = [run for run in runs(config)["hung"] if run.status == "timeout"]
    assert hung[0].message == "stopped after the crawl timeout (2s)"
    # its download is cut at the same deadline, yet every cut poll is `timeout`, not `failed`
    ended = [run for run in runs(config)["hung"] if run.finished_at is not None]
    assert {run.status for run in ended} == {"timeout"}, [
        (r.status, r.message, r.started_at, r.finished_at) for r in ended
    ]
    assert len(daemon.engine_pids()) == 1  # the engine was never replaced
    assert daemon.stop() == 0


def test_a_stopped_daemon_cuts_its_engines_downloads_at_once(
    tmp_path: Path, site: FeedSite, start_daemon
) -> None:
    # a source that never answers, and a poll timeout far away: only the stop can end it
    config = engine_config(tmp_path, site, {"hung": "/hang.xml"}, "crawl_timeout: 60s")
    daemon = start_daemon(config)
    wait_until(lambda: site.hits["/hang.xml"] >= 1, 60, "the hung poll to be in flight", daemon)
    stopped = time.monotonic()
    assert daemon.stop() == 0
    # the engine's grace for polls that do not end is 20 s: the cut download ends at once
    assert time.monotonic() - stopped < 10
    (run,) = runs(config)["hung"]
    assert run.status == "interrupted"
