"""The quiet baseline: one summary message per topic after a source's first crawl, instead of
an alert per figure of its backlog ("North Korean troops in Russia: currently about 12,000
(NIS via Yonhap, 20 Nov 2024), 7 reports from 3 outlets")."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from newsmon.alerts.current import topic_summaries, track_record
from newsmon.alerts.detect import matching_channels
from newsmon.alerts.payload import build_payload
from newsmon.config import Config
from newsmon.storage import alerts as alert_rows
from newsmon.storage.models import Alert


def baseline_alert(session: Session, config: Config, topic: str, now: datetime) -> Alert | None:
    """The topic's baseline message (None when it has no tracked figures, or a replay)."""
    summaries = topic_summaries(session, config, topic)
    if not summaries:
        return None
    lead = summaries[0]
    newest = max(summary.current.id for summary in summaries)
    dedupe_key = f"baseline:{topic}:{newest}"  # one per state of the topic: replays add none
    if alert_rows.alert_exists(session, dedupe_key):
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
    return alert_rows.add_alert(session, alert, matching_channels(config, topic, "baseline"), now)
