"""Articles, their versions, topics and figures, and remembered off-topic articles: every
query the ingest pipeline (newsmon.ingest) needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newsmon.storage.models import (
    Alert,
    Article,
    ArticleTopic,
    ArticleVersion,
    Figure,
    SkippedArticle,
    Source,
)

if TYPE_CHECKING:
    from newsmon.figures import Figure as FigureRecord

CHUNK = 500  # URLs per IN (...) query: well under every backend's parameter limit


def articles_by_url(session: Session, urls: Iterable[str]) -> dict[str, Article]:
    """The stored articles among these (normalised) URLs, by URL."""
    wanted = list(dict.fromkeys(urls))
    found: dict[str, Article] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        for article in session.scalars(select(Article).where(Article.url.in_(chunk))):
            found[article.url] = article
    return found


def skipped_by_url(session: Session, urls: Iterable[str]) -> dict[str, SkippedArticle]:
    """The remembered off-topic articles among these (normalised) URLs, by URL."""
    wanted = list(dict.fromkeys(urls))
    found: dict[str, SkippedArticle] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        for row in session.scalars(select(SkippedArticle).where(SkippedArticle.url.in_(chunk))):
            found[row.url] = row
    return found


def article_by_url(session: Session, url: str) -> Article | None:
    return session.scalars(select(Article).where(Article.url == url)).one_or_none()


def latest_version(session: Session, article: Article) -> ArticleVersion | None:
    # Mapped[int], but None until the article is flushed
    if article.id is None:
        return None  # type: ignore[unreachable]
    return session.scalars(
        select(ArticleVersion)
        .where(ArticleVersion.article_id == article.id)
        .order_by(ArticleVersion.number.desc())
        .limit(1)
    ).one_or_none()


def add_version(
    session: Session,
    article: Article,
    title: str | None,
    text: str,
    text_hash: str,
    published_at: datetime | None,
    modified_at: datetime | None,
    fetched_at: datetime,
    dated: tuple[datetime, str] | None = None,
) -> ArticleVersion:
    """A new version numbered after the last; the article's title/text follow it (and the
    full-text index follows them, by trigger). `dated`: (dated_at, dated_by), else the
    publication (or fetch) time."""
    dated_at, dated_by = dated or (
        (published_at, "published") if published_at else (fetched_at, "fetched")
    )
    article.version_count = (article.version_count or 0) + 1
    version = ArticleVersion(
        article=article,
        number=article.version_count,
        title=title,
        text=text,
        text_hash=text_hash,
        published_at=published_at,
        modified_at=modified_at,
        fetched_at=fetched_at,
        dated_at=dated_at,
        dated_by=dated_by,
        figures=[],  # known empty: reading them after the flush costs no query
    )
    session.add(version)
    article.title, article.text = title, text
    return version


def add_topics(session: Session, article: Article, topics: Iterable[str]) -> None:
    """Tag the article with these topics (kept tags stay: an article once about a story is)."""
    have = {row.topic for row in article.topics}
    for topic in topics:
        if topic not in have:
            article.topics.append(ArticleTopic(topic=topic))
            have.add(topic)


def add_article(
    session: Session,
    url: str,
    source_id: int,
    first_seen_at: datetime,
    simhash: int | None,
    duplicate_of: int | Article | None,
) -> Article:
    """A new article row (its versions follow); inserted with the session's next flush.
    `duplicate_of`: the first copy, by id or as a row not flushed yet."""
    article = Article(
        url=url, source_id=source_id, first_seen_at=first_seen_at, authors=[], simhash=simhash
    )
    if isinstance(duplicate_of, Article):
        article.duplicate_of = duplicate_of
    else:
        article.duplicate_of_id = duplicate_of
    session.add(article)
    return article


def add_figures(session: Session, version: ArticleVersion, figures: Sequence[FigureRecord]) -> None:
    """The version's figures, as read (figures.Figure) and assigned to quantities."""
    for record in figures:
        figure = figure_row(record)
        figure.version = version
        figure.article = version.article  # its id may come with the same flush
        session.add(figure)


def figure_row(figure: FigureRecord) -> Figure:
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
        per=figure.per,
        change=figure.change,
        role=figure.role,
        assigned_by=figure.assigned_by,
    )


def article_text(session: Session, article_id: int) -> str:
    return session.scalars(select(Article.text).where(Article.id == article_id)).one() or ""


def mark_checked(
    session: Session,
    url: str,
    checked_at: datetime,
    etag: str | None = None,
    last_modified: str | None = None,
) -> None:
    """A revisit answered 304 (or with the same text): remember when, and any new validators."""
    article: Article | SkippedArticle | None = article_by_url(session, url)
    if article is None:
        article = skipped_by_url(session, [url]).get(url)
    if article is None:
        return
    article.last_checked_at = checked_at
    article.etag = etag or article.etag
    article.last_modified = last_modified or article.last_modified


def save_source_validators(
    session: Session, source_id: int, etag: str | None, last_modified: str | None
) -> None:
    source = session.get_one(Source, source_id)
    source.etag, source.last_modified = etag, last_modified


def remember_skipped(
    session: Session,
    row: SkippedArticle | None,
    url: str,
    source_id: int,
    fetched_at: datetime,
    **read: Any,
) -> SkippedArticle:
    """An article matching no topic (`row`: as remembered already, if it was), kept aside with
    what was read of it (`read`: title, text, text_hash, authors, published_at, modified_at,
    language, etag, last_modified), so it is not downloaded again while unchanged and can be
    re-matched when the topics change (`newsmon rematch`)."""
    if row is None:
        row = SkippedArticle(url=url, first_seen_at=fetched_at)
        session.add(row)
    row.source_id = source_id
    for column, value in read.items():
        setattr(row, column, value)
    row.last_fetched_at = row.last_checked_at = fetched_at
    return row


def forget_skipped(session: Session, url: str) -> None:
    """The URL is stored as an article now: it is no longer remembered as off-topic."""
    session.execute(delete(SkippedArticle).where(SkippedArticle.url == url))


def alerts_by_article(
    session: Session, article_ids: Sequence[int]
) -> dict[int, list[tuple[str, str]]]:
    """(kind, quantity) of the alerts raised about each of these articles, oldest first."""
    found: dict[int, list[tuple[str, str]]] = {}
    wanted = list(dict.fromkeys(article_ids))
    for start in range(0, len(wanted), CHUNK):
        rows = session.execute(
            select(Alert.article_id, Alert.kind, Alert.quantity)
            .where(Alert.article_id.in_(wanted[start : start + CHUNK]))
            .order_by(Alert.created_at)
        )
        for article_id, kind, quantity in rows:
            if article_id is not None:  # always: the IN above matches no NULL
                found.setdefault(article_id, []).append((kind, quantity))
    return found
