"""The archive's tables, as typed SQLAlchemy 2.x models.

Nothing here is ever overwritten to lose history: articles keep every distinct text as an
ArticleVersion, every version's figures are kept, and alerts keep one Delivery row per channel.
Schema changes go through Alembic (storage/migrations); this module and the migrations must agree
(tests/test_storage_migrations.py checks that).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from newsmon.clock import utcnow


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: newsmon stores timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


class Source(Base):
    """A configured source; rows are created on first use and keyed by the config `name`."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    type: Mapped[str] = mapped_column(String(16))
    # HTTP validators of the source document (feed/sitemap/listing) for conditional requests
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    last_run_at: Mapped[datetime | None]
    # when its first crawl was stored as a quiet baseline (alerts.first_crawl); None: not yet
    baseline_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    runs: Mapped[list[CrawlRun]] = relationship(back_populates="source")


class Article(Base):
    """One article, one row: `url` is the canonical, normalised URL. Text fields hold the latest
    version (for search); the history is in ArticleVersion."""

    __tablename__ = "articles"
    __table_args__ = (
        # an article's date is coalesce(published_at, first_seen_at): this index answers date
        # filters (storage.search, storage.archive) without reading the rows' long texts
        Index("ix_articles_dates", "published_at", "first_seen_at"),
        # the same date by id: storage.search checks a broad date filter per full-text match
        Index("ix_articles_id_dates", "id", "published_at", "first_seen_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(default=list)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    modified_at: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(16))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_fetched_at: Mapped[datetime | None]  # last full download
    last_checked_at: Mapped[datetime | None]  # last (conditional) request, 304s included
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    simhash: Mapped[int | None] = mapped_column(BigInteger, index=True)  # signed 64-bit
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    version_count: Mapped[int] = mapped_column(default=0)

    source: Mapped[Source | None] = relationship()
    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article", order_by="ArticleVersion.number", cascade="all, delete-orphan"
    )
    topics: Mapped[list[ArticleTopic]] = relationship(cascade="all, delete-orphan")
    duplicate_of: Mapped[Article | None] = relationship(remote_side=[id])


class SimhashBlock(Base):
    """One block of an original article's SimHash: the near-duplicate index
    (storage.near_duplicates). Copies are not indexed; the rows go with their article."""

    __tablename__ = "simhash_blocks"
    # SQLite: the table is its own index on (block_key, article_id), so a lookup reads the
    # hash and date from the index entry without a second read per candidate; PostgreSQL: the
    # primary key INCLUDEs simhash and first_seen_at (migration 0009) for the same reason
    __table_args__ = {"sqlite_with_rowid": False}

    block_key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    simhash: Mapped[int] = mapped_column(BigInteger)  # signed 64-bit, as articles.simhash
    first_seen_at: Mapped[datetime]  # the article's: the lookup's window


class ArticleTopic(Base):
    __tablename__ = "article_topics"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class ArticleVersion(Base):
    """Every distinct text an article has had, numbered from 1."""

    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the normalised text
    published_at: Mapped[datetime | None]
    modified_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the time this version speaks for, which alerts order figures by: a first version's
    # publication, a revision's modified time; `dated_by` says which (published, modified,
    # lastmod, last-modified, fetched)
    dated_at: Mapped[datetime | None]
    dated_by: Mapped[str | None] = mapped_column(String(16))

    article: Mapped[Article] = relationship(back_populates="versions")
    figures: Mapped[list[Figure]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="Figure.start_offset"
    )


class Figure(Base):
    """A numeric claim found in one article version (see figures/ for the fields' meaning)."""

    __tablename__ = "figures"
    __table_args__ = (Index("ix_figures_quantity_article", "quantity", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("article_versions.id", ondelete="CASCADE"), index=True
    )
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    topic: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[str | None] = mapped_column(String(201))  # "topic/quantity" or None
    value: Mapped[float] = mapped_column(Float)
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    qualifier: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    start_offset: Mapped[int]
    end_offset: Mapped[int]
    sentence: Mapped[str] = mapped_column(Text)
    attribution: Mapped[str | None] = mapped_column(Text)
    projection: Mapped[bool] = mapped_column(Boolean, default=False)
    per: Mapped[str | None] = mapped_column(String(32))  # a rate: "day" for "1,500 a day"
    change: Mapped[str | None] = mapped_column(String(8))  # "up"/"down": stated as a movement
    role: Mapped[str | None] = mapped_column(String(8))  # "previous"/"current" of "from X to Y"
    assigned_by: Mapped[str | None] = mapped_column(Text)  # why it went to `quantity`
    # set by alerts/ when it assesses the figure: new, changed, corroboration, forecast, revised,
    # conflict, history, late, baseline, duplicate (a syndicated copy), or untracked
    status: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    version: Mapped[ArticleVersion] = relationship(back_populates="figures")
    article: Mapped[Article] = relationship()


class Alert(Base):
    """One decision worth telling. `id` is a stable UUID sent with every delivery so receivers can
    drop repeats; `dedupe_key` makes re-running a crawl over the same articles create nothing."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    topic: Mapped[str] = mapped_column(String(100), index=True)
    quantity: Mapped[str] = mapped_column(String(201), index=True)
    figure_id: Mapped[int | None] = mapped_column(ForeignKey("figures.id", ondelete="SET NULL"))
    previous_figure_id: Mapped[int | None] = mapped_column(
        ForeignKey("figures.id", ondelete="SET NULL")
    )
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]]  # the webhook schema (docs/alerts.md), built at decision
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="alert", cascade="all, delete-orphan", order_by="Delivery.channel"
    )


class Delivery(Base):
    """The outbox: one row per (alert, channel), written in the alert's transaction."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "channel"),
        Index("ix_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[str] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sent|failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    # sends that ended not knowing whether the channel took the alert (see alerts/dispatch.py)
    uncertain_sends: Mapped[int] = mapped_column(default=0, server_default="0")
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    alert: Mapped[Alert] = relationship(back_populates="deliveries")


class CrawlRun(Base):
    """One run of one source, with its counts; `status` is running, ok, limited (a crawl bound
    left some for the next crawl), failed, timeout or interrupted (cut short: what it stored
    is kept, its source is read in full next time)."""

    __tablename__ = "crawl_runs"
    __table_args__ = (
        # a source's latest run (storage.crawls.last_runs) is one probe, however long the history
        Index("ix_crawl_runs_source_latest", "source_id", "id"),
        # a source's last complete run (last_complete_run_at): one probe too
        Index("ix_crawl_runs_source_status", "source_id", "status", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    requests: Mapped[int] = mapped_column(default=0)
    not_modified: Mapped[int] = mapped_column(default=0)
    new_articles: Mapped[int] = mapped_column(default=0)
    new_versions: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    error_counts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # error kind -> count
    message: Mapped[str | None] = mapped_column(Text)
    # articles read but matching none of the source's topics (remembered in skipped_articles)
    skipped: Mapped[int] = mapped_column(default=0, server_default="0")

    source: Mapped[Source] = relationship(back_populates="runs")


class DaemonState(Base):
    """The daemon's heartbeat, read by `newsmon status` to tell whether it is alive."""

    __tablename__ = "daemon_state"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime]


class SourceDocument(Base):
    """Validators of the further documents a source reads (a feed its listing page announces,
    a sitemap index's children), for conditional requests; saved with the source's own."""

    __tablename__ = "source_documents"
    __table_args__ = (UniqueConstraint("source_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(64))


class RobotsTxt(Base):
    """A site's robots.txt as last fetched, reused by later crawls until `expires_at` (its
    Cache-Control max-age, at most 24 h): one request per site per day, not per poll."""

    __tablename__ = "robots_txt"

    host: Mapped[str] = mapped_column(String(300), primary_key=True)  # host[:port]
    body: Mapped[bytes | None] = mapped_column(LargeBinary)  # None: unreachable, allow all
    fetched_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class SkippedArticle(Base):
    """An article read but matching none of its source's topics: remembered (with its text) so
    it is not downloaded again while unchanged, and re-matched when the topics change."""

    __tablename__ = "skipped_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    authors: Mapped[list[str]] = mapped_column(default=list)
    published_at: Mapped[datetime | None]
    modified_at: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(16))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_fetched_at: Mapped[datetime | None]
    last_checked_at: Mapped[datetime | None]
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(64))


class Setting(Base):
    """Small facts newsmon keeps about itself, by name (the topic config's fingerprint)."""

    __tablename__ = "settings"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
