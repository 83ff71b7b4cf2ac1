"""What the crawl remembers between runs besides articles: the validators of documents a source
discovers (a feed a listing page announces, a sitemap index's children) and sites' robots.txt."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newsmon.storage.models import RobotsTxt, SourceDocument

Validators = tuple[str | None, str | None]  # (ETag, Last-Modified)


def document_validators(session: Session, source_id: int) -> dict[str, Validators]:
    rows = session.scalars(select(SourceDocument).where(SourceDocument.source_id == source_id))
    return {row.url: (row.etag, row.last_modified) for row in rows}


def save_document_validators(
    session: Session, source_id: int, documents: Mapping[str, Validators]
) -> None:
    """Replace the source's discovered documents' validators (a read in full lists them all)."""
    session.execute(delete(SourceDocument).where(SourceDocument.source_id == source_id))
    session.add_all(
        SourceDocument(source_id=source_id, url=url, etag=etag, last_modified=modified)
        for url, (etag, modified) in documents.items()
        if etag or modified
    )


def cached_robots(session: Session, now: datetime) -> dict[str, bytes]:
    """host[:port] -> robots.txt body, for the sites whose cached copy has not expired."""
    rows = session.scalars(select(RobotsTxt).where(RobotsTxt.expires_at > now))
    return {row.host: row.body or b"" for row in rows}


def save_robots(
    session: Session, fetched: Mapping[str, tuple[bytes, datetime]], now: datetime
) -> None:
    """Remember robots.txt bodies fetched in this crawl, each until its expiry."""
    for host, (body, expires_at) in fetched.items():
        row = session.get(RobotsTxt, host)
        if row is None:
            session.add(RobotsTxt(host=host, body=body, fetched_at=now, expires_at=expires_at))
        else:
            row.body, row.fetched_at, row.expires_at = body, now, expires_at
