"""The store step: one fetched and extracted article into the archive, in one transaction.

Upsert the article by canonical URL; add a version only when the normalised text changed; tag
matched topics; date the version (spiders.dating); store the version's figures (read from the
version's own text, so their offsets point into it; the title is left out because headlines
repeat the body's figures in shorter, vaguer form); link a syndicated copy to the first copy.
Alerts are decided after the crawl, in publication order (alerts.assess), not here: downloads
finish in any order.

The crawl stores articles in batches (`store_batch`): several articles per transaction, so a
commit is paid per batch, not per article. A batch that fails is stored again one article per
transaction, so one bad article costs only itself, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from newsmon.alerts.detect import assess_version
from newsmon.config import Config, Source
from newsmon.figures import Figure as FigureRecord
from newsmon.figures import assign_quantities
from newsmon.spiders.dating import version_date
from newsmon.spiders.extract import ArticleRecord
from newsmon.spiders.simhash import MIN_RESEMBLANCE, SimhashIndex, resemblance, simhash
from newsmon.spiders.topics import match_topics, why_no_match
from newsmon.storage import Database
from newsmon.storage import articles as store
from newsmon.storage.crawls import ensure_source
from newsmon.storage.models import Alert, Article, Figure, SkippedArticle

Outcome = Literal["new_article", "new_version", "unchanged", "no_topic"]


@dataclass
class Validators:
    """The HTTP validators and time of the response the record was read from."""

    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    listed_modified: datetime | None = None  # the sitemap's <lastmod> of the article


@dataclass
class StoreResult:
    outcome: Outcome
    article_id: int | None = None
    duplicate_of: int | None = None
    explanation: list[str] | None = None  # what `crawl --explain` shows for the article
    # (topics, figures as assigned, alerts) of a stored version, for the explanation
    details: tuple[list[str], list[FigureRecord], list[Alert]] | None = None


@dataclass
class Batch:
    """Fetched and read articles of one source, waiting to be stored together."""

    config: Config
    source: Source
    source_id: int
    items: Sequence[tuple[ArticleRecord, Validators]]
    explain: bool = False
    quiet: bool = False  # a baseline crawl of the source (alerts.first_crawl, --baseline)


def store_batch(
    database: Database, batch: Batch, duplicates: SimhashIndex
) -> list[StoreResult | Exception]:
    """Store the batch's articles in one transaction; the result (or the error that kept it
    out of the archive) of each, in order. Runs in the crawl's one store thread."""
    try:
        with database.session() as session:
            source_id = batch.source_id
            if database.dry_run:  # the source's row may have been rolled back with its run
                source_id = ensure_source(
                    session, batch.source.name, batch.source.url, batch.source.type
                ).id
            results: list[StoreResult | Exception] = [
                store_article(
                    session,
                    batch.config,
                    batch.source,
                    source_id,
                    record,
                    validators,
                    duplicates,
                    batch.explain,
                    assess_now=database.dry_run,
                    quiet=batch.quiet,
                )
                for record, validators in batch.items
            ]
        return results
    except Exception as exc:  # noqa: BLE001 - each article is stored again, alone, below
        # the rollback took the batch's originals out of the index too: no copy points at them
        if len(batch.items) == 1:
            return [exc]
    return [
        store_batch(
            database,
            Batch(batch.config, batch.source, batch.source_id, [item], batch.explain, batch.quiet),
            duplicates,
        )[0]
        for item in batch.items
    ]


def store_article(
    session: Session,
    config: Config,
    source: Source,
    source_id: int,
    record: ArticleRecord,
    validators: Validators,
    duplicates: SimhashIndex,
    explain: bool = False,
    *,
    assess_now: bool = False,
    quiet: bool = False,
) -> StoreResult:
    """Store one article in the caller's transaction (an original is indexed in `duplicates`
    in it too). `explain`: the result says why (topics, figures and their quantities, alerts)."""
    result = _store_article(
        session,
        config,
        source,
        source_id,
        record,
        validators,
        duplicates,
        assess_now,
        quiet,
    )
    if explain:
        result.explanation = explanation(config, source, record, result)
    return result


def _store_article(
    session: Session,
    config: Config,
    source: Source,
    source_id: int,
    record: ArticleRecord,
    validators: Validators,
    duplicates: SimhashIndex,
    assess_now: bool,
    quiet: bool,
) -> StoreResult:
    url = record.url
    if url is None:  # only a local file read without a URL has none; a crawl always has one
        raise ValueError("an article without a URL cannot be stored")
    topics = match_topics(config, source, record.title, record.text)
    article = store.article_by_url(session, url)
    if article is None and not topics and not source.store_all:
        remember_skipped(session, source_id, record, validators)
        return StoreResult("no_topic")
    if article is None:  # no longer off-topic (a revision, or topics changed)
        store.forget_skipped(session, url)
    now = validators.fetched_at
    is_new = article is None
    value = copy_of = None
    if article is None:
        # looked up before the article is added, so it goes in with one INSERT, no UPDATE
        value = record.simhash if record.simhash is not None else simhash(record.text)
        copy_of = _first_copy(session, record.text, value, duplicates)
        article = Article(
            url=record.url,
            source_id=source_id,
            first_seen_at=now,
            authors=[],
            simhash=value,
            duplicate_of_id=copy_of,
        )
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
    dated_at, dated_by = version_date(
        first=latest is None,
        published=article.published_at,
        modified=record.modified,
        listed_modified=validators.listed_modified,
        last_modified=validators.last_modified,
        fetched_at=now,
        previous_date=latest.dated_at if latest is not None else None,
    )
    version = store.add_version(
        session,
        article,
        record.title,
        record.text,
        record.text_hash,
        record.published,
        record.modified,
        now,
        dated=(dated_at, dated_by),
    )
    tracked = config.tracked_quantities(sorted({t.topic for t in article.topics}))
    figures = assign_quantities(record.figures, tracked)
    store.add_figures(session, version, [_figure_row(figure) for figure in figures])
    session.flush()  # article, version, topics and figures in one go
    if value is not None and copy_of is None:  # an original: index it for later copies
        duplicates.add(session, article.id, value, article.first_seen_at)
    # alerts are decided at the end of the crawl, in publication order (alerts.assess); a dry
    # run keeps nothing for that step to read, so it decides here what would be raised
    alerts = assess_version(session, config, version, baseline=quiet) if assess_now else []
    result = StoreResult(
        "new_article" if is_new else "new_version", article.id, article.duplicate_of_id
    )
    result.details = (sorted({t.topic for t in article.topics}), figures, alerts)
    return result


def remember_skipped(
    session: Session, source_id: int, record: ArticleRecord, validators: Validators
) -> None:
    """An article matching no topic: kept aside with its text, so it is not downloaded again
    while unchanged and can be re-matched when the topics change (`newsmon rematch`)."""
    assert record.url is not None
    row = store.skipped_by_url(session, [record.url]).get(record.url)
    if row is None:
        row = SkippedArticle(url=record.url, first_seen_at=validators.fetched_at)
        session.add(row)
    row.source_id = source_id
    row.title, row.text, row.text_hash = record.title, record.text, record.text_hash
    row.authors = record.authors
    row.published_at, row.modified_at = record.published, record.modified
    row.language = record.language
    row.last_fetched_at = row.last_checked_at = validators.fetched_at
    row.etag, row.last_modified = validators.etag, validators.last_modified


def _first_copy(
    session: Session, text: str, value: int | None, duplicates: SimhashIndex
) -> int | None:
    """The first copy (an original) this new article's text is a syndicated copy of, if any."""
    if value is None:
        return None
    for candidate in duplicates.candidates(session, value):
        if resemblance(text, store.article_text(session, candidate)) >= MIN_RESEMBLANCE:
            return candidate
    return None


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
        per=figure.per,
        change=figure.change,
        role=figure.role,
        assigned_by=figure.assigned_by,
    )


def explanation(
    config: Config, source: Source, record: ArticleRecord, result: StoreResult
) -> list[str]:
    """Lines saying what became of the article and why: how users tune keywords and units."""
    lines = [f"{record.url}  ({result.outcome.replace('_', ' ')})"]
    if record.title:
        lines.append(f"  title: {record.title}")
    if result.outcome == "no_topic":
        lines.append(f"  topic: none ({why_no_match(config, source, record.title, record.text)})")
        lines.append(f"  figures: {len(record.figures)} read, none assigned (no topic)")
        return lines
    if result.details is None:
        lines.append("  text unchanged since the last crawl: nothing new to decide")
        return lines
    topics, figures, alerts = result.details
    lines.append(f"  topic: {', '.join(topics) or 'none (kept: store_all)'}")
    if result.duplicate_of is not None:
        lines.append(f"  syndicated copy of article {result.duplicate_of}: raises no alert")
    for figure in figures:
        where = (
            f"-> {figure.quantity} ({figure.assigned_by})" if figure.quantity else "-> no quantity"
        )
        lines.append(f"  figure {figure.text!r} = {figure.value:g} {figure.unit or ''} {where}")
    if not figures:
        lines.append("  figures: none")
    for alert in alerts:  # a dry run's; a real crawl's are added once decided (spiders.crawl)
        lines.append(f"  alert: {alert.kind} {alert.quantity}")
    return lines
