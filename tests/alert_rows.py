"""Articles, versions and figures written straight into the archive for the alerts tests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsmon.alerts.detect import assess_version
from newsmon.config import Config
from newsmon.figures import assign_quantities, extract_figures
from newsmon.storage.models import Alert, Article, ArticleVersion, Figure, Source


@dataclass
class Said:
    """One figure an article states."""

    value: float
    quantity: str | None = "nk-troops/troops-in-russia"
    qualifier: str = "exact"
    unit: str = "troops"
    sentence: str = ""
    attribution: str | None = None
    projection: bool = False
    low: float | None = None
    high: float | None = None


def source(session: Session, name: str) -> Source:
    row = session.scalars(select(Source).where(Source.name == name)).one_or_none()
    if row is None:
        row = Source(name=name, url=f"http://127.0.0.1/{name}", type="feed")
        session.add(row)
        session.flush()
    return row


def publish(
    session: Session,
    config: Config,
    *,
    url: str,
    outlet: str,
    published: datetime,
    said: list[Said],
    title: str = "North Korean troops in Russia",
    duplicate_of: str | None = None,
    modified: datetime | None = None,
    baseline: bool = False,
) -> list[Alert]:
    """Store a new article, or a new version of the article at `url`, then assess it. A
    version is dated by `modified` when given (a revision), else by `published`."""
    article = session.scalars(select(Article).where(Article.url == url)).one_or_none()
    if article is None:
        original = (
            session.scalars(select(Article).where(Article.url == duplicate_of)).one()
            if duplicate_of
            else None
        )
        article = Article(
            url=url,
            source=source(session, outlet),
            title=title,
            published_at=published,
            duplicate_of_id=original.id if original else None,
        )
        session.add(article)
        session.flush()
    text = " ".join(s.sentence or f"{s.value:g} {s.unit}." for s in said)
    article.version_count += 1
    version = ArticleVersion(
        article=article,
        number=article.version_count,
        title=title,
        text=text,
        text_hash=hashlib.sha256(text.encode()).hexdigest(),
        published_at=published,
        modified_at=modified,
        dated_at=modified or published,
        dated_by="modified" if modified else "published",
    )
    session.add(version)
    offset = 0
    for s in said:
        sentence = s.sentence or f"{s.value:g} {s.unit}."
        version.figures.append(
            Figure(
                article=article,
                topic=s.quantity.partition("/")[0] if s.quantity else None,
                quantity=s.quantity,
                value=s.value,
                low=s.low,
                high=s.high,
                qualifier=s.qualifier,
                unit=s.unit,
                text=f"{s.value:g}",
                start_offset=offset,
                end_offset=offset + 3,
                sentence=sentence,
                attribution=s.attribution,
                projection=s.projection,
            )
        )
        offset += len(sentence) + 1
    session.flush()
    return assess_version(session, config, version, baseline=baseline)


def publish_text(
    session: Session,
    config: Config,
    *,
    url: str,
    outlet: str,
    published: datetime,
    text: str,
    title: str = "North Korean troops in Russia",
) -> list[Alert]:
    """Like `publish`, with the figures read from `text` by the real extractor."""
    found = assign_quantities(extract_figures(text), config.tracked_quantities(list(config.topics)))
    said = [
        Said(
            value=figure.value,
            quantity=figure.quantity,
            qualifier=figure.qualifier,
            unit=figure.unit or "",
            sentence=figure.sentence,
            attribution=figure.attribution,
            projection=figure.projection,
            low=figure.low,
            high=figure.high,
        )
        for figure in found
    ]
    return publish(
        session, config, url=url, outlet=outlet, published=published, said=said, title=title
    )
