"""The time an article version speaks for, and where that time came from.

A first version is dated by its publication. A revision is dated by the page's own word on when
it changed (JSON-LD `dateModified` / `article:modified_time`, then the sitemap's `<lastmod>`,
then the HTTP `Last-Modified`), else by when newsmon fetched it, marked `fetched` so a reader
knows the date is ours, not the outlet's. A time later than the fetch (a wrong clock) or not
after the previous version's date (a stale stamp that cannot be this revision's) is skipped.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

from newsmon.spiders.article_page import parse_datetime


def http_date(value: str | None) -> datetime | None:
    """A Last-Modified header as aware UTC; None when missing or unreadable."""
    if not value:
        return None
    try:
        return parse_datetime(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        return None


def version_date(
    *,
    first: bool,
    published: datetime | None,
    modified: datetime | None,
    listed_modified: datetime | None,
    last_modified: str | None,
    fetched_at: datetime,
    previous_date: datetime | None = None,
) -> tuple[datetime, str]:
    """(dated_at, dated_by) of a version: `first` for an article's first version."""
    if first:
        candidates = [(published, "published"), (modified, "modified")]
    else:
        candidates = [
            (modified, "modified"),
            (listed_modified, "lastmod"),
            (http_date(last_modified), "last-modified"),
        ]
    for moment, origin in candidates:
        if moment is None or moment > fetched_at:
            continue
        if not first and previous_date is not None and moment <= previous_date:
            continue
        return moment, origin
    return fetched_at, "fetched"
