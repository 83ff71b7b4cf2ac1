"""Alerts and their deliveries (the outbox): every query alerts/ and `newsmon alerts` need."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session, selectinload

from newsmon.clock import utcnow
from newsmon.storage.models import Alert, ArticleVersion, Delivery, Figure
from newsmon.storage.tracks import differs


def previous_version(session: Session, version: ArticleVersion) -> ArticleVersion | None:
    """The version of the same article just before this one, if any."""
    if version.number == 1:
        return None  # versions are numbered from 1: nothing to look up
    return session.scalars(
        select(ArticleVersion)
        .where(
            ArticleVersion.article_id == version.article_id,
            ArticleVersion.number < version.number,
        )
        .order_by(ArticleVersion.number.desc())
        .limit(1)
    ).first()


def alert_exists(session: Session, dedupe_key: str) -> bool:
    return session.scalar(select(Alert.id).where(Alert.dedupe_key == dedupe_key)) is not None


def add_alert(session: Session, alert: Alert, channels: Sequence[str], now: datetime) -> Alert:
    """Store an alert and one pending delivery per channel, in the caller's transaction."""
    alert.deliveries = [
        Delivery(channel=name, status="pending", attempts=0, next_attempt_at=now, created_at=now)
        for name in channels
    ]
    session.add(alert)
    session.flush()
    return alert


# --- the dispatcher's side ----------------------------------------------------------------------


def claim_delivery(
    session: Session, delivery_id: int, attempts: int, lease_until: datetime
) -> bool:
    """Take a pending delivery for one send attempt. The attempt counter is the claim: only the
    dispatcher whose UPDATE still sees `attempts` wins, so two dispatchers never both send.

    The claimed row stays `pending` with next_attempt_at pushed ahead (a lease): if the process
    dies mid-send, the delivery becomes due again when the lease runs out and is retried."""
    # An UPDATE gives a CursorResult, which Session.execute's type does not promise.
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.status == "pending",
                Delivery.attempts == attempts,
            )
            .values(attempts=attempts + 1, next_attempt_at=lease_until)
            .execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount == 1


def claim_due(
    session: Session,
    channel: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
    after_id: int = 0,
) -> list[Delivery]:
    """Take up to `limit` due pending deliveries of one channel (ids above `after_id`) for one
    send attempt each, oldest first, their alerts loaded. The claim is the lease: a claimed
    row's next_attempt_at moves past `now`, so a second dispatcher's UPDATE (which re-reads the
    row) no longer matches it; if this process dies mid-send, the rows are due again when the
    lease runs out."""
    candidates = select(Delivery.id).where(
        Delivery.status == "pending",
        Delivery.channel == channel,
        Delivery.next_attempt_at <= now,
        Delivery.id > after_id,
    )
    ids = list(session.scalars(candidates.order_by(Delivery.id).limit(limit)))
    if not ids:
        return []
    claimed = session.scalars(
        update(Delivery)
        .where(
            Delivery.id.in_(ids),
            Delivery.status == "pending",
            Delivery.next_attempt_at <= now,
        )
        .values(attempts=Delivery.attempts + 1, next_attempt_at=lease_until)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return []
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.id.in_(claimed))
            .order_by(Delivery.id)
            .options(selectinload(Delivery.alert))
        )
    )


def release(session: Session, delivery_ids: Sequence[int], now: datetime) -> None:
    """Give back claimed deliveries that were not sent (the dispatcher is stopping)."""
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids), Delivery.status == "pending")
        .values(attempts=Delivery.attempts - 1, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )


def mark_uncertain(
    session: Session, delivery_ids: Sequence[int], error: str, next_attempt_at: datetime | None
) -> None:
    """A send whose outcome is unknown: counted; retried at `next_attempt_at`, or failed (None)."""
    values: dict[str, object] = {
        "uncertain_sends": Delivery.uncertain_sends + 1,
        "last_error": error,
    }
    if next_attempt_at is None:
        values["status"] = "failed"
    else:
        values |= {"status": "pending", "next_attempt_at": next_attempt_at}
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids))
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def mark_sent(session: Session, delivery_ids: Sequence[int], now: datetime) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # no wait for the WAL flush: a mark lost to a server crash only means one repeat with
        # the same alert id after the lease (as when this process dies), and it makes a backlog
        # drain several times faster
        session.execute(select(func.set_config("synchronous_commit", "off", True)))
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids))
        .values(status="sent", sent_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )


def mark_retry(
    session: Session, delivery_ids: Sequence[int], error: str, next_attempt_at: datetime
) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids))
        .values(status="pending", last_error=error, next_attempt_at=next_attempt_at)
        .execution_options(synchronize_session=False)
    )


def mark_failed(session: Session, delivery_ids: Sequence[int], error: str) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids))
        .values(status="failed", last_error=error)
        .execution_options(synchronize_session=False)
    )


def pending_digest(session: Session, channel: str, now: datetime) -> list[Delivery]:
    """Every pending delivery of a digest channel that is due, oldest alert first."""
    return list(
        session.scalars(
            select(Delivery)
            .join(Delivery.alert)
            .where(
                Delivery.channel == channel,
                Delivery.status == "pending",
                Delivery.next_attempt_at <= now,
            )
            .order_by(Alert.created_at, Alert.id)
            .options(selectinload(Delivery.alert))
        )
    )


def claim_digest(
    session: Session, deliveries: Sequence[Delivery], lease_until: datetime
) -> list[int]:
    """Claim a digest's deliveries (same attempt-counter claim as single deliveries); returns the
    ids this dispatcher won."""
    return [
        delivery.id
        for delivery in deliveries
        if claim_delivery(session, delivery.id, delivery.attempts, lease_until)
    ]


# --- listing and requeueing (the CLI) ------------------------------------------------------------


@dataclass
class AlertRow:
    alert: Alert
    repeated_by: int  # how many other articles restated the value (corroborations)


def list_alerts(
    session: Session,
    min_change: Callable[[str], float],
    since: datetime | None = None,
    status: str | None = None,
    limit: int | None = None,
) -> list[AlertRow]:
    """Alerts, newest first, with their deliveries; `status` keeps alerts having a delivery in
    that status. `min_change` gives a quantity's min_change, for the corroboration counts."""
    query = select(Alert).options(selectinload(Alert.deliveries)).order_by(Alert.created_at.desc())
    if since is not None:
        query = query.where(Alert.created_at >= since)
    if status is not None:
        query = query.where(
            Alert.id.in_(select(Delivery.alert_id).where(Delivery.status == status))
        )
    if limit is not None:
        query = query.limit(limit)
    alerts = list(session.scalars(query))
    return [
        AlertRow(alert, corroboration_count(session, alert, min_change(alert.quantity)))
        for alert in alerts
    ]


def corroboration_count(session: Session, alert: Alert, min_change: float) -> int:
    """How many other articles restated the alert's value: a corroboration that does not
    differ from it (tracks.differs, the rule the assessment itself applies)."""
    value = alert.payload.get("value")
    if not isinstance(value, int | float):
        return 0
    bound = abs(value) * min_change  # narrows the rows; differs() decides at the edge
    query = select(Figure.article_id, Figure.value).where(
        Figure.quantity == alert.quantity,
        Figure.projection.is_(bool(alert.payload.get("projection"))),
        Figure.status == "corroboration",
        Figure.value.between(value - bound, value + bound),
    )
    if alert.article_id is not None:
        query = query.where(Figure.article_id != alert.article_id)
    if alert.figure_id is not None:
        query = query.where(Figure.id > alert.figure_id)
    restating = {
        article_id
        for article_id, reported in session.execute(query)
        if not differs(reported, value, min_change)
    }
    return len(restating)


def requeue_failed(
    session: Session, now: datetime | None = None, channel: str | None = None
) -> int:
    """Failed deliveries back to pending with a fresh attempt count; returns how many."""
    query = update(Delivery).where(Delivery.status == "failed")
    if channel is not None:
        query = query.where(Delivery.channel == channel)
    result = cast(
        CursorResult[Any],
        session.execute(
            query.values(
                status="pending", attempts=0, next_attempt_at=now or utcnow()
            ).execution_options(synchronize_session=False)
        ),
    )
    return result.rowcount


def delivery_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    return {status: count for status, count in rows}
