"""Re-matching after a topic config change, without downloading anything.

Remembered off-topic articles are matched again; those that match now are stored like a newly
crawled article (figures read from their text, alerts decided). Stored articles gain the topics
they now match, and every figure is assigned to a quantity again with the current config
(`figures.assign_quantities`). A figure of an article's latest version whose quantity changed
and that no alert has reported yet is assessed again; a reported figure never raises an alert
twice (its status stays, and alerts are keyed by figure).

It runs from `newsmon rematch`, before `newsmon crawl`, and in the daemon at start and on SIGHUP,
each time only when the topic config's fingerprint differs from the one stored.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from newsmon.alerts.assess import assess_sources
from newsmon.alerts.detect import assess_version
from newsmon.clock import utcnow
from newsmon.config import Config, Source
from newsmon.figures import Figure as FigureRecord
from newsmon.figures import assign_quantities, extract_figures
from newsmon.ingest import Validators, ingest_article
from newsmon.spiders.article_page import ArticleRecord
from newsmon.spiders.simhash import SimhashIndex, simhash
from newsmon.spiders.topics import match_topics
from newsmon.storage import Database
from newsmon.storage import articles as article_rows
from newsmon.storage import rematch as rows
from newsmon.storage.crawls import ensure_source
from newsmon.storage.models import Article, Figure, SkippedArticle

DUPLICATE_LOOKBACK = timedelta(days=30)


@dataclass
class RematchReport:
    skipped_checked: int = 0
    now_matching: int = 0  # remembered off-topic articles stored now
    articles_checked: int = 0
    topics_added: int = 0
    figures_reassigned: int = 0
    alerts: int = 0

    def describe(self) -> str:
        return (
            f"re-matched {self.skipped_checked} skipped and {self.articles_checked} stored "
            f"article(s): {self.now_matching} now match a topic, {self.topics_added} topic "
            f"tag(s) added, {self.figures_reassigned} figure(s) re-assigned, "
            f"{self.alerts} alert(s)"
        )


def topic_fingerprint(config: Config) -> str:
    """What matching and assignment depend on: topics (keywords, quantities) and each
    source's topics and store_all."""
    data = {
        "topics": {key: topic.model_dump(mode="json") for key, topic in config.topics.items()},
        "sources": {
            source.name: [config.source_topics(source), source.store_all]
            for source in config.sources
        },
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def rematch_if_changed(config: Config, database: Database) -> RematchReport | None:
    """Re-match when the topic config changed since the last time (None: it did not)."""
    fingerprint = topic_fingerprint(config)
    with database.session() as session:
        if rows.get_setting(session, rows.TOPIC_FINGERPRINT) == fingerprint:
            return None
    report = rematch(config, database)
    with database.session() as session:
        rows.set_setting(session, rows.TOPIC_FINGERPRINT, fingerprint)
    return report


def rematch(config: Config, database: Database) -> RematchReport:
    report = RematchReport()
    with database.session() as session:
        by_id = _configured_sources(session, config)
        duplicates = SimhashIndex(since=utcnow() - DUPLICATE_LOOKBACK)
        skipped = rows.skipped_ids(session)
        articles = rows.article_ids(session)
        reported = rows.reported_figure_ids(session)
    for ids in rows.chunks(skipped):
        with database.session() as session:
            for row in rows.skipped_rows(session, ids):
                report.skipped_checked += 1
                source = by_id.get(row.source_id) if row.source_id is not None else None
                if source is not None and _ingest_if_matching(
                    session, config, source, row, duplicates, report
                ):
                    report.now_matching += 1
    if report.now_matching:  # their alerts, in publication order, as after a crawl
        report.alerts += assess_sources(database, config, list(by_id)).alerts
    for ids in rows.chunks(articles):
        with database.session() as session:
            for article in rows.articles_with_figures(session, ids):
                report.articles_checked += 1
                _retag(session, config, by_id.get(article.source_id or -1), article, report)
                _reassign(session, config, article, reported, report)
    return report


def _configured_sources(session: Session, config: Config) -> dict[int, Source]:
    return {ensure_source(session, s.name, s.url, s.type).id: s for s in config.sources}


def _ingest_if_matching(
    session: Session,
    config: Config,
    source: Source,
    row: SkippedArticle,
    duplicates: SimhashIndex,
    report: RematchReport,
) -> bool:
    if not (match_topics(config, source, row.title, row.text) or source.store_all):
        return False
    record = ArticleRecord(
        url=row.url,
        title=row.title,
        authors=list(row.authors or []),
        published=row.published_at,
        modified=row.modified_at,
        language=row.language,
        text=row.text,
    )
    record.figures = extract_figures(record.text)
    record.simhash = simhash(record.text)
    fetched = Validators(row.last_fetched_at or row.first_seen_at, row.etag, row.last_modified)
    assert row.source_id is not None
    result = ingest_article(session, config, source, row.source_id, record, fetched, duplicates)
    return result.outcome == "new_article"


def _retag(
    session: Session, config: Config, source: Source | None, article: Article, report: RematchReport
) -> None:
    if source is None:
        return
    have = {tag.topic for tag in article.topics}
    topics = match_topics(config, source, article.title, article.text or "")
    article_rows.add_topics(session, article, topics)
    report.topics_added += len(set(topics) - have)


def _reassign(
    session: Session,
    config: Config,
    article: Article,
    reported: set[int],
    report: RematchReport,
) -> None:
    tracked = config.tracked_quantities(sorted({tag.topic for tag in article.topics}))
    latest = article.versions[-1] if article.versions else None
    reassess = False
    for version in article.versions:
        figures = sorted(version.figures, key=lambda figure: figure.start_offset)
        assigned = assign_quantities([_record(figure) for figure in figures], tracked)
        for row, new in zip(figures, assigned, strict=True):
            if (row.quantity, row.assigned_by) == (new.quantity, new.assigned_by):
                continue
            row.quantity, row.assigned_by = new.quantity, new.assigned_by
            row.topic = new.quantity.partition("/")[0] if new.quantity else None
            report.figures_reassigned += 1
            if version is latest and row.id not in reported:
                row.status = None  # not reported yet: decided again with its new quantity
                reassess = True
    if reassess and latest is not None:
        report.alerts += len(assess_version(session, config, latest))


def _record(row: Figure) -> FigureRecord:
    return FigureRecord(
        value=row.value,
        low=row.low,
        high=row.high,
        qualifier=row.qualifier,
        unit=row.unit,
        text=row.text,
        start=row.start_offset,
        end=row.end_offset,
        sentence=row.sentence,
        attribution=row.attribution,
        projection=row.projection,
        quantity=row.quantity,
        per=row.per,
        change=row.change,
        role=row.role,
        assigned_by=row.assigned_by,
    )
