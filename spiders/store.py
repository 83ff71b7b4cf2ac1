"""The store step: one fetched and extracted article into the archive, in one transaction.

Upsert the article by canonical URL; add a version only when the normalised text changed; tag
matched topics; store the version's figures (read from the version's own text, so their offsets
point into it; the title is left out because headlines repeat the body's figures in shorter,
vaguer form); link a syndicated copy to the first copy; then let alerts/ decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from alerts.detect import assess_version
from config import Config, Source
from figures import Figure as FigureRecord
from figures import assign_quantities
from spiders.extract import ArticleRecord
from spiders.simhash import MIN_RESEMBLANCE, SimhashIndex, resemblance, simhash
from spiders.topics import match_topics
from storage import articles as store
from storage.models import Article, Figure

Outcome = Literal["new_article", "new_version", "unchanged", "no_topic"]


@dataclass
class Validators:
    """The HTTP validators and time of the response the record was read from."""

    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class StoreResult:
    outcome: Outcome
    article_id: int | None = None
    duplicate_of: int | None = None
    alerts: int = 0


def store_article(
    session: Session,
    config: Config,
    source: Source,
    source_id: int,
    record: ArticleRecord,
    validators: Validators,
    duplicates: SimhashIndex,
) -> StoreResult:
    topics = match_topics(config, source, record.title, record.text)
    article = store.article_by_url(session, record.url)
    if article is None and not topics and not source.store_all:
        return StoreResult("no_topic")
    now = validators.fetched_at
    is_new = article is None
    if article is None:
        article = Article(url=record.url, source_id=source_id, first_seen_at=now, authors=[])
        session.add(article)
    article.last_checked_at = now
    article.etag = validators.etag
    article.last_modified = validators.last_modified
    store.add_topics(session, article, topics)
    latest = None if is_new else store.latest_version(session, article)
    if latest is not None and latest.text_hash == record.text_hash:
        return StoreResult("unchanged", article.id)
    article.authors = record.authors or article.authors
    article.published_at = record.published or article.published_at
    article.modified_at = record.modified or article.modified_at
    article.language = record.language or article.language
    article.last_fetched_at = now
    version = store.add_version(
        session,
        article,
        record.title,
        record.text,
        record.text_hash,
        record.published,
        record.modified,
        now,
    )
    session.flush()
    if is_new:
        value = record.simhash if record.simhash is not None else simhash(record.text)
        _link_duplicate(session, article, record.text, value, duplicates)
    tracked = config.tracked_quantities(sorted({t.topic for t in article.topics}))
    figures = assign_quantities(record.figures, tracked)
    store.add_figures(session, version, [_figure_row(figure) for figure in figures])
    session.flush()
    alerts = assess_version(session, config, version)
    return StoreResult(
        "new_article" if is_new else "new_version",
        article.id,
        article.duplicate_of_id,
        len(alerts),
    )


def _link_duplicate(
    session: Session, article: Article, text: str, value: int | None, duplicates: SimhashIndex
) -> None:
    """Point a syndicated copy at the first copy; index an original for later copies."""
    article.simhash = value
    if value is None:
        return
    for candidate in duplicates.candidates(value, exclude=article.id):
        if resemblance(text, store.article_text(session, candidate)) >= MIN_RESEMBLANCE:
            article.duplicate_of_id = candidate
            return
    duplicates.add(article.id, value)


def _figure_row(figure: FigureRecord) -> Figure:
    return Figure(
        topic=figure.quantity.partition("/")[0] if figure.quantity else None,
        quantity=figure.quantity,
        value=figure.value,
        low=figure.low,
        high=figure.high,
        qualifier=figure.qualifier,
        unit=figure.unit,
        text=figure.text,
        start_offset=figure.start,
        end_offset=figure.end,
        sentence=figure.sentence,
        attribution=figure.attribution,
        projection=figure.projection,
    )
