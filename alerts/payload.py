"""The alert record every channel formats from: the webhook schema documented in docs/alerts.md.

Built once, when the alert is decided, and stored in Alert.payload, so a delivery retried a day
later says exactly what it would have said at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from newsmon.clock import iso
from newsmon.storage.models import Article, ArticleVersion, Figure
from newsmon.storage.tracks import version_date


def published_at(version: ArticleVersion) -> datetime | None:
    return version.published_at or version.article.published_at


def source_name(article: Article) -> str | None:
    return article.source.name if article.source is not None else None


def dates(version: ArticleVersion) -> dict[str, Any]:
    """When a report was published, and the time it speaks for (a revision's modified time,
    else its publication) with where that time came from."""
    return {
        "published": iso(published_at(version)),
        "dated": iso(version_date(version)),
        "dated_by": version.dated_by or ("published" if published_at(version) else "fetched"),
        "revision": version.number > 1,
    }


def previous_record(figure: Figure) -> dict[str, Any]:
    article = figure.article
    return {
        "value": figure.value,
        "low": figure.low,
        "high": figure.high,
        "qualifier": figure.qualifier,
        "unit": figure.unit,
        "attribution": figure.attribution,
        "source": source_name(article),
        "url": article.url,
        **dates(figure.version),
    }


def build_payload(
    *,
    alert_id: str,
    kind: str,
    label: str,
    figure: Figure,
    previous: Figure | None,
    conflict: bool,
    created_at: datetime,
) -> dict[str, Any]:
    """The webhook schema for one alert about `figure` (and the value it replaces)."""
    version = figure.version
    article = version.article
    topic, _, quantity = (figure.quantity or "").partition("/")
    return {
        "id": alert_id,
        "kind": kind,
        "topic": topic,
        "quantity": quantity,
        "label": label,
        "value": figure.value,
        "low": figure.low,
        "high": figure.high,
        "qualifier": figure.qualifier,
        "unit": figure.unit,
        "projection": bool(figure.projection),
        "previous": previous_record(previous) if previous is not None else None,
        "conflict": conflict,
        "attribution": figure.attribution,
        "sentence": figure.sentence,
        "article": {
            "url": article.url,
            "title": version.title or article.title,
            "source": source_name(article),
            **dates(version),
        },
        "created_at": iso(created_at),
    }
