"""Crawl-run records: started, finished with counts, abandoned after a kill, read back by source."""

from __future__ import annotations

from datetime import UTC, datetime

from newsmon.storage import Database
from newsmon.storage.crawls import (
    RunCounts,
    abandon_running_runs,
    ensure_source,
    finish_run,
    last_run_times,
    last_runs,
    start_run,
)


def test_runs_are_recorded_and_read_back(database: Database) -> None:
    with database.session() as session:
        wire = ensure_source(session, "wire", "https://example.org/rss", "feed")
        first = start_run(session, wire, datetime(2026, 11, 1, tzinfo=UTC))
        counts = RunCounts(requests=5, new_articles=2)
        counts.error("http_500")
        counts.error("http_500")
        finish_run(session, first.id, counts)
        start_run(session, wire, datetime(2026, 11, 2, tzinfo=UTC))
    with database.session() as session:
        runs = last_runs(session)
        assert runs["wire"].status == "running"
        assert last_run_times(session) == {"wire": datetime(2026, 11, 2, tzinfo=UTC)}
        assert abandon_running_runs(session, ["wire"], "timeout", "killed after 15m") == 1
    with database.session() as session:
        run = last_runs(session)["wire"]
        assert (run.status, run.message) == ("timeout", "killed after 15m")
        assert run.finished_at is not None


def test_finished_run_keeps_counts(database: Database) -> None:
    with database.session() as session:
        wire = ensure_source(session, "wire", "https://example.org/rss", "feed")
        run = start_run(session, wire)
        counts = RunCounts(requests=3, not_modified=1, new_versions=1)
        counts.error("timeout")
        finish_run(session, run.id, counts, status="ok")
    with database.session() as session:
        run = last_runs(session)["wire"]
        assert (run.requests, run.not_modified, run.new_versions, run.errors) == (3, 1, 1, 1)
        assert run.error_counts == {"timeout": 1}


def test_changed_source_url_drops_its_validators(database: Database) -> None:
    with database.session() as session:
        wire = ensure_source(session, "wire", "https://example.org/rss", "feed")
        wire.etag, wire.last_modified = '"abc"', "Mon, 01 Jan 2026 00:00:00 GMT"
    with database.session() as session:
        same = ensure_source(session, "wire", "https://example.org/rss", "feed")
        assert same.etag == '"abc"'
        moved = ensure_source(session, "wire", "https://example.org/atom", "feed")
        assert moved.etag is None and moved.url == "https://example.org/atom"
