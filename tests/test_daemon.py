"""`newsmon run` as a user runs it: a real daemon process, real crawl child processes, real
signals, and the database read afterwards.

The crawls are the functions of tests/daemon_crawls.py (picked by source name: ok-, slow-,
crash-, hang-, hog-), given to the daemon with its hidden `--crawl-target` option; everything else
(the scheduler, the child processes, the lock, the heartbeat, the outbox dispatch) is the daemon's
own code.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_in_process import newsmon_in_process
from cli_process import run_newsmon, start_newsmon
from sqlalchemy import func, select

from newsmon.storage import Database
from newsmon.storage.alerts import add_alert
from newsmon.storage.crawls import ensure_source
from newsmon.storage.models import (
    Alert,
    Article,
    ArticleVersion,
    CrawlRun,
    DaemonState,
    Delivery,
    Source,
)

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent

DAEMON = """\
storage:
  url: {url}
daemon:
  jitter: {jitter}
  crawl_timeout: {crawl_timeout}
  crawl_memory_limit: 600MB
  heartbeat_every: 1s
  dispatch_every: 1s
  misfire_grace: 30s
"""


def source(name: str, every: str = "1s") -> str:
    return f"  - {{name: {name}, url: http://127.0.0.1:9/{name}, type: feed, every: {every}}}\n"


def daemon_config(
    url: str, sources: list[str], jitter: str = "0s", extra: str = "", crawl_timeout: str = "10s"
) -> str:
    text = DAEMON.format(url=url, jitter=jitter, crawl_timeout=crawl_timeout)
    return text + "sources:\n" + "".join(sources) + extra


class DaemonProcess:
    """`python -m newsmon.cli --config PATH run` in the background, its log in a file."""

    def __init__(self, config_path: Path, *args: str) -> None:
        self.log_path = config_path.with_name(f"daemon-{uuid.uuid4().hex[:6]}.log")
        env = {**os.environ, "PYTHONPATH": str(TESTS)}
        with self.log_path.open("w") as log:
            self.process = start_newsmon(
                "--config",
                config_path,
                "run",
                "--crawl-target",
                "daemon_crawls:crawl",
                *args,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text()

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def stop(self, timeout: float = 30) -> tuple[int, float]:
        """SIGTERM; (exit status, seconds it took)."""
        started = time.monotonic()
        self.signal(signal.SIGTERM)
        status = self.process.wait(timeout)
        return status, time.monotonic() - started

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def start_daemon() -> Iterator[Callable[..., DaemonProcess]]:
    started: list[DaemonProcess] = []

    def start(config_path: Path, *args: str) -> DaemonProcess:
        daemon = DaemonProcess(config_path, *args)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.kill()


def wait_until(condition: Callable[[], bool], timeout: float, what: str, daemon=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if daemon is not None and daemon.process.poll() is not None:
            pytest.fail(
                f"daemon exited ({daemon.process.returncode}) before {what}:\n{daemon.log()}"
            )
        time.sleep(0.2)
    log = daemon.log() if daemon is not None else ""
    pytest.fail(f"timed out waiting for {what}\n{log[-3000:]}")


def runs_by_source(database: Database) -> dict[str, list[CrawlRun]]:
    with database.session() as session:
        rows = session.execute(select(Source.name, CrawlRun).join(CrawlRun).order_by(CrawlRun.id))
        runs: dict[str, list[CrawlRun]] = {}
        for name, run in rows:
            runs.setdefault(name, []).append(run)
        return runs


def finished(database: Database, name: str, status: str) -> list[CrawlRun]:
    return [r for r in runs_by_source(database).get(name, []) if r.status == status]


def newsmon(*args: str) -> subprocess.CompletedProcess[str]:
    """`newsmon status` and the like in this process; the daemon itself is a real process."""
    return newsmon_in_process(*args, cwd=ROOT)


def newsmon_process(*args: str) -> subprocess.CompletedProcess[str]:
    return run_newsmon(*args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(TESTS)}, timeout=60)


HANG_TIMEOUT = 5  # seconds: the poll timeout that cuts hang-wire


def test_crash_hang_and_memory_hog_end_only_their_own_run(
    write_config, tmp_path: Path, start_daemon
) -> None:
    url = f"sqlite:///{tmp_path / 'newsmon.db'}"
    names = ["ok-wire", "crash-wire", "hang-wire", "hog-wire"]
    # a short poll timeout: the hang is cut twice in seconds (the crash and the hog end sooner)
    sources = [source(name) for name in names]
    path = write_config(daemon_config(url, sources, crawl_timeout=f"{HANG_TIMEOUT}s"))
    daemon = start_daemon(path, "--log-format", "json")
    # opened (so migrated) while the daemon migrates the same new file: they take turns
    database = Database.open(url)
    try:

        def each_failed_twice() -> bool:
            return (
                len(finished(database, "crash-wire", "failed")) >= 2
                and len(finished(database, "hang-wire", "timeout")) >= 2
                and len(finished(database, "hog-wire", "failed")) >= 2
            )

        # two timeouts and two engine restarts per failing source: ~15 s idle, far more on a
        # loaded 2-core machine (a wait on the condition, so an idle run ends early)
        wait_until(each_failed_twice, 150, "two runs of each failing crawl", daemon)
        ok_runs = len(finished(database, "ok-wire", "ok"))
        wait_until(
            lambda: len(finished(database, "ok-wire", "ok")) >= ok_runs + 2,
            20,
            "more ok runs",
            daemon,
        )
        runs = runs_by_source(database)
        # the first run of each status asked for: on a loaded machine a first run can spend
        # its whole timeout starting up, which is a timeout, not the failure under test
        crash = finished(database, "crash-wire", "failed")[0]
        hang = finished(database, "hang-wire", "timeout")[0]
        hog = finished(database, "hog-wire", "failed")[0]
        assert crash.message == "crashed: RuntimeError: spider exploded on crash-wire"
        assert hang.message == f"stopped after the crawl timeout ({HANG_TIMEOUT}s)"
        assert hog.message == "stopped: out of memory (crawl_memory_limit 600MB)"
        for name, source_runs in runs.items():  # no run of a source overlaps the one before
            done = [r for r in source_runs if r.finished_at is not None]
            for before, after in zip(done, done[1:], strict=False):
                assert after.started_at >= before.finished_at, name
        # the daemon is alive and says so
        status = json.loads(newsmon("--config", str(path), "status", "--format", "json").stdout)
        assert status["daemon"]["alive"] is True and status["daemon"]["pid"] == daemon.pid
        by_name = {s["source"]: s for s in status["sources"]}
        assert by_name["ok-wire"]["last_run"]["new_articles"] == 1
        assert by_name["hang-wire"]["last_run"]["status"] in ("timeout", "running")
        exit_status, seconds = daemon.stop()
        assert exit_status == 0 and seconds < 30
    finally:
        database.dispose()
    # JSON log lines carry the source, the crawl id and the counts
    entries = [json.loads(line) for line in daemon.log().splitlines() if line.startswith("{")]
    done = [e for e in entries if e["message"].startswith("crawl finished: ok")]
    assert done and done[0]["source"] == "ok-wire" and len(done[0]["crawl_id"]) == 8
    assert done[0]["counts"]["new_articles"] == 1 and done[0]["run_id"] > 0
    crashed = [e for e in entries if e["message"] == "crawl crashed"]
    assert (
        crashed
        and crashed[0]["source"] == "crash-wire"
        and "spider exploded" in crashed[0]["exception"]
    )


def test_a_second_daemon_on_the_same_database_refuses_to_start(
    write_config, database_url: str, start_daemon
) -> None:
    path = write_config(daemon_config(database_url, [source("ok-wire", "1h")]))
    # migrated before the daemon starts: two processes migrating one new PostgreSQL database at
    # once collide (duplicate key in pg_type)
    database = Database.open(database_url)
    first = start_daemon(path)
    try:

        def beating(pid: int) -> Callable[[], bool]:
            def check() -> bool:
                with database.session() as session:
                    state = session.get(DaemonState, "daemon")
                    return state is not None and state.pid == pid

            return check

        wait_until(beating(first.pid), 30, "the first daemon's heartbeat", first)
        second = newsmon_process(
            "--config", str(path), "run", "--crawl-target", "daemon_crawls:crawl"
        )
        assert second.returncode == 2
        host = socket.gethostname()
        assert second.stderr.startswith(
            f"newsmon: another daemon (pid {first.pid} on {host}) is already running on "
        )
        assert len(second.stderr.strip().splitlines()) == 1 and "Traceback" not in second.stderr
        # the lock dies with its holder, however it dies
        first.kill()
        third = start_daemon(path)
        wait_until(beating(third.pid), 30, "the next daemon's heartbeat", third)
        assert third.stop()[0] == 0
        with database.session() as session:
            assert session.get(DaemonState, "daemon") is None  # a clean stop removes it
    finally:
        database.dispose()


def test_sigterm_during_a_crawl_leaves_a_consistent_database(
    write_config, database_url: str, start_daemon
) -> None:
    sources = [source("slow-wire", "1h"), source("stoppable-wire", "1h")]
    path = write_config(daemon_config(database_url, sources))
    # migrated before the daemon starts: two processes migrating one new PostgreSQL database at
    # once collide (duplicate key in pg_type)
    database = Database.open(database_url)
    daemon = start_daemon(path)
    try:

        def articles() -> int:
            with database.session() as session:
                return session.scalar(select(func.count()).select_from(Article)) or 0

        wait_until(lambda: articles() >= 2, 40, "the slow crawl to be under way", daemon)
        exit_status, seconds = daemon.stop()
        assert exit_status == 0 and seconds < 30
        runs = runs_by_source(database)
        interrupted = ("interrupted", "interrupted: the daemon stopped during the crawl")
        assert [(r.status, r.message) for r in runs["slow-wire"]] == [interrupted]
        assert runs["slow-wire"][0].finished_at is not None
        # a crawl that closes its run when told to stop is still not "ok"; its counts stay
        (stoppable,) = runs["stoppable-wire"]
        assert (stoppable.status, stoppable.message) == interrupted
        assert stoppable.new_articles > 0
        with database.session() as session:
            # every article was written with its version in one transaction: none is half-written
            orphans = session.scalar(
                select(func.count())
                .select_from(Article)
                .where(~Article.id.in_(select(ArticleVersion.article_id)))
            )
            assert orphans == 0
            assert session.get(DaemonState, "daemon") is None
        assert "SIGTERM received: stopping" in daemon.log()
    finally:
        database.dispose()


def test_restart_resumes_the_schedule_and_the_outbox(
    write_config, database_url: str, tmp_path: Path, start_daemon
) -> None:
    alerts_file = tmp_path / "alerts.jsonl"
    channels = f"alerts:\n  channels:\n    - {{name: archive, type: file, path: {alerts_file}}}\n"
    sources = [source("ok-recent", "1h"), source("ok-overdue", "1h"), source("ok-new", "1h")]
    path = write_config(daemon_config(database_url, sources, jitter="2s", extra=channels))
    database = Database.open(database_url)
    now = datetime.now(UTC)
    with database.session() as session:
        for name, last in (
            ("ok-recent", now - timedelta(minutes=10)),
            ("ok-overdue", now - timedelta(hours=2)),
        ):
            ensure_source(session, name, f"http://127.0.0.1:9/{name}", "feed").last_run_at = last
        alert = Alert(
            id=str(uuid.uuid4()),
            dedupe_key="test-alert",
            kind="new_figure",
            topic="nk",
            quantity="nk/troops",
            payload={"id": "left-pending-by-the-last-run"},
        )
        add_alert(session, alert, ["archive"], now - timedelta(minutes=5))
    daemon = start_daemon(path)
    try:
        wait_until(
            lambda: {"ok-overdue", "ok-new"} <= set(runs_by_source(database)),
            30,
            "the overdue and the new source to run",
            daemon,
        )
        wait_until(alerts_file.exists, 20, "the pending alert to be delivered", daemon)
        time.sleep(2)
        runs = runs_by_source(database)
        assert "ok-recent" not in runs  # due in 50 minutes: not run at start
        assert len(runs["ok-overdue"]) == len(runs["ok-new"]) == 1  # once, not replayed
        assert json.loads(alerts_file.read_text()) == {"id": "left-pending-by-the-last-run"}
        with database.session() as session:
            assert session.scalars(select(Delivery.status)).all() == ["sent"]
        status = json.loads(newsmon("--config", str(path), "status", "--format", "json").stdout)
        recent = next(s for s in status["sources"] if s["source"] == "ok-recent")
        due = datetime.fromisoformat(recent["next_run"])
        assert timedelta(minutes=49) < due - now < timedelta(minutes=51)
        assert status["outbox"] == {"pending": 0, "due": 0, "failed": 0, "channels": {}}
        assert daemon.stop()[0] == 0
    finally:
        database.dispose()


def test_sighup_reloads_a_good_config_and_keeps_the_old_one_on_a_bad(
    write_config, tmp_path: Path, start_daemon
) -> None:
    url = f"sqlite:///{tmp_path / 'newsmon.db'}"
    path = write_config(daemon_config(url, [source("ok-first", "1s")]))
    daemon = start_daemon(path)
    database = Database.open(url)  # while the daemon migrates the same new file (see above)
    try:
        wait_until(lambda: "ok-first" in runs_by_source(database), 30, "the first source", daemon)
        path.write_text(daemon_config(url, [source("ok-first", "1h"), source("ok-second", "1s")]))
        daemon.signal(signal.SIGHUP)
        wait_until(
            lambda: len(runs_by_source(database).get("ok-second", [])) >= 2,
            30,
            "the source added by the reload",
            daemon,
        )
        first_runs = len(runs_by_source(database)["ok-first"])
        assert "config reloaded from" in daemon.log()
        path.write_text(daemon_config(url, [source("ok-second", "1s")]).replace("every:", "evry:"))
        daemon.signal(signal.SIGHUP)
        wait_until(lambda: "config reload failed" in daemon.log(), 20, "the reload error", daemon)
        errors = [line for line in daemon.log().splitlines() if "config reload failed" in line]
        assert len(errors) == 1 and (
            f"keeping the running config: {path}:11: sources[0].evry: unknown key 'evry'; "
            "did you mean 'every'?" in errors[0]
        )
        second_runs = len(runs_by_source(database)["ok-second"])
        wait_until(
            lambda: len(runs_by_source(database)["ok-second"]) >= second_runs + 2,
            20,
            "runs on the kept config",
            daemon,
        )
        assert daemon.process.poll() is None
        # the reload made ok-first hourly: it was not run again
        assert len(runs_by_source(database)["ok-first"]) == first_runs
        assert daemon.stop()[0] == 0
    finally:
        database.dispose()


def test_status_without_a_daemon(write_config, database_url: str) -> None:
    path = write_config(
        daemon_config(database_url, [source("ok-wire", "15m"), source("ok-other", "30m")])
        + "alerts:\n  channels:\n    - {name: archive, type: file, path: alerts.jsonl}\n"
    )
    database = Database.open(database_url)
    now = datetime.now(UTC)
    try:
        with database.session() as session:
            wire = ensure_source(session, "ok-wire", "http://127.0.0.1:9/ok-wire", "feed")
            wire.last_run_at = now - timedelta(minutes=5)
            session.add(
                CrawlRun(
                    source=wire,
                    started_at=now - timedelta(minutes=5),
                    finished_at=now - timedelta(minutes=4),
                    status="failed",
                    requests=3,
                    errors=3,
                    message="feed answered HTTP 503",
                )
            )
            for number, status in enumerate(["pending", "pending", "failed"]):
                alert = Alert(
                    id=str(uuid.uuid4()),
                    dedupe_key=f"k{number}",
                    kind="new_figure",
                    topic="nk",
                    quantity="nk/troops",
                    payload={},
                )
                add_alert(session, alert, ["archive"], now)
                alert.deliveries[0].status = status
            session.add(
                DaemonState(
                    name="daemon",
                    pid=4242,
                    host="old-host",
                    started_at=now - timedelta(days=1),
                    beat_at=now - timedelta(hours=2),
                )
            )
    finally:
        database.dispose()
    table = newsmon("--config", str(path), "status")
    assert table.returncode == 0, table.stderr
    assert (
        "not running (last heartbeat 2h00m ago from pid 4242 on old-host; it died)" in table.stdout
    )
    assert "ok-wire: feed answered HTTP 503" in table.stdout and "never" in table.stdout
    assert "3 req, 0 new, 0 rev, 3 err" in table.stdout
    assert "outbox 2 pending (2 due now), 1 failed" in table.stdout
    report = json.loads(newsmon("--config", str(path), "status", "--format", "json").stdout)
    wire_status = report["sources"][0]
    assert wire_status["last_run"]["status"] == "failed" and wire_status["last_run"]["errors"] == 3
    assert wire_status["next_run"] is None  # no daemon, no next run
    due = datetime.fromisoformat(wire_status["next_due"])
    assert abs((due - (now + timedelta(minutes=10))).total_seconds()) < 1
    assert report["outbox"]["channels"] == {"archive": {"pending": 2, "due": 2, "failed": 1}}
