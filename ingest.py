"""The ingest pipeline: one article read from a page, into the archive.

    article record ─▶ topics ─▶ figures assigned to quantities ─▶ stored version ─▶ detection

- `match` (topics, then the record's figures assigned to the topics' tracked quantities) is
  pure: the crawl runs it in its worker processes with the article's reading (`TopicRules` is
  what it needs of the config, small enough to go with each page), so the crawl process only
  stores. Called without a `Match`, `ingest_article` runs it itself.
- `ingest_article` stores one article in the caller's transaction: upsert by canonical URL; a
  version only when the normalised text changed; topic tags; the version's date
  (spiders.dating); its figures (read from the version's own text, so their offsets point into
  it; the title is left out because headlines repeat the body's figures in shorter, vaguer
  form); a syndicated copy linked to its first copy. Every query is storage/'s.
- Detection: alerts are decided after the crawl, in publication order (alerts.assess), not
  here: downloads finish in any order. A dry run keeps nothing for that step to read, so it
  decides here (`assess_now`) what would be raised.

The crawl ingests in batches (`ingest_batch`, a `Transaction` of several articles): a commit,
the URL lookups and one flush (its inserts batched) are paid per batch, not per article; the
batch's new originals are found by SimHash in memory until the flush indexes them. A batch that
fails is stored again one article per transaction, so one bad article costs only itself.

Callers: the crawl's item pipeline (spiders/pipeline.py), `newsmon rematch`
(spiders/rematch.py), tests, and a Python user with a record of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from newsmon.alerts.detect import assess_version
from newsmon.config import Config, Keywords, Source
from newsmon.figures import Figure as FigureRecord
from newsmon.figures import assign_quantities
from newsmon.figures.quantities import QuantitySpec
from newsmon.spiders.article_page import ArticleRecord
from newsmon.spiders.dating import version_date
from newsmon.spiders.simhash import (
    MAX_DISTANCE,
    MIN_RESEMBLANCE,
    SimhashIndex,
    distance,
    resemblance,
    simhash,
)
from newsmon.spiders.topics import topics_matching, why_no_match
from newsmon.storage import Database
from newsmon.storage import articles as article_rows
from newsmon.storage.crawls import ensure_source
from newsmon.storage.models import Alert, Article, SkippedArticle

Outcome = Literal["new_article", "new_version", "unchanged", "no_topic"]


@dataclass(frozen=True)
class TopicRules:
    """What matching and assignment need of the config for one source: its topics' keywords
    and each topic's tracked quantities."""

    keywords: dict[str, Keywords]
    quantities: dict[str, dict[str, QuantitySpec]]  # topic -> 'topic/quantity' -> spec

    @classmethod
    def of(cls, config: Config, source: Source) -> TopicRules:
        topics = config.source_topics(source)
        return cls(
            {topic: config.topics[topic].keywords for topic in topics},
            {topic: config.tracked_quantities([topic]) for topic in topics},
        )

    def tracked(self, topics: Sequence[str]) -> dict[str, QuantitySpec]:
        return {key: spec for topic in topics for key, spec in self.quantities[topic].items()}


@dataclass
class Match:
    """The topics an article's text matches, and its figures assigned to their quantities."""

    topics: list[str]
    figures: list[FigureRecord]


def match(rules: TopicRules, record: ArticleRecord) -> Match:
    """Topics, then figures assigned (pure: no database; runs in the crawl's workers)."""
    topics = topics_matching(rules.keywords, record.title, record.text)
    # sorted, as the article's tags are: assignment weighs quantities in this order
    return Match(topics, assign_quantities(record.figures, rules.tracked(sorted(topics))))


@dataclass
class Validators:
    """The HTTP validators and time of the response the record was read from."""

    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    listed_modified: datetime | None = None  # the sitemap's <lastmod> of the article


@dataclass
class IngestResult:
    outcome: Outcome
    article_id: int | None = None
    duplicate_of: int | None = None
    explanation: list[str] | None = None  # what `crawl --explain` shows for the article
    # (topics, figures as assigned, alerts) of a stored version, for the explanation
    details: tuple[list[str], list[FigureRecord], list[Alert]] | None = None


@dataclass
class Batch:
    """Fetched and read articles of one source, waiting to be stored together; each with its
    `Match` when the worker made it (None: made when stored)."""

    config: Config
    source: Source
    source_id: int
    items: Sequence[tuple[ArticleRecord, Validators, Match | None]]
    explain: bool = False
    quiet: bool = False  # a baseline crawl of the source (alerts.first_crawl, --baseline)


@dataclass
class Known:
    """What one transaction knows of the archive: its URLs already stored or remembered
    (looked up once per batch, not per article), and the originals it added itself, found by
    their SimHash in memory until the batch's one flush indexes them."""

    articles: dict[str, Article] = field(default_factory=dict)
    skipped: dict[str, SkippedArticle] = field(default_factory=dict)
    originals: list[tuple[int, Article, str]] = field(default_factory=list)  # hash, row, text
    ingested: set[str] = field(default_factory=set)  # URLs already ingested in it
    # the archive's originals near each new article's SimHash, looked up for the whole batch
    candidates: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def lookup(cls, session: Session, urls: Sequence[str]) -> Known:
        return cls(
            article_rows.articles_by_url(session, urls), article_rows.skipped_by_url(session, urls)
        )


@dataclass
class _Ingested:
    """One article's result, its id and explanation to be filled in after the flush."""

    result: IngestResult
    record: ArticleRecord
    article: Article | None


@dataclass
class Transaction:
    """Articles of one source ingested in the caller's transaction: their rows go in with one
    flush at the end (`finish`), so inserts are batched and the unit of work runs once."""

    session: Session
    config: Config
    source: Source
    source_id: int
    duplicates: SimhashIndex
    known: Known
    explain: bool = False
    assess_now: bool = False  # a dry run: decide the alerts now (nothing is kept for later)
    quiet: bool = False
    done: list[_Ingested] = field(default_factory=list)

    def add(self, record: ArticleRecord, validators: Validators, matched: Match | None) -> None:
        if matched is None:
            matched = match(TopicRules.of(self.config, self.source), record)
        with self.session.no_autoflush:  # reading must not flush half-built rows
            self.done.append(self._ingest(record, validators, matched))

    def finish(self) -> list[IngestResult]:
        """Flush every row, index the new originals, and fill in ids and explanations."""
        self.session.flush()
        self.duplicates.add_many(
            self.session,
            [(row.id, value, row.first_seen_at) for value, row, _ in self.known.originals],
        )
        self.known.originals.clear()
        for done in self.done:
            if done.article is not None:
                done.result.article_id = done.article.id
                done.result.duplicate_of = done.article.duplicate_of_id
            if self.explain:
                done.result.explanation = explanation(
                    self.config, self.source, done.record, done.result
                )
        results = [done.result for done in self.done]
        self.done.clear()
        return results

    def _ingest(self, record: ArticleRecord, validators: Validators, matched: Match) -> _Ingested:
        session, known = self.session, self.known
        # a record without a URL goes on to fail at the flush (url NOT NULL), as the database
        # refuses it: counted as `store_failed`, like any article the archive refuses
        url: str = record.url  # type: ignore[assignment]
        if url in known.ingested:  # the same article twice: the second sees the first's rows
            session.flush()
        known.ingested.add(url)
        topics = matched.topics
        article = known.articles.get(url)
        skipped = known.skipped.get(url)
        if article is None and not topics and not self.source.store_all:
            known.skipped[url] = article_rows.remember_skipped(
                session,
                skipped,
                url,
                self.source_id,
                validators.fetched_at,
                title=record.title,
                text=record.text,
                text_hash=record.text_hash,
                authors=record.authors,
                published_at=record.published,
                modified_at=record.modified,
                language=record.language,
                etag=validators.etag,
                last_modified=validators.last_modified,
            )
            return _Ingested(IngestResult("no_topic"), record, None)
        if article is None and skipped is not None:  # no longer off-topic (a revision, topics)
            article_rows.forget_skipped(session, url)
            del known.skipped[url]
        now = validators.fetched_at
        is_new = article is None
        if article is None:
            # looked up before the article is added, so it goes in with one INSERT, no UPDATE
            value = record.simhash if record.simhash is not None else simhash(record.text)
            copy_of = self._first_copy(record.text, value)
            article = article_rows.add_article(session, url, self.source_id, now, value, copy_of)
            known.articles[url] = article
            if value is not None and copy_of is None:  # an original: indexed at the flush
                known.originals.append((value, article, record.text))
        article.last_checked_at = now
        article.etag = validators.etag
        article.last_modified = validators.last_modified
        article_rows.add_topics(session, article, topics)
        latest = None if is_new else article_rows.latest_version(session, article)
        if latest is not None and latest.text_hash == record.text_hash:
            return _Ingested(IngestResult("unchanged"), record, article)
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
        version = article_rows.add_version(
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
        tagged = sorted({t.topic for t in article.topics})
        figures = matched.figures
        if tagged != sorted(topics):  # topics it was tagged with before count too
            figures = assign_quantities(record.figures, self.config.tracked_quantities(tagged))
        article_rows.add_figures(session, version, figures)
        # detection: at the end of the crawl, in publication order (alerts.assess); a dry run
        # keeps nothing for that step to read, so it decides here what would be raised
        alerts = []
        if self.assess_now:
            session.flush()
            alerts = assess_version(session, self.config, version, baseline=self.quiet)
        result = IngestResult("new_article" if is_new else "new_version")
        result.details = (tagged, figures, alerts)
        return _Ingested(result, record, article)

    def _first_copy(self, text: str, value: int | None) -> int | Article | None:
        """The first copy (an original) this new article's text is a syndicated copy of, if
        any: among the archive's originals, then among this transaction's own."""
        if value is None:
            return None
        candidates = self.known.candidates.get(value)
        if candidates is None:
            candidates = self.duplicates.candidates(self.session, value)
        for candidate in candidates:
            found = article_rows.article_text(self.session, candidate)
            if resemblance(text, found) >= MIN_RESEMBLANCE:
                return candidate
        for other, article, other_text in self.known.originals:
            close = distance(value, other) <= MAX_DISTANCE
            if close and resemblance(text, other_text) >= MIN_RESEMBLANCE:
                return article
        return None


def ingest_batch(
    database: Database, batch: Batch, duplicates: SimhashIndex
) -> list[IngestResult | Exception]:
    """Store the batch's articles in one transaction; the result (or the error that kept it
    out of the archive) of each, in order. Runs in the crawl's one ingest thread."""
    try:
        with database.session() as session:
            source_id = batch.source_id
            if database.dry_run:  # the source's row may have been rolled back with its run
                source_id = ensure_source(
                    session, batch.source.name, batch.source.url, batch.source.type
                ).id
            urls = [record.url for record, _, _ in batch.items if record.url]
            known = Known.lookup(session, urls)
            new = [
                record.simhash
                for record, _, _ in batch.items
                if record.simhash is not None and record.url not in known.articles
            ]
            known.candidates = duplicates.candidates_of(session, new)
            transaction = Transaction(
                session,
                batch.config,
                batch.source,
                source_id,
                duplicates,
                known,
                batch.explain,
                assess_now=database.dry_run,
                quiet=batch.quiet,
            )
            for record, validators, matched in batch.items:
                transaction.add(record, validators, matched)
            results: list[IngestResult | Exception] = list(transaction.finish())
        return results
    except Exception as exc:  # noqa: BLE001 - each article is stored again, alone, below
        # the rollback took the batch's originals out of the index too: no copy points at them
        if len(batch.items) == 1:
            return [exc]
    return [
        ingest_batch(
            database,
            Batch(batch.config, batch.source, batch.source_id, [item], batch.explain, batch.quiet),
            duplicates,
        )[0]
        for item in batch.items
    ]


def ingest_article(
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
    matched: Match | None = None,
) -> IngestResult:
    """Store one article in the caller's transaction (an original is indexed in `duplicates`
    in it too). `explain`: the result says why (topics, figures and their quantities, alerts).
    `matched`: the record's `match`, if made already (else it is made here)."""
    known = Known.lookup(session, [record.url] if record.url else [])
    transaction = Transaction(
        session, config, source, source_id, duplicates, known, explain, assess_now, quiet
    )
    transaction.add(record, validators, matched)
    (result,) = transaction.finish()
    return result


def explanation(
    config: Config, source: Source, record: ArticleRecord, result: IngestResult
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
