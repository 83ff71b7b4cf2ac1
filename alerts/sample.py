"""The record `newsmon alerts test` sends: shaped like a real alert so every channel formats
it, but of kind `test`, which no consumer can mistake for an alert."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from newsmon.storage.models import utcnow


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
