"""The dispatcher: sends the outbox's pending deliveries and records what happened.

Each channel is drained on its own (a thread per channel), so a slow or hung receiver never
delays another, and at its own pace (`per_second`), not a fixed number per round. Deliveries are
claimed in small batches in one short transaction (the claim is a lease: the row's next attempt
moves CLAIM_LEASE ahead, so two dispatchers never both send it), sent outside any transaction,
and each is marked sent in its own commit right after. If the process dies between the send and
the mark, the delivery is due again after the lease and is sent again with the same alert id,
which receivers use to drop the repeat. A batch is no larger than what can be sent within one
lease with every send taking its full timeout, so a lease never runs out during a send.

Failures are retried with exponential backoff (or after the receiver's Retry-After) until
`alerts.max_attempts`, then marked failed. A send with an *uncertain* outcome (no answer within
the timeout, or the connection lost after the message went out) may have been delivered: it is
retried freely only on a channel that drops repeats by itself (webhook: Idempotency-Key); Slack
and email are retried once after such an outcome, and a second one marks the delivery failed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from newsmon.alerts.channels import DeliveryError, Sender, sender_for
from newsmon.clock import utcnow
from newsmon.config import Alerts, Config
from newsmon.storage import Database
from newsmon.storage import alerts as alert_rows

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=10)  # twice the longest send timeout config.py allows
MAX_BATCH = 100
UNCERTAIN_RETRIES = 1  # retries after an uncertain outcome, for channels that keep repeats

SenderFactory = Callable[[Any], Sender[Any]]


@dataclass
class DispatchReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)  # "channel: message", one per failed attempt

    def add(self, other: DispatchReport) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.errors += other.errors


def backoff(settings: Alerts, attempts: int, retry_after: float | None) -> timedelta:
    """Delay before the next attempt: the receiver's Retry-After when it gave one, else
    retry_backoff doubled per attempt made, capped at max_backoff."""
    if retry_after is not None:
        return timedelta(seconds=retry_after)
    delay: timedelta = settings.retry_backoff * (2 ** max(0, attempts - 1))  # int ** int is Any
    return min(delay, settings.max_backoff)


def batch_size(channel: Any) -> int:
    """How many deliveries one claim takes: all of them sendable within one lease even if every
    send waits its full timeout."""
    timeout: timedelta = channel.timeout
    return max(1, min(MAX_BATCH, int(CLAIM_LEASE / (2 * timeout))))


def lease_end(now: datetime) -> datetime:
    # `now` may be ahead of the clock (tests, a catching-up dispatcher): lease from the later one
    return max(now, utcnow()) + CLAIM_LEASE


def dispatch_pending(
    database: Database,
    config: Config,
    now: datetime | None = None,
    senders: SenderFactory = sender_for,
    channels: Sequence[str] | None = None,
    stop: threading.Event | None = None,
) -> DispatchReport:
    """Send every delivery of the instant channels (or of `channels`) that is due at `now`
    once, each channel in its own thread; returns what happened."""
    now = now or utcnow()
    names = [
        c.name
        for c in config.alerts.channels
        if c.mode == "instant" and (channels is None or c.name in channels)
    ]
    reports = {name: DispatchReport() for name in names}
    errors: list[BaseException] = []

    def drain(name: str) -> None:
        try:
            drain_channel(database, config, name, now, senders, stop, reports[name])
        except BaseException as exc:  # handed to the caller, as if the drain ran in its thread
            errors.append(exc)

    threads = [
        threading.Thread(
            target=drain,
            args=(name,),
            name=f"newsmon-dispatch-{name}",
            daemon=True,
        )
        for name in names
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    report = DispatchReport()
    for name in names:
        report.add(reports[name])
    return report


def drain_channel(
    database: Database,
    config: Config,
    channel_name: str,
    now: datetime,
    senders: SenderFactory,
    stop: threading.Event | None,
    report: DispatchReport,
) -> None:
    """Send one channel's due deliveries, in id order, each at most once in this call."""
    channel = config.channel(channel_name)
    sender = senders(channel)
    pace = Pace(channel.per_second)
    after_id = 0
    while not (stop is not None and stop.is_set()):
        with database.session() as session:
            batch = alert_rows.claim_due(
                session, channel_name, now, lease_end(now), batch_size(channel), after_id
            )
            work = [(d.id, d.attempts, d.uncertain_sends, d.alert.payload) for d in batch]
        if not work:
            return
        after_id = work[-1][0]
        for index, (delivery_id, attempts, uncertain, payload) in enumerate(work):
            if stop is not None and stop.is_set():
                with database.session() as session:
                    alert_rows.release(session, [row[0] for row in work[index:]], utcnow())
                return
            pace.wait()
            _send(
                database,
                config,
                sender,
                [delivery_id],
                attempts,
                uncertain,
                [payload],
                channel_name,
                now,
                report,
            )


class Pace:
    """At most `per_second` sends a second (None: as fast as the receiver answers)."""

    def __init__(self, per_second: float | None) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self.next_at = 0.0

    def wait(self) -> None:
        if not self.interval:
            return
        delay = self.next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.next_at = max(self.next_at, time.monotonic()) + self.interval


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
        deliveries = alert_rows.pending_digest(session, channel_name, now)
        ids = alert_rows.claim_digest(session, deliveries, now + CLAIM_LEASE)
        won = [d for d in deliveries if d.id in ids]
        payloads = [d.alert.payload for d in won]
        attempts = max((d.attempts + 1 for d in won), default=0)
        uncertain = max((d.uncertain_sends for d in won), default=0)
    if ids:
        _send(
            database,
            config,
            senders(channel),
            ids,
            attempts,
            uncertain,
            payloads,
            channel_name,
            now,
            report,
        )
    return report


def _send(
    database: Database,
    config: Config,
    sender: Sender[Any],
    delivery_ids: list[int],
    attempts: int,
    uncertain_before: int,
    payloads: list[dict[str, Any]],
    channel_name: str,
    now: datetime,
    report: DispatchReport,
) -> None:
    try:
        answer = sender.send(payloads)
    except DeliveryError as exc:
        report.errors.append(f"{channel_name}: {exc}")
        with database.session() as session:
            _record_failure(session, config, sender, exc, delivery_ids, attempts,
                            uncertain_before, channel_name, now, report)  # fmt: skip
        return
    with database.session() as session:
        alert_rows.mark_sent(session, delivery_ids, utcnow())
    report.sent += len(delivery_ids)
    log.debug("sent %d alert(s) via %s: %s", len(delivery_ids), channel_name, answer)


def _record_failure(
    session: Any,
    config: Config,
    sender: Sender[Any],
    exc: DeliveryError,
    delivery_ids: list[int],
    attempts: int,
    uncertain_before: int,
    channel_name: str,
    now: datetime,
    report: DispatchReport,
) -> None:
    error = str(exc)
    retry_at = max(utcnow() + backoff(config.alerts, attempts, exc.retry_after), now)
    out_of_attempts = exc.permanent or attempts >= config.alerts.max_attempts
    if exc.uncertain:
        # the receiver may have it: a repeat is harmless only where the receiver drops it
        if not sender.deduplicates and uncertain_before >= UNCERTAIN_RETRIES:
            error += " (not sent again: the channel may have received it already)"
            out_of_attempts = True
        alert_rows.mark_uncertain(
            session, delivery_ids, error, None if out_of_attempts else retry_at
        )
    elif out_of_attempts:
        alert_rows.mark_failed(session, delivery_ids, error)
    else:
        alert_rows.mark_retry(session, delivery_ids, error, retry_at)
    if out_of_attempts:
        report.failed += len(delivery_ids)
        log.warning(
            "alert delivery via %s failed for good after %d attempt(s): %s",
            channel_name,
            attempts,
            error,
        )
    else:
        report.retried += len(delivery_ids)
        log.info(
            "alert delivery via %s failed (attempt %d), retry at %s: %s",
            channel_name,
            attempts,
            retry_at.isoformat(),
            error,
        )
