"""The quiet baseline: one summary message per topic after a source's first crawl, instead of
an alert per figure of its backlog ("North Korean troops in Russia: currently about 12,000
(NIS via Yonhap, 20 Nov 2024), 7 reports from 3 outlets")."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from alerts.detect import matching_channels
from alerts.payload import build_payload, iso, source_name
from config import Config
from storage import alerts as store
from storage import tracks
from storage.models import Alert
from storage.tracks import TrackSummary


def track_record(config: Config, summary: TrackSummary) -> dict[str, Any]:
    """One track's current value, as the baseline payload and `newsmon current` give it."""
    figure, settings = summary.current, config.quantity(summary.quantity)
    topic, _, quantity = summary.quantity.partition("/")
    return {
        "topic": topic,
        "quantity": quantity,
        "label": settings.label if settings else summary.quantity,
        "projection": summary.projection,
        "value": figure.value,
        "low": figure.low,
        "high": figure.high,
        "qualifier": figure.qualifier,
        "unit": figure.unit,
        "attribution": figure.attribution,
        "source": source_name(figure.article),
        "url": figure.article.url,
        "dated": iso(summary.date),
        "dated_by": figure.version.dated_by,
        "reports": summary.reports,
        "outlets": summary.outlets,
        "agreeing_outlets": summary.agreeing,
        "disagreeing": [
            {"source": source_name(other.article), "value": other.value, "url": other.article.url}
            for other in summary.disagreeing
        ],
    }


def topic_summaries(session: Session, config: Config, topic: str) -> list[TrackSummary]:
    """Every non-empty track of the topic: counts, then forecasts, in config order."""
    found = []
    for quantity_id, quantity in config.topics[topic].quantities.items():
        for projection in (False, True):
            summary = tracks.summarise(
                session,
                f"{topic}/{quantity_id}",
                projection,
                quantity.min_change,
                quantity.restatement_window,
            )
            if summary is not None:
                found.append(summary)
    return found


def baseline_alert(session: Session, config: Config, topic: str, now: datetime) -> Alert | None:
    """The topic's baseline message (None when it has no tracked figures, or a replay)."""
    summaries = topic_summaries(session, config, topic)
    if not summaries:
        return None
    lead = summaries[0]
    newest = max(summary.current.id for summary in summaries)
    dedupe_key = f"baseline:{topic}:{newest}"  # one per state of the topic: replays add none
    if store.alert_exists(session, dedupe_key):
        return None
    alert_id = str(uuid.uuid4())
    payload = build_payload(
        alert_id=alert_id,
        kind="baseline",
        label=config.topics[topic].title,
        figure=lead.current,
        previous=None,
        conflict=any(summary.disagreeing for summary in summaries),
        created_at=now,
    )
    payload["tracks"] = [track_record(config, summary) for summary in summaries]
    alert = Alert(
        id=alert_id,
        dedupe_key=dedupe_key,
        kind="baseline",
        topic=topic,
        quantity=lead.quantity,
        figure_id=lead.current.id,
        article_id=lead.current.article_id,
        payload=payload,
        created_at=now,
    )
    return store.add_alert(session, alert, matching_channels(config, topic, "baseline"), now)
