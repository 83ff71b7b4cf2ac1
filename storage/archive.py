"""Reading the archive back: the timeline of a tracked quantity, and one article with its history.

A report's date is its version's `dated_at` (the article's publication; for a revision, the
page's own modified time, else when newsmon fetched it), the time alerts/ orders reports by.
Figure statuses are whatever alerts/ stored (new, changed, corroboration, forecast, revised,
conflict, history, late, baseline, duplicate, untracked) or None for figures not assessed yet.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from newsmon.clock import iso
from newsmon.errors import NewsmonError
from newsmon.storage.models import Article, ArticleVersion, Figure, Source

TIMELINE_FIELDS = (
    "date", "quantity", "value", "low", "high", "qualifier", "unit", "text", "attribution",
    "forecast", "status", "outlet", "url", "title", "version", "figure_id",
)  # fmt: skip


@dataclass(frozen=True)
class TimelineRow:
    """One report of a quantity's value: a stored figure with its article and outlet."""

    figure_id: int
    date: datetime
    quantity: str
    value: float
    low: float | None
    high: float | None
    qualifier: str
    unit: str | None
    text: str
    attribution: str | None
    projection: bool
    status: str | None
    outlet: str | None
    url: str
    title: str | None
    version: int

    def as_record(self) -> dict[str, object]:
        """A JSON/CSV-ready dict (dates as ISO 8601)."""
        return {
            "date": self.date.isoformat(),
            "quantity": self.quantity,
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "qualifier": self.qualifier,
            "unit": self.unit,
            "text": self.text,
            "attribution": self.attribution,
            "forecast": self.projection,
            "status": self.status,
            "outlet": self.outlet,
            "url": self.url,
            "title": self.title,
            "version": self.version,
            "figure_id": self.figure_id,
        }


def report_date() -> sa.ColumnElement[datetime]:
    """The SQL expression of an article's date: published, else first seen."""
    return sa.func.coalesce(
        Article.published_at, Article.first_seen_at, type_=Article.published_at.type
    )


def figure_date() -> sa.ColumnElement[datetime]:
    """When a figure was reported: its version's `dated_at`; for rows stored without one,
    the article's date for the first version, the fetch for a revision. Needs Figure joined
    to its version."""
    return sa.func.coalesce(
        ArticleVersion.dated_at,
        sa.case((ArticleVersion.number > 1, ArticleVersion.fetched_at), else_=report_date()),
        type_=ArticleVersion.fetched_at.type,
    )


def figure_timeline(
    session: Session,
    quantity: str | None = None,
    topic: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[TimelineRow]:
    """Reports of tracked quantities, oldest first. `quantity` is "topic/quantity"; `topic`
    keeps that topic's quantities; `limit` keeps the newest reports."""
    date = figure_date().label("date")
    statement = (
        sa.select(
            Figure.id,
            date,
            Figure.quantity,
            Figure.value,
            Figure.low,
            Figure.high,
            Figure.qualifier,
            Figure.unit,
            Figure.text,
            Figure.attribution,
            Figure.projection,
            Figure.status,
            Source.name.label("outlet"),
            Article.url,
            Article.title,
            ArticleVersion.number.label("version"),
        )
        .join(Article, Article.id == Figure.article_id)
        .join(ArticleVersion, ArticleVersion.id == Figure.version_id)
        .outerjoin(Source, Source.id == Article.source_id)
        .where(Figure.quantity.is_not(None))
    )
    if quantity is not None:
        statement = statement.where(Figure.quantity == quantity)
    if topic is not None:
        statement = statement.where(Figure.topic == topic)
    if since is not None:
        statement = statement.where(figure_date() >= since)
    if limit is not None:
        newest = statement.order_by(date.desc(), Figure.id.desc()).limit(limit).subquery()
        rows = session.execute(sa.select(newest).order_by(newest.c.date, newest.c.id)).all()
    else:
        rows = session.execute(statement.order_by(date, Figure.id)).all()
    return [TimelineRow(row[0], *row[1:]) for row in rows]


def tracked_quantities(session: Session, topic: str | None = None) -> list[str]:
    """The quantities that have at least one stored figure (of the topic, if given)."""
    statement = sa.select(Figure.quantity).where(Figure.quantity.is_not(None)).distinct()
    if topic is not None:
        statement = statement.where(Figure.topic == topic)
    return sorted(session.scalars(statement))


MAX_ID = 2**63 - 1  # the largest id either backend can hold


class ArticleNotFound(NewsmonError, LookupError):
    """No stored article has that URL or id; str() says which."""


def find_article(session: Session, url_or_id: str) -> Article:
    """An article by numeric id or URL, its source, topics, versions and their figures loaded."""
    options = (
        selectinload(Article.versions).selectinload(ArticleVersion.figures),
        selectinload(Article.topics),
        selectinload(Article.source),
    )
    article = None
    if url_or_id.isdigit():
        if int(url_or_id) <= MAX_ID:  # a larger number is no id (and overflows the driver)
            article = session.get(Article, int(url_or_id), options=options)
    else:
        article = session.scalars(
            sa.select(Article).where(Article.url == url_or_id).options(*options)
        ).first()
        if article is None:  # tolerate a missing or extra trailing slash
            alternative = url_or_id[:-1] if url_or_id.endswith("/") else url_or_id + "/"
            article = session.scalars(
                sa.select(Article).where(Article.url == alternative).options(*options)
            ).first()
    if article is None:
        raise ArticleNotFound(f"no stored article has the {_what(url_or_id)} {url_or_id!r}")
    return article


def _what(url_or_id: str) -> str:
    return "id" if url_or_id.isdigit() else "URL"


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def version_diff(old: ArticleVersion, new: ArticleVersion, context: int = 1) -> Iterator[str]:
    """A readable diff of two versions' title and text, one sentence per line, unified style
    (`-` removed, `+` added, ` ` context, `@@` between distant changes)."""

    def lines(version: ArticleVersion) -> list[str]:
        sentences = [s.strip() for s in _SENTENCE_END.split(version.text or "") if s.strip()]
        return [f"title: {version.title or ''}", *sentences]

    yield from difflib.unified_diff(
        lines(old),
        lines(new),
        fromfile=f"version {old.number} ({old.fetched_at:%Y-%m-%d %H:%M})",
        tofile=f"version {new.number} ({new.fetched_at:%Y-%m-%d %H:%M})",
        n=context,
        lineterm="",
    )


def article_record(
    session: Session, url_or_id: str, diff_versions: tuple[int, int] | None = None
) -> dict[str, Any]:
    """One stored article as `newsmon show --format json` gives it: metadata, its versions, the
    figures of its latest version, and the diff of two versions (default: the last two).
    Raises ArticleNotFound, or NewsmonError for a version number the article does not have."""
    stored = find_article(session, url_or_id)
    versions = {version.number: version for version in stored.versions}
    old: ArticleVersion | None = None
    new: ArticleVersion | None = None
    if diff_versions is not None:
        missing = [n for n in diff_versions if n not in versions]
        if missing:
            raise NewsmonError(
                f"--diff: article {stored.id} has no version {missing[0]}; "
                f"versions: {', '.join(map(str, versions)) or 'none'}"
            )
        old, new = (versions[n] for n in diff_versions)
    elif len(stored.versions) >= 2:
        old, new = stored.versions[-2], stored.versions[-1]
    latest = stored.versions[-1] if stored.versions else None
    return {
        "id": stored.id,
        "url": stored.url,
        "title": stored.title,
        "source": stored.source.name if stored.source else None,
        "topics": sorted(topic.topic for topic in stored.topics),
        "authors": stored.authors,
        "language": stored.language,
        "published_at": iso(stored.published_at),
        "modified_at": iso(stored.modified_at),
        "first_seen_at": iso(stored.first_seen_at),
        "last_fetched_at": iso(stored.last_fetched_at),
        "duplicate_of_id": stored.duplicate_of_id,
        "versions": [
            {
                "number": v.number,
                "fetched_at": iso(v.fetched_at),
                "title": v.title,
                "words": len(v.text.split()),
                "figures": len(v.figures),
            }
            for v in stored.versions
        ],
        "figures": [_figure_record(f) for f in (latest.figures if latest else [])],
        "diff": (
            {"old": old.number, "new": new.number, "lines": list(version_diff(old, new))}
            if old is not None and new is not None
            else None
        ),
    }


def _figure_record(f: Figure) -> dict[str, Any]:
    return {
        "text": f.text,
        "value": f.value,
        "low": f.low,
        "high": f.high,
        "qualifier": f.qualifier,
        "unit": f.unit,
        "quantity": f.quantity,
        "assigned_by": f.assigned_by,
        "per": f.per,
        "change": f.change,
        "role": f.role,
        "attribution": f.attribution,
        "forecast": f.projection,
        "status": f.status,
    }
