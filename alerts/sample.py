"""The record `newsmon alerts test` sends: shaped like a real alert so every channel formats
it, but of kind `test`, which no consumer can mistake for an alert."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from newsmon.alerts.channels import DeliveryError, sender_for
from newsmon.clock import utcnow
from newsmon.errors import NewsmonError


def sample_payload(now: datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    return {
        "id": str(uuid.uuid4()),
        "kind": "test",
        "topic": "newsmon-test",
        "quantity": "test-message",
        "label": "newsmon test message",
        "value": 1.0,
        "low": None,
        "high": None,
        "qualifier": "exact",
        "unit": "test",
        "projection": False,
        "previous": None,
        "conflict": False,
        "attribution": None,
        "sentence": "This is a test message from `newsmon alerts test`; nothing changed.",
        "article": {
            "url": "https://example.org/newsmon-test",
            "title": "newsmon test message",
            "source": "newsmon",
            "published": now.isoformat(),
        },
        "created_at": now.isoformat(),
    }


def send_test_message(channel: Any) -> str:
    """Send the sample through one configured channel; returns the channel's answer. A failed
    send is a NewsmonError naming the channel (`newsmon alerts test`)."""
    try:
        return sender_for(channel).send([sample_payload()])
    except DeliveryError as exc:
        raise NewsmonError(
            f"channel {channel.name!r} ({channel.type}): test message not delivered: {exc}"
        ) from None
