"""The alerts as `newsmon alerts` lists them: each alert's record (the webhook schema) with how
many other articles restated its value and the state of its deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from newsmon.clock import iso
from newsmon.config import Config
from newsmon.storage.alerts import AlertRow, list_alerts
from newsmon.storage.models import Delivery


def alert_records(
    session: Session,
    config: Config,
    since: datetime | None = None,
    status: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Alerts, newest first: the payload, `repeated_by` (corroborations within the quantity's
    `min_change`) and `deliveries`; `status` keeps alerts with a delivery in that status."""
    rows = list_alerts(session, config.min_change, since, status, limit)
    return [alert_record(row) for row in rows]


def alert_record(row: AlertRow) -> dict[str, Any]:
    return row.alert.payload | {
        "repeated_by": row.repeated_by,
        "deliveries": [delivery_record(d) for d in row.alert.deliveries],
    }


def delivery_record(delivery: Delivery) -> dict[str, Any]:
    return {
        "channel": delivery.channel,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "sent_at": iso(delivery.sent_at),
        "next_attempt_at": iso(delivery.next_attempt_at),
    }
