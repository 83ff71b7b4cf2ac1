"""The queries re-matching needs: remembered off-topic articles, stored articles with their
versions and figures, which figures were already reported, and the topic-config fingerprint."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select, union
from sqlalchemy.orm import Session, selectinload

from newsmon.storage.models import Alert, Article, ArticleVersion, Setting, SkippedArticle

TOPIC_FINGERPRINT = "topic_fingerprint"
CHUNK = 200  # articles per transaction


def get_setting(session: Session, name: str) -> str | None:
    row = session.get(Setting, name)
    return row.value if row is not None else None


def set_setting(session: Session, name: str, value: str) -> None:
    row = session.get(Setting, name)
    if row is None:
        session.add(Setting(name=name, value=value))
    else:
        row.value = value


def skipped_ids(session: Session) -> list[int]:
    return list(session.scalars(select(SkippedArticle.id).order_by(SkippedArticle.id)))


def skipped_rows(session: Session, ids: list[int]) -> list[SkippedArticle]:
    return list(session.scalars(select(SkippedArticle).where(SkippedArticle.id.in_(ids))))


def article_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Article.id).order_by(Article.id)))


def articles_with_figures(session: Session, ids: list[int]) -> list[Article]:
    return list(
        session.scalars(
            select(Article)
            .where(Article.id.in_(ids))
            .options(
                selectinload(Article.topics),
                selectinload(Article.versions).selectinload(ArticleVersion.figures),
            )
        )
    )


def reported_figure_ids(session: Session) -> set[int]:
    """Figures an alert was already raised about (as the new or the previous value)."""
    query = union(
        select(Alert.figure_id).where(Alert.figure_id.is_not(None)),
        select(Alert.previous_figure_id).where(Alert.previous_figure_id.is_not(None)),
    )
    return {row[0] for row in session.execute(query) if row[0] is not None}


def chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]
