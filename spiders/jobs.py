"""What the spiders of one crawl share, and what one source's spider carries."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime

from newsmon.config import Config, Source
from newsmon.spiders.robots import RobotsCache
from newsmon.spiders.simhash import SimhashIndex
from newsmon.spiders.stopping import Downloads
from newsmon.spiders.throttle import ConcurrencyBudget
from newsmon.storage import Database
from newsmon.storage.crawls import RunCounts


@dataclass
class CrawlContext:
    """One crawl: shared by every source's spider and the pipeline (passed, never global)."""

    config: Config
    database: Database
    pool: Executor  # processes: extraction
    ingest_thread: Executor  # one thread: the ingest step, so DB work never blocks the reactor
    duplicates: SimhashIndex
    started_at: datetime
    robots: RobotsCache
    budget: ConcurrencyBudget
    on_progress: Callable[[SourceJob], None] | None = None
    refetch: bool = False  # ignore stored validators (source documents and articles) once
    explain: bool = False  # say, per article, what was decided and why
    deadline: float | None = None  # time.time() by which a daemon poll must end (deadline.py)
    # article URLs some source already requested in this crawl: two sources listing the same
    # article (a feed and a sitemap) cost one download
    requested: set[str] = field(default_factory=set)
    downloads: Downloads = field(default_factory=Downloads)  # cut at once by a stop signal


@dataclass
class SourceJob:
    """One source in one crawl: its config, its rows, and the counts its run record gets."""

    source: Source
    source_id: int
    run_id: int
    context: CrawlContext
    etag: str | None = None  # validators stored from the previous crawl
    last_modified: str | None = None
    previous_run_at: datetime | None = None  # child sitemaps unchanged since are not re-read
    counts: RunCounts = field(default_factory=RunCounts)
    new_etag: str | None = None  # validators of this crawl's 200 answer, saved at the end
    new_last_modified: str | None = None
    validators_changed: bool = False
    # validators of documents the source led to (announced feeds, child sitemaps): as stored,
    # and as this crawl's 200 answers gave them (saved, like the source's, if it finished)
    documents: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    new_documents: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    failed: str | None = None  # why the source document itself could not be read
    first_error: str | None = None
    # Scrapy's reason when the spider closed: "finished" means every request it made was
    # answered and every item stored (or failed for a reason counted in `counts`)
    closed_reason: str | None = None
    # `crawl --explain`: (article id, lines) per article read
    explanations: list[tuple[int | None, list[str]]] = field(default_factory=list)
    quiet: bool = False  # a baseline crawl of this source: no per-figure alerts
    # the crawl's bounds (crawl.max_articles_per_source, max_sitemap_children): what this
    # source used, and what it left for the next crawl (then its run is `limited`)
    articles_requested: int = 0
    sitemap_children: int = 0
    left: int = 0

    @property
    def complete(self) -> bool:
        return self.closed_reason == "finished"

    def progress(self) -> None:
        if self.context.on_progress is not None:
            self.context.on_progress(self)
