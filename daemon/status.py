"""What `newsmon status` reports: is the daemon alive, each source's last and next run, the outbox.

The next run is computed the way the daemon plans it (scheduler.planned_runs: last run + interval,
or the next cron match after it), before the daemon's random jitter of up to `daemon.jitter`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from config import Config
from scheduler import planned_runs, source_schedules
from storage import Database
from storage import daemon as daemon_rows
from storage.crawls import last_run_times, last_runs
from storage.models import CrawlRun, utcnow

ALIVE_BEATS = 3  # the daemon is alive if its heartbeat is younger than 3 x heartbeat_every


@dataclass
class DaemonInfo:
    alive: bool
    pid: int | None = None
    host: str | None = None
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None

    def describe(self, now: datetime) -> str:
        if self.heartbeat_at is None:
            return "not running (no heartbeat in the database)"
        age = _ago(now, self.heartbeat_at)
        if self.alive:
            return (
                f"running (pid {self.pid} on {self.host}, up since "
                f"{_stamp(self.started_at)}, heartbeat {age})"
            )
        return f"not running (last heartbeat {age} from pid {self.pid} on {self.host}; it died)"


@dataclass
class SourceStatus:
    name: str
    schedule: str
    last_run: CrawlRun | None
    next_run: datetime | None  # None while the daemon is not running
    next_due: datetime  # when the schedule says it is due

    def to_dict(self) -> dict[str, Any]:
        run = self.last_run
        return {
            "source": self.name,
            "schedule": self.schedule,
            "last_run": None
            if run is None
            else {
                "id": run.id,
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at),
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
            "next_run": _iso(self.next_run),
            "next_due": _iso(self.next_due),
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
            "now": _iso(self.now),
            "database": self.database,
            "daemon": {
                "alive": self.daemon.alive,
                "pid": self.daemon.pid,
                "host": self.daemon.host,
                "started_at": _iso(self.daemon.started_at),
                "heartbeat_at": _iso(self.daemon.heartbeat_at),
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


def collect_status(config: Config, database: Database, now: datetime | None = None) -> StatusReport:
    now = now or utcnow()
    with database.session() as session:
        state = daemon_rows.heartbeat(session)
        runs = last_runs(session)
        planned = planned_runs(config, last_run_times(session), now)
        outbox = daemon_rows.outbox(session, now)
    if state is None:
        info = DaemonInfo(alive=False)
    else:
        alive = now - state.beat_at < ALIVE_BEATS * config.daemon.heartbeat_every
        info = DaemonInfo(alive, state.pid, state.host, state.started_at, state.beat_at)
    sources = []
    for name, schedule in source_schedules(config).items():
        run = runs.get(name)
        due = planned[name]
        next_run = None
        if info.alive:
            next_run = now if run is not None and run.status == "running" else max(due, now)
        sources.append(SourceStatus(name, schedule.describe(), run, next_run, due))
    return StatusReport(now, database.safe_url, info, sources, outbox)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


def _stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment is not None else "?"


def _ago(now: datetime, moment: datetime) -> str:
    return f"{describe_delta((now - moment).total_seconds())} ago"


def describe_delta(seconds: float) -> str:
    """3s, 4m, 2h05m, 3d: short, for a table."""
    seconds = abs(int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"
