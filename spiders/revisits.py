"""Whether to request an article link again: the incremental-crawling rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass
class Known:
    """What the archive holds about an article's fetch history."""

    first_seen_at: datetime
    last_checked_at: datetime | None
    last_fetched_at: datetime | None
    etag: str | None
    last_modified: str | None


def decide_request(
    known: Known | None,
    listed_modified: datetime | None,
    now: datetime,
    revisit_window: timedelta,
    revisit_every: timedelta,
) -> dict[str, str] | None:
    """None: do not request. Else the request's headers ({} for a plain GET).

    A new article is fetched. A stored one is re-checked, conditionally, when the listing says
    it changed after our last fetch, or while it is fresh (first seen within `revisit_window`)
    and was last checked at least `revisit_every` ago; otherwise it costs nothing.
    """
    if known is None:
        return {}
    changed = (
        listed_modified is not None
        and known.last_fetched_at is not None
        and listed_modified > known.last_fetched_at
    )
    fresh = now - known.first_seen_at < revisit_window
    due = known.last_checked_at is None or now - known.last_checked_at >= revisit_every
    if not (changed or (fresh and due)):
        return None
    headers = {}
    if known.etag:
        headers["If-None-Match"] = known.etag
    if known.last_modified:
        headers["If-Modified-Since"] = known.last_modified
    return headers
