"""The dispatcher: sends the outbox's pending deliveries and records what happened.

Each delivery is claimed in its own short transaction (the attempt counter is the claim, so two
dispatchers never send the same row), sent outside any transaction, and marked sent in its own
commit right after. A claim also leases the row for CLAIM_LEASE: if the process dies between the
send and the mark, the delivery is due again after the lease and is sent again with the same
alert id, which receivers use to drop the repeat. Failures are retried with exponential backoff
(or after the receiver's Retry-After) until `alerts.max_attempts`, then marked failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alerts.channels import DeliveryError, Sender, sender_for
from config import Alerts, Config
from storage import Database
from storage import alerts as store
from storage.models import utcnow

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=10)  # longer than any channel's timeout

SenderFactory = Callable[[Any], Sender[Any]]


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # "channel: message", one per failed attempt


def backoff(settings: Alerts, attempts: int, retry_after: float | None) -> timedelta:
    """Delay before the next attempt: the receiver's Retry-After when it gave one, else
    retry_backoff doubled per attempt made, capped at max_backoff."""
    if retry_after is not None:
        return timedelta(seconds=retry_after)
    delay = settings.retry_backoff * (2 ** max(0, attempts - 1))
    return min(delay, settings.max_backoff)


def dispatch_pending(
    database: Database,
    config: Config,
    now: datetime | None = None,
    senders: SenderFactory = sender_for,
) -> DispatchReport:
    """Send every due pending delivery of the instant channels once; returns what happened."""
    now = now or utcnow()
    report = DispatchReport()
    channels = {c.name: c for c in config.alerts.channels if c.mode == "instant"}
    with database.session() as session:
        due = store.due_deliveries(session, list(channels), now)
    for delivery_id, attempts in due:
        with database.session() as session:
            if not store.claim_delivery(session, delivery_id, attempts, now + CLAIM_LEASE):
                continue  # another dispatcher took it
            delivery = store.load_delivery(session, delivery_id)
            channel_name, payload = delivery.channel, delivery.alert.payload
        _send(
            database,
            config,
            senders(channels[channel_name]),
            [delivery_id],
            attempts + 1,
            [payload],
            channel_name,
            now,
            report,
        )
    return report


def send_digests(
    database: Database,
    config: Config,
    channel_name: str,
    now: datetime | None = None,
    senders: SenderFactory = sender_for,
) -> DispatchReport:
    """Send the pending alerts of one digest channel as one message (nothing when none)."""
    now = now or utcnow()
    report = DispatchReport()
    channel = config.channel(channel_name)
    with database.session() as session:
        deliveries = store.pending_digest(session, channel_name, now)
        ids = store.claim_digest(session, deliveries, now + CLAIM_LEASE)
        won = [d for d in deliveries if d.id in ids]
        payloads = [d.alert.payload for d in won]
        attempts = max((d.attempts + 1 for d in won), default=0)
    if ids:
        _send(
            database, config, senders(channel), ids, attempts, payloads, channel_name, now, report
        )
    return report


def _send(
    database: Database,
    config: Config,
    sender: Sender[Any],
    delivery_ids: list[int],
    attempts: int,
    payloads: list[dict[str, Any]],
    channel_name: str,
    now: datetime,
    report: DispatchReport,
) -> None:
    try:
        answer = sender.send(payloads)
    except DeliveryError as exc:
        error = str(exc)
        report.errors.append(f"{channel_name}: {error}")
        with database.session() as session:
            if exc.permanent or attempts >= config.alerts.max_attempts:
                store.mark_failed(session, delivery_ids, error)
                report.failed += len(delivery_ids)
                log.warning(
                    "alert delivery via %s failed for good after %d attempt(s): %s",
                    channel_name,
                    attempts,
                    error,
                )
            else:
                retry_at = utcnow() + backoff(config.alerts, attempts, exc.retry_after)
                store.mark_retry(session, delivery_ids, error, max(retry_at, now))
                report.retried += len(delivery_ids)
                log.info(
                    "alert delivery via %s failed (attempt %d), retry at %s: %s",
                    channel_name,
                    attempts,
                    retry_at.isoformat(),
                    error,
                )
        return
    with database.session() as session:
        store.mark_sent(session, delivery_ids, utcnow())
    report.sent += len(delivery_ids)
    log.debug("sent %d alert(s) via %s: %s", len(delivery_ids), channel_name, answer)
