"""Faults and hostile inputs against real processes: a late or lost database, a lost lock, a
slow channel, a killed daemon, and bad input of every kind. Peers are real and on 127.0.0.1:
PostgreSQL (behind a TCP proxy the test starts and stops), HTTP receivers, the `newsmon run`
daemon as a subprocess (other commands in-process). README "What newsmon guarantees" names the
test behind each promise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from cli_in_process import newsmon_in_process
from cli_process import run_newsmon
from peers import Answer, HTTPPeer, TCPProxy
from test_alerts_dispatch import make_config, store_two_alerts
from test_daemon import DAEMON, start_daemon, wait_until  # noqa: F401 (a fixture)

from newsmon.alerts.dispatch import dispatch_pending
from newsmon.clock import utcnow
from newsmon.config import load_config
from newsmon.storage import Database
from newsmon.storage.alerts import add_alert
from newsmon.storage.models import Alert, Delivery
from newsmon.storage.timeouts import StatementTimeout, statement_timeout

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent


def newsmon(config: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60):
    """Commands run in-process (tests/cli_in_process.py); `run` starts Scrapy's reactor, so the
    daemon runs as a real process."""
    if "run" not in args:
        return newsmon_in_process("--config", config, *args, env=env, cwd=ROOT)
    return run_newsmon(
        "--config", config, *args, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout
    )


def through_proxy(url: str, proxy: TCPProxy) -> str:
    return sa.engine.make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(False)


def daemon_file(tmp_path: Path, url: str, channels: str = "") -> Path:
    text = DAEMON.format(url=url, jitter="0s", crawl_timeout="10s") + "sources: []\n"
    if channels:
        text += "alerts:\n  retry_backoff: 1s\n  channels:\n" + channels
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def pending_alert(database: Database, channel: str) -> str:
    alert_id = str(uuid.uuid4())
    with database.session() as session:
        alert = Alert(id=alert_id, dedupe_key=alert_id, kind="new_figure", topic="t",
                      quantity="t/q", payload={"id": alert_id})  # fmt: skip
        add_alert(session, alert, [channel], utcnow())
    return alert_id


# --- 1. the database: late at start, lost while running, read-only or corrupt -----------------


def test_the_daemon_waits_for_a_late_database_then_runs(
    postgres_url: str,
    tmp_path: Path,
    start_daemon,  # noqa: F811
) -> None:
    proxy = TCPProxy(("127.0.0.1", 5432))  # not started: the database is "down"
    config = daemon_file(tmp_path, through_proxy(postgres_url, proxy))
    daemon = start_daemon(config)
    wait_until(lambda: "waiting for it" in daemon.log(), 20, "the wait to be logged", daemon)
    time.sleep(3)  # several retries: still waiting, still one line
    assert daemon.process.poll() is None
    assert daemon.log().count("database not available") == 1
    proxy.start()
    try:
        wait_until(lambda: "daemon started" in daemon.log(), 40, "the start", daemon)
        assert "database available after" in daemon.log() and "Traceback" not in daemon.log()
        assert daemon.stop()[0] == 0
    finally:
        proxy.stop()


def test_a_lost_lock_pauses_scheduling_until_it_is_held_again(
    postgres_url: str,
    tmp_path: Path,
    start_daemon,  # noqa: F811
) -> None:
    proxy = TCPProxy(("127.0.0.1", 5432)).start()
    out = tmp_path / "alerts.jsonl"
    channel = f"    - {{name: archive, type: file, path: {out}}}\n"
    config = daemon_file(tmp_path, through_proxy(postgres_url, proxy), channel)
    database = Database.open(postgres_url)  # the test's own way in: not through the proxy
    rival = sa.create_engine(postgres_url, poolclass=sa.pool.NullPool).connect()
    try:
        daemon = start_daemon(config)
        wait_until(lambda: "daemon started" in daemon.log(), 30, "the start", daemon)
        proxy.stop()  # an outage: every connection of the daemon is cut, its lock released
        wait_until(lambda: "scheduling paused" in daemon.log(), 20, "the pause", daemon)
        # meanwhile another daemon takes the lock
        key = int.from_bytes(b"newsmon", "big")
        wait_until(
            lambda: rival.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar(),
            20,
            "the rival to take the lock",
        )
        proxy = TCPProxy(("127.0.0.1", 5432), proxy.port).start()  # the network is back
        alert_id = pending_alert(database, "archive")
        time.sleep(4)  # several heartbeats and dispatch rounds without the lock
        assert not out.exists(), "a paused daemon sent an alert"
        assert "another daemon took the lock" in daemon.log()
        rival.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        wait_until(lambda: "scheduling resumed" in daemon.log(), 20, "the resume", daemon)
        wait_until(lambda: out.exists() and alert_id in out.read_text(), 20, "the alert", daemon)
        assert "Traceback" not in daemon.log()
        assert daemon.stop()[0] == 0
    finally:
        rival.close()
        proxy.stop()
        database.dispose()


def test_a_read_only_postgresql_database_is_one_line_and_exit_1(
    postgres_url: str, tmp_path: Path
) -> None:
    Database.open(postgres_url).dispose()
    name = sa.engine.make_url(postgres_url).database
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            sa.text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        )
    admin.dispose()
    result = newsmon(daemon_file(tmp_path, postgres_url), "run")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "newsmon: database error: cannot execute" in result.stderr
    assert "read-only transaction" in result.stderr


def test_a_corrupt_sqlite_database_is_one_line_and_exit_1(tmp_path: Path) -> None:
    db = tmp_path / "newsmon.db"
    db.write_bytes(b"SQLite format 3\x00" + os.urandom(4000))
    for command in (["run"], ["status"], ["search", "troops"]):
        result = newsmon(daemon_file(tmp_path, f"sqlite:///{db}"), *command)
        assert result.returncode == 1, (command, result.stderr)
        assert result.stderr.strip().splitlines() == [
            "newsmon: database error: file is not a database"
        ]


# --- 2. search limits ----------------------------------------------------------------------------


def test_an_oversized_search_query_is_refused_in_one_line(tmp_path: Path) -> None:
    config = daemon_file(tmp_path, f"sqlite:///{tmp_path / 'n.db'}")
    for query in (" ".join(f"w{i}" for i in range(5000)), " ".join(f"w{i}" for i in range(40))):
        result = newsmon(config, "search", query)
        assert result.returncode == 2
        (line,) = result.stderr.strip().splitlines()
        assert "give at most 500 characters and 32 words" in line


def test_a_statement_past_its_timeout_is_stopped_by_the_database(database: Database) -> None:
    slow = {
        "postgresql": "SELECT pg_sleep(30)",
        "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
        "SELECT count(*) FROM n",
    }[database.dialect]
    started = time.monotonic()
    with (
        pytest.raises(StatementTimeout),
        database.session() as session,
        statement_timeout(session, 1.0),
    ):
        session.execute(sa.text(slow))
    assert time.monotonic() - started < 5
    if database.dialect == "postgresql":  # stopped on the server, not only abandoned
        with database.session() as session:
            running = session.scalar(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'")
            )
        assert running == 0


# --- 4. channels that cannot hurt each other -----------------------------------------------------


def test_a_slow_slack_neither_delays_other_channels_nor_gets_more_than_one_repeat(
    database: Database, tmp_path: Path
) -> None:
    out = tmp_path / "alerts.jsonl"
    slow = [Answer(200, "ok", delay=3.0)] * 10  # answers after the 1 s timeout, every time
    with HTTPPeer(slow) as slack:
        config = make_config(
            f"- {{name: chat, type: slack, webhook_url: '{slack.url}/hook', timeout: 1s}}\n"
            f"- {{name: archive, type: file, path: {out}}}\n"
        )
        ids = store_two_alerts(database, config)
        done: list[float] = []
        started = time.monotonic()
        rounds = threading.Thread(
            target=lambda: [dispatch_pending(database, config) for _ in range(4)]
        )
        rounds.start()
        while not (out.exists() and len(out.read_text().splitlines()) == 2):
            time.sleep(0.02)
        done.append(time.monotonic() - started)
        rounds.join()
        time.sleep(3.5)  # the slow answers arrive
    assert done[0] < 1.0  # the file channel did not wait for Slack's 1 s timeouts
    # each alert: the first post, one retry after the uncertain outcome, then no more
    posts = [r.json()["text"] for r in slack.received]
    assert len(posts) == 4 and len(set(posts)) == 2
    with database.session() as session:
        rows = session.scalars(sa.select(Delivery).where(Delivery.channel == "chat")).all()
    assert sorted(r.alert_id for r in rows) == sorted(ids)
    assert {(r.status, r.uncertain_sends) for r in rows} == {("failed", 2)}
    assert all("the channel may have received it already" in r.last_error for r in rows)


def test_a_timed_out_webhook_is_retried_with_the_same_idempotency_key(database: Database) -> None:
    script = [Answer(200, "ok", delay=2.0)] * 3  # three timeouts, then answers at once
    with HTTPPeer(script) as hook:
        config = make_config(
            f"- {{name: hook, type: webhook, url: '{hook.url}/in', timeout: 0.5s}}\n",
            "  retry_backoff: 0s\n",
        )
        ids = store_two_alerts(database, config)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            dispatch_pending(database, config)
            with database.session() as session:
                statuses = set(session.scalars(sa.select(Delivery.status)))
            if statuses == {"sent"}:
                break
            time.sleep(0.2)
    assert statuses == {"sent"}  # a deduplicating channel is retried past uncertain outcomes
    keys = [r.headers["Idempotency-Key"] for r in hook.received]
    assert set(keys) == set(ids) and len(keys) == 5
    assert all(r.json()["id"] == r.headers["Idempotency-Key"] for r in hook.received)


# --- 5. no debris --------------------------------------------------------------------------------


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")  # a zombie has ended; only its exit status waits to be read


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_the_daemon_mid_crawl_leaves_no_process(tmp_path: Path) -> None:
    pids_file = tmp_path / "pids.json"
    config = daemon_file(tmp_path, f"sqlite:///{tmp_path / 'n.db'}")
    config.write_text(
        config.read_text().replace(
            "sources: []\n", "sources:\n  - {name: s, url: 'http://127.0.0.1:9/', type: feed, "
            "every: 1h}\n"
        )
    )  # fmt: skip
    log = (tmp_path / "daemon.log").open("w")
    daemon = subprocess.Popen(
        [sys.executable, "-m", "newsmon.cli", "--config", str(config), "run",
         "--crawl-target", "fault_crawls:crawl"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(TESTS),
                       "NEWSMON_TEST_PIDS": str(pids_file)},
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not pids_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        record = json.loads(pids_file.read_text())
        pids = [record["crawl"], *record["workers"], *record["forkserver"]]
        assert len(record["workers"]) == 2 and not any(_gone(pid) for pid in pids)
        daemon.kill()
        daemon.wait()
        deadline = time.monotonic() + 10
        while not all(_gone(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in pids if not _gone(pid)] == []
    finally:
        if daemon.poll() is None:
            daemon.kill()


# --- 6. one clear line for every bad input -------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["show", "99999999999999999999999"],
        ["alerts", "--limit", "99999999999999999999999"],
        ["figures", "--limit", "99999999999999999999999"],
        ["search", "troops", "--limit", "99999999999999999999999"],
        ["alerts", "--since", "1000000000h"],
        ["search", "troops", "--since", "1000000000h"],
        ["export", "--since", "99999999999999999999999999d"],
    ],
)
def test_out_of_range_numbers_are_one_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = newsmon(daemon_file(tmp_path, f"sqlite:///{tmp_path / 'n.db'}"), *args)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("newsmon: ")


def test_markup_characters_in_a_source_name_are_shown_as_written(tmp_path: Path) -> None:
    config = daemon_file(tmp_path, f"sqlite:///{tmp_path / 'n.db'}")
    config.write_text(
        config.read_text().replace(
            "sources: []\n",
            "sources:\n  - {name: 'wire [/] [bold]x', url: 'http://127.0.0.1:9/', type: feed,"
            " every: 1h}\n",
        )
    )
    for command in ("status", "check"):
        result = newsmon(config, command)
        assert result.returncode == 0, result.stderr
        assert "wire [/] [bold]x" in result.stdout


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [
        ("${A:-${B}}", {"B": "from-b"}, "from-b"),
        ("${A:-${B:-deep}}", {}, "deep"),
        ("$${LITERAL}", {}, "${LITERAL}"),
        ("${A:-x}-${B}", {"A": "a", "B": "b"}, "a-b"),
    ],
)
def test_env_references_nest_and_escape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value, env, expected
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  url: sqlite:///{tmp_path / 'n.db'}\ncrawl:\n"
                      f"  user_agent: '{value}'\n")  # fmt: skip
    for name in ("A", "B"):
        monkeypatch.delenv(name, raising=False)
    for name, text in env.items():
        monkeypatch.setenv(name, text)
    assert load_config(config).crawl.user_agent == expected


@pytest.mark.parametrize("value", ["${A", "${ A }", "${A:-${B}", "x ${} y"])
def test_a_malformed_env_reference_is_an_error_naming_its_line(tmp_path: Path, value) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  url: sqlite:///{tmp_path / 'n.db'}\ncrawl:\n"
                      f"  user_agent: '{value}'\n")  # fmt: skip
    result = newsmon(config, "check", env={"A": "a", "B": "b"})
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert f"{config}:4: crawl.user_agent: malformed reference" in line
