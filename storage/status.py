"""What `newsmon status` reads: the daemon's heartbeat, each configured source's last run, the
alert outbox. The query only; when each source runs next is the schedule's business
(scheduler.collect_status) and the table is the CLI's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from newsmon.clock import iso
from newsmon.storage import daemon as daemon_rows
from newsmon.storage.crawls import last_run_times, last_runs
from newsmon.storage.models import CrawlRun

ALIVE_BEATS = 3  # the daemon is alive if its heartbeat is younger than 3 x heartbeat_every


@dataclass
class DaemonInfo:
    alive: bool
    pid: int | None = None
    host: str | None = None
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None


@dataclass
class SourceStatus:
    name: str
    schedule: str
    last_run: CrawlRun | None
    last_run_at: datetime | None = None  # the source's last start (also set without a run row)
    next_run: datetime | None = None  # None while the daemon is not running
    next_due: datetime | None = None  # when the schedule says it is due
    lag: float | None = None  # seconds it is overdue and not started (None: no daemon)

    def to_dict(self) -> dict[str, Any]:
        run = self.last_run
        return {
            "source": self.name,
            "schedule": self.schedule,
            "last_run": None
            if run is None
            else {
                "id": run.id,
                "started_at": iso(run.started_at, "seconds"),
                "finished_at": iso(run.finished_at, "seconds"),
                "status": run.status,
                "requests": run.requests,
                "not_modified": run.not_modified,
                "new_articles": run.new_articles,
                "new_versions": run.new_versions,
                "duplicates": run.duplicates,
                "errors": run.errors,
                "error_counts": run.error_counts,
                "message": run.message,
            },
            "next_run": iso(self.next_run, "seconds"),
            "next_due": iso(self.next_due, "seconds"),
            "lag_seconds": None if self.lag is None else round(self.lag, 1),
        }


@dataclass
class StatusReport:
    now: datetime
    database: str
    daemon: DaemonInfo
    sources: list[SourceStatus]
    outbox: daemon_rows.Outbox = field(default_factory=daemon_rows.Outbox)

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": iso(self.now, "seconds"),
            "database": self.database,
            "daemon": {
                "alive": self.daemon.alive,
                "pid": self.daemon.pid,
                "host": self.daemon.host,
                "started_at": iso(self.daemon.started_at, "seconds"),
                "heartbeat_at": iso(self.daemon.heartbeat_at, "seconds"),
            },
            "sources": [source.to_dict() for source in self.sources],
            "outbox": {
                "pending": self.outbox.pending,
                "due": self.outbox.due,
                "failed": self.outbox.failed,
                "channels": {
                    name: {"pending": c.pending, "due": c.due, "failed": c.failed}
                    for name, c in sorted(self.outbox.channels.items())
                },
            },
        }


def read_status(
    session: Session,
    database: str,
    sources: Sequence[tuple[str, str]],
    heartbeat_every: timedelta,
    now: datetime,
) -> StatusReport:
    """The status of these (name, schedule description) sources: their last runs only, never
    those of sources the config no longer has."""
    state = daemon_rows.heartbeat(session)
    if state is None:
        info = DaemonInfo(alive=False)
    else:
        alive = now - state.beat_at < ALIVE_BEATS * heartbeat_every
        info = DaemonInfo(alive, state.pid, state.host, state.started_at, state.beat_at)
    runs = last_runs(session, [name for name, _ in sources])
    started = last_run_times(session)
    rows = [
        SourceStatus(name, schedule, runs.get(name), started.get(name))
        for name, schedule in sources
    ]
    return StatusReport(now, database, info, rows, daemon_rows.outbox(session, now))
