"""Current values: each track's latest report, its source and date, and how many outlets
reported it; for `newsmon current` and the baseline message."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from newsmon.alerts.payload import source_name
from newsmon.clock import iso
from newsmon.config import Config
from newsmon.storage import tracks
from newsmon.storage.tracks import TrackSummary

CURRENT_FIELDS = (
    "topic", "quantity", "label", "projection", "value", "low", "high", "qualifier", "unit",
    "attribution", "source", "url", "dated", "dated_by", "reports", "outlets",
    "agreeing_outlets", "disagreeing",
)  # fmt: skip


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


def current_records(
    session: Session, config: Config, topic: str | None = None
) -> list[dict[str, Any]]:
    """Every tracked quantity's current value (counts, and forecasts where there are any), in
    config order; a quantity nobody reported yet has value None."""
    records = []
    for topic_id in [topic] if topic is not None else list(config.topics):
        summaries = {
            (s.quantity, s.projection): s for s in topic_summaries(session, config, topic_id)
        }
        for quantity_id, quantity in config.topics[topic_id].quantities.items():
            key = f"{topic_id}/{quantity_id}"
            for projection in (False, True):
                summary = summaries.get((key, projection))
                if summary is not None:
                    records.append(track_record(config, summary))
                elif not projection:
                    records.append(
                        dict.fromkeys(CURRENT_FIELDS)
                        | {"topic": topic_id, "quantity": quantity_id, "label": quantity.label,
                           "projection": False, "reports": 0, "outlets": 0,
                           "agreeing_outlets": 0, "disagreeing": []}
                    )  # fmt: skip
    return records
