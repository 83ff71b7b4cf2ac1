"""Which time an article version speaks for: publication for a first version; for a revision,
the page's own modified time, the sitemap's lastmod or Last-Modified, else the fetch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsmon.spiders.dating import http_date, version_date

FETCHED = datetime(2024, 11, 29, 12, 0, tzinfo=UTC)
PUBLISHED = datetime(2024, 11, 20, 6, 0, tzinfo=UTC)
MODIFIED = datetime(2024, 11, 21, 6, 0, tzinfo=UTC)


def dated(**changes) -> tuple[datetime, str]:
    given = {
        "first": False,
        "published": PUBLISHED,
        "modified": None,
        "listed_modified": None,
        "last_modified": None,
        "fetched_at": FETCHED,
        "previous_date": PUBLISHED,
    } | changes
    return version_date(**given)


def test_a_first_version_speaks_for_its_publication() -> None:
    assert dated(first=True, modified=MODIFIED) == (PUBLISHED, "published")
    assert dated(first=True, published=None) == (FETCHED, "fetched")


def test_a_revision_is_dated_by_the_page_then_the_sitemap_then_the_header() -> None:
    header = "Thu, 21 Nov 2024 08:00:00 GMT"
    assert dated(modified=MODIFIED, last_modified=header) == (MODIFIED, "modified")
    lastmod = MODIFIED + timedelta(hours=1)
    assert dated(listed_modified=lastmod, last_modified=header) == (lastmod, "lastmod")
    assert dated(last_modified=header) == (datetime(2024, 11, 21, 8, tzinfo=UTC), "last-modified")
    assert dated() == (FETCHED, "fetched")


def test_stamps_that_cannot_date_the_revision_are_skipped() -> None:
    # not after the previous version (a stale dateModified), or after the fetch (a wrong clock)
    assert dated(modified=PUBLISHED) == (FETCHED, "fetched")
    assert dated(modified=FETCHED + timedelta(days=1)) == (FETCHED, "fetched")
    assert http_date("not a date") is None and http_date(None) is None
