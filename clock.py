"""Time as newsmon handles it: aware UTC datetimes, written and read as ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

Timespec = Literal["auto", "seconds"]


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (never a naive datetime)."""
    return datetime.now(UTC)


def iso(moment: datetime | None, timespec: Timespec = "auto") -> str | None:
    """ISO 8601 text of a moment (None stays None); "seconds" drops the fraction."""
    return moment.isoformat(timespec=timespec) if moment is not None else None


def parse_iso(text: str) -> datetime:
    """A moment from ISO 8601 text, UTC when the text names no zone; ValueError if it is not."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
