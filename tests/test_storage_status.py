"""storage/status.py and scheduler.collect_status: what `newsmon status` reads and plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from newsmon.config import Config, parse_config
from newsmon.scheduler import collect_status
from newsmon.storage import Database
from newsmon.storage.crawls import RunCounts, ensure_source, finish_run, start_run
from newsmon.storage.daemon import beat

NOW = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)


def config(url: str) -> Config:
    text = f"""
storage: {{url: "{url}"}}
daemon: {{heartbeat_every: 10s}}
sources:
  - {{name: wire, url: "https://example.org/rss", type: feed, every: 15m}}
  - {{name: fresh, url: "https://example.org/new.xml", type: feed, every: 1h}}
"""
    return parse_config(text, Path("config.yaml"), {})


def test_status_reads_configured_sources_and_plans_their_next_run(database: Database) -> None:
    with database.session() as session:
        wire = ensure_source(session, "wire", "https://example.org/rss", "feed")
        run = start_run(session, wire, NOW - timedelta(minutes=5))
        finish_run(session, run.id, RunCounts(requests=2, new_articles=1))
        # a source the config no longer has: its runs are not read, nor reported
        gone = ensure_source(session, "gone", "https://example.org/old", "feed")
        start_run(session, gone, NOW - timedelta(minutes=1))
        beat(session, 4242, "vm", NOW - timedelta(hours=1), NOW - timedelta(seconds=5))
    report = collect_status(config(database.url), database, now=NOW)
    assert report.daemon.alive and report.daemon.pid == 4242
    by_name = {source.name: source for source in report.sources}
    assert list(by_name) == ["wire", "fresh"]
    assert by_name["wire"].last_run is not None and by_name["wire"].last_run.new_articles == 1
    assert by_name["wire"].next_run == NOW + timedelta(minutes=10)  # last start + 15m
    assert by_name["fresh"].last_run is None and by_name["fresh"].next_run == NOW  # never run
    assert by_name["wire"].lag == 0.0  # due in 10 minutes
    assert report.to_dict()["sources"][0]["next_due"] == "2026-11-04T10:10:00+00:00"


def test_status_shows_how_late_an_overdue_source_is(database: Database) -> None:
    with database.session() as session:
        wire = ensure_source(session, "wire", "https://example.org/rss", "feed")
        run = start_run(session, wire, NOW - timedelta(minutes=18))  # due 3 minutes ago
        finish_run(session, run.id, RunCounts(requests=1))
        beat(session, 4242, "vm", NOW - timedelta(hours=1), NOW - timedelta(seconds=5))
    report = collect_status(config(database.url), database, now=NOW)
    wire_status = report.sources[0]
    assert wire_status.lag == 180.0 and wire_status.to_dict()["lag_seconds"] == 180.0


def test_a_dead_daemon_plans_nothing(database: Database) -> None:
    with database.session() as session:
        beat(session, 4242, "vm", NOW - timedelta(hours=2), NOW - timedelta(minutes=1))
    report = collect_status(config(database.url), database, now=NOW)
    assert not report.daemon.alive  # heartbeat older than 3 x 10s
    assert [source.next_run for source in report.sources] == [None, None]
