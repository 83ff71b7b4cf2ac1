"""Sources and crawl runs: the rows the spiders write and the daemon and `status` read."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from newsmon.clock import utcnow
from newsmon.storage.models import CrawlRun, Source

RUN_COUNTERS = (
    "requests",
    "not_modified",
    "new_articles",
    "new_versions",
    "duplicates",
    "skipped",
    "errors",
)


@dataclass
class RunCounts:
    """What one crawl of one source did; filled by the spiders as they go."""

    requests: int = 0
    not_modified: int = 0
    new_articles: int = 0
    new_versions: int = 0
    duplicates: int = 0
    skipped: int = 0  # read, but matching none of the source's topics
    errors: int = 0
    error_counts: dict[str, int] = field(default_factory=dict)  # kind -> count

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_counts[kind] = self.error_counts.get(kind, 0) + 1


def ensure_source(session: Session, name: str, url: str, type_: str) -> Source:
    """The row of a configured source, created on first use; url/type follow the config."""
    source = session.scalars(select(Source).where(Source.name == name)).one_or_none()
    if source is None:
        source = Source(name=name, url=url, type=type_)
        session.add(source)
        session.flush()
    elif (source.url, source.type) != (url, type_):
        # a new address means the old HTTP validators no longer apply
        source.url, source.type, source.etag, source.last_modified = url, type_, None, None
    return source


def start_run(session: Session, source: Source, started_at: datetime | None = None) -> CrawlRun:
    run = CrawlRun(source_id=source.id, started_at=started_at or utcnow(), status="running")
    session.add(run)
    source.last_run_at = run.started_at
    session.flush()
    return run


def finish_run(
    session: Session,
    run_id: int,
    counts: RunCounts,
    status: str = "ok",
    message: str | None = None,
) -> CrawlRun:
    run = session.get_one(CrawlRun, run_id)
    for name in RUN_COUNTERS:
        setattr(run, name, getattr(counts, name))
    run.error_counts = dict(counts.error_counts)
    run.status, run.message, run.finished_at = status, message, utcnow()
    return run


def abandon_running_runs(
    session: Session, source_names: list[str] | None, status: str, message: str
) -> int:
    """Close runs left 'running' by a crawl that was killed (timeout, memory, crash)."""
    query = update(CrawlRun).where(CrawlRun.status == "running")
    if source_names is not None:
        ids = select(Source.id).where(Source.name.in_(source_names)).scalar_subquery()
        query = query.where(CrawlRun.source_id.in_(ids))
    # An UPDATE gives a CursorResult, which Session.execute's type does not promise.
    result = cast(
        CursorResult[Any],
        session.execute(
            query.values(status=status, message=message, finished_at=utcnow()),
            execution_options={"synchronize_session": False},
        ),
    )
    return result.rowcount or 0


def last_complete_run_at(session: Session, source_id: int) -> datetime | None:
    """When the source's last run that read everything it listed ('ok') started: what a sitemap
    index's <lastmod> is compared with (a run cut short must not hide what it did not read)."""
    return session.scalar(
        select(func.max(CrawlRun.started_at)).where(
            CrawlRun.source_id == source_id, CrawlRun.status == "ok"
        )
    )


def last_runs(session: Session, source_names: Collection[str] | None = None) -> dict[str, CrawlRun]:
    """Source name -> its most recent run (of these sources; default: all). Per source one
    probe of ix_crawl_runs_source_latest, then the runs by primary key: never a read of the
    whole run history (in one query, PostgreSQL's planner hashes all of crawl_runs)."""
    latest = (
        select(func.max(CrawlRun.id))
        .where(CrawlRun.source_id == Source.id)
        .correlate(Source)
        .scalar_subquery()
    )
    query = select(Source.name, latest)
    if source_names is not None:
        query = query.where(Source.name.in_(list(source_names)))
    names = {run_id: name for name, run_id in session.execute(query) if run_id is not None}
    runs = session.scalars(select(CrawlRun).where(CrawlRun.id.in_(list(names))))
    return {names[run.id]: run for run in runs}


def last_run_times(session: Session) -> dict[str, datetime]:
    """Source name -> when its last run started (the daemon's schedule resumes from it)."""
    rows: Any = session.execute(select(Source.name, Source.last_run_at))
    return {name: at for name, at in rows if at is not None}


def first_crawl_sources(session: Session, source_ids: list[int]) -> set[int]:
    """Those of these sources whose first crawl has not been stored yet."""
    if not source_ids:
        return set()
    rows = session.scalars(
        select(Source.id).where(Source.id.in_(source_ids), Source.baseline_at.is_(None))
    )
    return set(rows)


def mark_first_crawl_done(session: Session, source_ids: list[int], at: datetime) -> None:
    """These sources' first crawl is stored: later crawls raise alerts."""
    if source_ids:
        session.execute(
            update(Source)
            .where(Source.id.in_(source_ids), Source.baseline_at.is_(None))
            .values(baseline_at=at)
            .execution_options(synchronize_session=False)
        )
