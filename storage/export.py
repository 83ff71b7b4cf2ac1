"""Streaming export of articles, figures or alerts as flat records, in constant memory.

Rows come from a server-side cursor (PostgreSQL) or SQLite's lazy cursor in batches of
`BATCH_ROWS`, and each is handed on as soon as it is read, so memory does not grow with the
archive. Records are flat dicts of JSON-ready values (ISO 8601 dates); the keys of each kind are
fixed (EXPORT_FIELDS) so that CSV has a stable header.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from newsmon.storage.archive import figure_date, report_date
from newsmon.storage.models import (
    Alert,
    Article,
    ArticleTopic,
    ArticleVersion,
    Delivery,
    Figure,
    Source,
)

BATCH_ROWS = 1000
EXPORT_KINDS = ("articles", "figures", "alerts")

EXPORT_FIELDS: dict[str, tuple[str, ...]] = {
    "articles": (
        "id", "url", "source", "topics", "title", "authors", "published_at", "modified_at",
        "first_seen_at", "language", "version_count", "duplicate_of_id", "text",
    ),
    "figures": (
        "id", "article_id", "version", "date", "topic", "quantity", "value", "low", "high",
        "qualifier", "unit", "text", "attribution", "projection", "status", "sentence",
        "source", "url",
    ),
    "alerts": (
        "id", "created_at", "kind", "topic", "quantity", "article_id", "figure_id",
        "previous_figure_id", "deliveries", "payload",
    ),
}  # fmt: skip


def export_records(
    session: Session,
    what: str,
    since: datetime | None = None,
    topic: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Every stored article, figure or alert (oldest first), filtered by date and topic."""
    if what not in EXPORT_KINDS:
        raise ValueError(f"cannot export {what!r}: choose one of {', '.join(EXPORT_KINDS)}")
    dialect = session.get_bind().dialect.name
    statement = {"articles": _articles, "figures": _figures, "alerts": _alerts}[what](
        dialect, since, topic
    )
    fields = EXPORT_FIELDS[what]
    result = session.execute(statement.execution_options(stream_results=True, yield_per=BATCH_ROWS))
    for row in result:
        yield {field: _plain(value) for field, value in zip(fields, row, strict=True)}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _joined(dialect: str, column: Any) -> Any:
    """A string aggregate joining values with ', ' (the functions differ by backend)."""
    if dialect == "sqlite":
        return sa.func.group_concat(column, ", ")
    return sa.func.string_agg(column, sa.literal_column("', '"))


def _articles(dialect: str, since: datetime | None, topic: str | None) -> sa.Select[Any]:
    topics = (
        sa.select(_joined(dialect, ArticleTopic.topic))
        .where(ArticleTopic.article_id == Article.id)
        .scalar_subquery()
    )
    statement = (
        sa.select(
            Article.id,
            Article.url,
            Source.name,
            topics,
            Article.title,
            Article.authors,
            Article.published_at,
            Article.modified_at,
            Article.first_seen_at,
            Article.language,
            Article.version_count,
            Article.duplicate_of_id,
            Article.text,
        )
        .outerjoin(Source, Source.id == Article.source_id)
        .order_by(Article.id)
    )
    if since is not None:
        statement = statement.where(report_date() >= since)
    if topic is not None:
        statement = statement.where(
            sa.exists().where(ArticleTopic.article_id == Article.id, ArticleTopic.topic == topic)
        )
    return statement


def _figures(
    dialect: str, since: datetime | None, topic: str | None
) -> sa.Select[*tuple[Any, ...]]:
    statement = (
        sa.select(
            Figure.id,
            Figure.article_id,
            ArticleVersion.number,
            figure_date(),
            Figure.topic,
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
            Figure.sentence,
            Source.name,
            Article.url,
        )
        .join(Article, Article.id == Figure.article_id)
        .join(ArticleVersion, ArticleVersion.id == Figure.version_id)
        .outerjoin(Source, Source.id == Article.source_id)
        .order_by(Figure.id)
    )
    if since is not None:
        statement = statement.where(figure_date() >= since)
    if topic is not None:
        statement = statement.where(Figure.topic == topic)
    return statement


def _alerts(dialect: str, since: datetime | None, topic: str | None) -> sa.Select[Any]:
    deliveries = (
        sa.select(
            _joined(
                dialect,
                Delivery.channel
                + sa.literal(": ")
                + Delivery.status
                + sa.literal(" (")
                + sa.cast(Delivery.attempts, sa.String)
                + sa.literal(")"),
            )
        )
        .where(Delivery.alert_id == Alert.id)
        .scalar_subquery()
    )
    statement = sa.select(
        Alert.id,
        Alert.created_at,
        Alert.kind,
        Alert.topic,
        Alert.quantity,
        Alert.article_id,
        Alert.figure_id,
        Alert.previous_figure_id,
        deliveries,
        Alert.payload,
    ).order_by(Alert.created_at, Alert.id)
    if since is not None:
        statement = statement.where(Alert.created_at >= since)
    if topic is not None:
        statement = statement.where(Alert.topic == topic)
    return statement
