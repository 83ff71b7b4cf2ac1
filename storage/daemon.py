"""The daemon's rows and queries: heartbeat, the PostgreSQL lock, crawl outcomes, outbox counts.

`newsmon status` reads what the daemon writes here; nothing else writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, text
from sqlalchemy.orm import Session

from newsmon.storage.crawls import (
    RunCounts,
    abandon_running_runs,
    ensure_source,
    finish_run,
    start_run,
)
from newsmon.storage.models import CrawlRun, DaemonState, Delivery, Source

HEARTBEAT = "daemon"  # the one DaemonState row: one daemon per database
# pg_try_advisory_lock key: "newsmon" in ASCII; advisory locks are per database
ADVISORY_LOCK_KEY = int.from_bytes(b"newsmon", "big")


def beat(session: Session, pid: int, host: str, started_at: datetime, now: datetime) -> None:
    """Record that the daemon (pid on host) is alive at `now`."""
    state = session.get(DaemonState, HEARTBEAT)
    if state is None:
        session.add(
            DaemonState(name=HEARTBEAT, pid=pid, host=host, started_at=started_at, beat_at=now)
        )
    else:
        state.pid, state.host, state.started_at, state.beat_at = pid, host, started_at, now


def clear_heartbeat(session: Session, pid: int, host: str) -> None:
    """Remove the heartbeat at a clean stop (only our own: a newer daemon's row stays)."""
    session.execute(
        delete(DaemonState).where(
            DaemonState.name == HEARTBEAT, DaemonState.pid == pid, DaemonState.host == host
        )
    )


def heartbeat(session: Session) -> DaemonState | None:
    return session.get(DaemonState, HEARTBEAT)


def try_advisory_lock(connection: Connection) -> bool:
    """Take the daemon's PostgreSQL session lock on this connection; False if another has it.
    The lock lives as long as the connection, so it dies with the process holding it."""
    taken = bool(
        connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
        ).scalar_one()
    )
    connection.commit()  # a session lock outlives the transaction; do not sit idle in one
    return taken


def holds_advisory_lock(connection: Connection) -> bool:
    """Does this connection's session hold the daemon's lock? (a bigint key is stored as its
    high and low 32 bits in classid and objid, objsubid 1)"""
    held = connection.execute(
        text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND pid = pg_backend_pid() AND classid::bigint = :high"
            " AND objid::bigint = :low AND objsubid = 1"
        ),
        {"high": ADVISORY_LOCK_KEY >> 32, "low": ADVISORY_LOCK_KEY & 0xFFFFFFFF},
    ).scalar_one()
    connection.commit()
    return bool(held)


def release_advisory_lock(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
    connection.commit()


def record_crawl_outcome(
    session: Session,
    source_name: str,
    source_url: str,
    source_type: str,
    status: str,
    message: str,
    started_at: datetime,
) -> int:
    """Record how a crawl the daemon had to stop (or that crashed) ended: its runs still
    'running' are closed with `status` and `message`, and so are the ones it closed itself when
    told to stop (a crawl cut short is not 'ok'; its counts are kept). When it left no run (it
    died before starting one), one is recorded so the failure shows in `newsmon status`.
    Returns the number of runs closed or recorded."""
    closed = abandon_running_runs(session, [source_name], status, message)
    # runs the crawl closed itself when told to stop; at a timeout also those it closed as
    # failed because the deadline cut their requests
    statuses = ("ok", "limited", "interrupted") + (("failed",) if status == "timeout" else ())
    cut_short = session.scalars(
        select(CrawlRun)
        .join(Source)
        .where(
            Source.name == source_name,
            CrawlRun.started_at >= started_at,
            CrawlRun.status.in_(statuses),
        )
    ).all()
    for run in cut_short:
        run.status, run.message = status, message
    if closed or cut_short:
        return closed + len(cut_short)
    source = ensure_source(session, source_name, source_url, source_type)
    run = start_run(session, source, started_at)
    finish_run(session, run.id, RunCounts(), status=status, message=message)
    return 1


def last_run_at(session: Session, source_name: str) -> datetime | None:
    """When this source's last run started (None: never)."""
    return session.scalar(select(Source.last_run_at).where(Source.name == source_name))


def close_running_runs(session: Session, source_name: str, message: str) -> int:
    """A crawl engine died with this source's poll: its run is closed as failed, saying why."""
    return abandon_running_runs(session, [source_name], "failed", message)


def close_orphaned_runs(session: Session, message: str) -> int:
    """At start: runs still 'running' were left by a daemon that died during a crawl."""
    return abandon_running_runs(session, None, "failed", message)


@dataclass
class ChannelOutbox:
    pending: int = 0  # waiting for their first attempt or a retry
    due: int = 0  # pending and due now
    failed: int = 0  # gave up after alerts.max_attempts (or a permanent error)


@dataclass
class Outbox:
    channels: dict[str, ChannelOutbox] = field(default_factory=dict)

    @property
    def pending(self) -> int:
        return sum(c.pending for c in self.channels.values())

    @property
    def due(self) -> int:
        return sum(c.due for c in self.channels.values())

    @property
    def failed(self) -> int:
        return sum(c.failed for c in self.channels.values())


def outbox(session: Session, now: datetime) -> Outbox:
    """Pending (and due) and failed deliveries per channel."""
    result = Outbox()
    rows = session.execute(
        select(Delivery.channel, Delivery.status, func.count())
        .where(Delivery.status.in_(("pending", "failed")))
        .group_by(Delivery.channel, Delivery.status)
    )
    for channel, status, count in rows:
        setattr(result.channels.setdefault(channel, ChannelOutbox()), status, count)
    due = session.execute(
        select(Delivery.channel, func.count())
        .where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
        .group_by(Delivery.channel)
    )
    for channel, count in due:
        result.channels.setdefault(channel, ChannelOutbox()).due = count
    return result


def last_digest_times(session: Session, channel_names: list[str]) -> dict[str, datetime]:
    """Digest channel -> when it last sent something (its schedule resumes from there)."""
    rows = session.execute(
        select(Delivery.channel, func.max(Delivery.sent_at))
        .where(Delivery.channel.in_(channel_names), Delivery.sent_at.is_not(None))
        .group_by(Delivery.channel)
    )
    return {channel: sent_at for channel, sent_at in rows if sent_at is not None}
