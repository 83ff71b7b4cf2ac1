"""Tracks: the figures of one (quantity, counts or forecasts), in the order of the time each
report speaks for; every query alerts/ and `newsmon current` need about current values.

A track's reports are its articles' lead figures (one per article version, see alerts.detect),
syndicated copies left out. Its current value is the report with the latest date (the version's
`dated_at`: publication, or a revision's modified time), whatever order newsmon stored them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from newsmon.storage.models import Article, ArticleVersion, Figure

# statuses of a version's lead figure in a track (alerts.detect): the track's reports
REPORT_STATUSES = (
    "new",
    "changed",
    "corroboration",
    "revised",
    "forecast",
    "conflict",
    "history",
    "late",
    "baseline",
)


def version_date(version: ArticleVersion) -> datetime:
    """The time a version speaks for (legacy rows without `dated_at`: publication or fetch)."""
    return version.dated_at or version.published_at or version.fetched_at


def dated() -> ColumnElement[Any]:
    """`version_date` in SQL."""
    return func.coalesce(
        ArticleVersion.dated_at, ArticleVersion.published_at, ArticleVersion.fetched_at
    )


def _reports(quantity: str, projection: bool) -> Any:
    return (
        select(Figure)
        .join(Figure.version)
        .where(
            Figure.quantity == quantity,
            Figure.projection.is_(projection),
            Figure.status.in_(REPORT_STATUSES),
        )
        .options(selectinload(Figure.version), selectinload(Figure.article))
    )


def current_figure(
    session: Session,
    quantity: str,
    projection: bool,
    *,
    exclude_version: int | None = None,
    exclude_article: int | None = None,
) -> Figure | None:
    """The track's latest-dated report (ties: the one stored last)."""
    query = _reports(quantity, projection)
    if exclude_version is not None:
        query = query.where(Figure.version_id != exclude_version)
    if exclude_article is not None:
        query = query.where(Figure.article_id != exclude_article)
    return session.scalars(query.order_by(dated().desc(), Figure.id.desc()).limit(1)).first()


def reports_between(
    session: Session,
    quantity: str,
    projection: bool,
    since: datetime,
    until: datetime,
    exclude_version: int | None = None,
) -> list[Figure]:
    """The track's reports dated in [since, until], oldest first."""
    query = _reports(quantity, projection).where(dated() >= since, dated() <= until)
    if exclude_version is not None:
        query = query.where(Figure.version_id != exclude_version)
    return list(session.scalars(query.order_by(dated(), Figure.id)))


def reported_values(
    session: Session, quantity: str, projection: bool, exclude_version: int
) -> list[float]:
    """Every value the track's reports gave (but this version's)."""
    return list(
        session.scalars(
            select(Figure.value).where(
                Figure.quantity == quantity,
                Figure.projection.is_(projection),
                Figure.status.in_(REPORT_STATUSES),
                Figure.version_id != exclude_version,
            )
        )
    )


@dataclass
class TrackSummary:
    """What `newsmon current` and a baseline message say about one track."""

    quantity: str  # topic/quantity
    projection: bool
    current: Figure
    reports: int  # every report in the track
    outlets: int  # distinct sources among them
    agreeing: int  # distinct sources whose latest report gives the current value
    disagreeing: list[Figure]  # other sources' differing reports within the window

    @property
    def date(self) -> datetime:
        return version_date(self.current.version)


def summarise(
    session: Session, quantity: str, projection: bool, min_change: float, window: timedelta
) -> TrackSummary | None:
    """The track's current value and who else reported what; None for an empty track."""
    current = current_figure(session, quantity, projection)
    if current is None:
        return None
    counts = session.execute(
        select(func.count(Figure.id), func.count(func.distinct(Article.source_id)))
        .join(Figure.article)
        .where(
            Figure.quantity == quantity,
            Figure.projection.is_(projection),
            Figure.status.in_(REPORT_STATUSES),
        )
    ).one()
    when = version_date(current.version)
    latest_by_source: dict[int | None, Figure] = {}
    for figure in reports_between(session, quantity, projection, when - window, when):
        latest_by_source[figure.article.source_id] = figure  # oldest first: the last one wins
    agreeing = sum(
        1
        for figure in latest_by_source.values()
        if not differs(figure.value, current.value, min_change)
    )
    disagreeing = [
        figure
        for source_id, figure in latest_by_source.items()
        if source_id != current.article.source_id
        and differs(figure.value, current.value, min_change)
    ]
    return TrackSummary(quantity, projection, current, counts[0], counts[1], agreeing, disagreeing)


def differs(value: float, reported: float, min_change: float) -> bool:
    """True when `value` is at least `min_change` (relative to the reported value) away."""
    if reported == 0:
        return value != 0
    return abs(value - reported) / abs(reported) >= min_change


def unassessed_versions(session: Session, source_ids: Sequence[int]) -> list[ArticleVersion]:
    """Versions of these sources' articles holding figures not yet assessed, in date order."""
    if not source_ids:
        return []
    pending = (
        select(Figure.version_id)
        .join(Figure.article)
        .where(Figure.status.is_(None), Article.source_id.in_(source_ids))
    )
    return list(
        session.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.id.in_(pending))
            .order_by(dated(), ArticleVersion.id)
            .options(selectinload(ArticleVersion.figures), selectinload(ArticleVersion.article))
        )
    )
