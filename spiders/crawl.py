"""`run_crawl`: run configured sources once, now, end to end, in this process.

It starts a Twisted reactor (Scrapy's default, asyncio-based `AsyncioSelectorReactor`), which can
run only once per process: the daemon calls this in a child process. Article reading runs in a
process pool (forkserver: workers are forked from a clean process that has imported the readers,
never from this one with its reactor threads), sized by `crawl.extract_workers` or the cores.
"""

from __future__ import annotations

import difflib
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

# imported here, not lazily by the first download: deep in the reactor's stack, the deprecation
# shims of Scrapy's TLS modules call inspect.stack(), which reads the source of every frame
# (~0.4 s of the crawl process's CPU, per crawl)
import scrapy.core.downloader.handlers.http11  # noqa: F401
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiders import Spider

from newsmon.alerts.assess import assess_sources
from newsmon.clock import utcnow
from newsmon.config import Config, ConfigError, Source
from newsmon.spiders.collector import fewer_collections
from newsmon.spiders.interruption import Interruption, handle_stop_signals
from newsmon.spiders.jobs import CrawlContext, SourceJob
from newsmon.spiders.lifeline import start_worker
from newsmon.spiders.robots import RobotsCache
from newsmon.spiders.simhash import SimhashIndex
from newsmon.spiders.sources import SPIDERS
from newsmon.spiders.throttle import ConcurrencyBudget
from newsmon.storage import Database
from newsmon.storage import articles as article_rows
from newsmon.storage.crawl_state import (
    cached_robots,
    document_validators,
    save_document_validators,
    save_robots,
)
from newsmon.storage.crawls import (
    RunCounts,
    ensure_source,
    finish_run,
    first_crawl_sources,
    last_complete_run_at,
    mark_first_crawl_done,
    start_run,
)
from newsmon.storage.db import DryRunDatabase

DUPLICATE_LOOKBACK = timedelta(days=30)  # copies are looked for among articles this recent
REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
STOPPABLE_HANDLER = "newsmon.spiders.stopping.StoppableDownloadHandler"


@dataclass
class SourceReport:
    source: str
    run_id: int
    status: str  # ok | failed | interrupted
    counts: RunCounts
    message: str | None
    signum: int | None = None  # the signal that interrupted the crawl
    explanations: list[list[str]] = field(default_factory=list)  # `crawl --explain`
    baseline: bool = False  # stored as a quiet baseline: no per-figure alerts


def select_sources(config: Config, names: Sequence[str] | None) -> list[Source]:
    """The named sources (all when None), in config order; an unknown name is a ConfigError."""
    if not names:
        return list(config.sources)
    known = [source.name for source in config.sources]
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
            raise ConfigError(f"unknown source {name!r}{hint}")
    return [source for source in config.sources if source.name in set(names)]


def crawl_settings(config: Config) -> Settings:
    crawl = config.crawl
    delay = crawl.download_delay.total_seconds()
    return Settings(
        {
            "BOT_NAME": "newsmon",
            "USER_AGENT": crawl.user_agent,
            "ROBOTSTXT_OBEY": crawl.obey_robots,
            "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
            "AUTOTHROTTLE_START_DELAY": max(delay, 1.0),
            "AUTOTHROTTLE_MAX_DELAY": 60.0,
            "AUTOTHROTTLE_TARGET_CONCURRENCY": float(crawl.concurrency_per_domain),
            "CONCURRENT_REQUESTS": crawl.concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_domain,
            "DOWNLOAD_DELAY": delay,
            "DOWNLOAD_TIMEOUT": crawl.timeout.total_seconds(),
            "DNS_TIMEOUT": crawl.timeout.total_seconds(),
            "RETRY_ENABLED": crawl.retries > 0,
            "RETRY_TIMES": crawl.retries,
            "DOWNLOAD_MAXSIZE": crawl.max_size,
            "DOWNLOAD_WARNSIZE": 0,
            "REDIRECT_MAX_TIMES": crawl.max_redirects,
            "HTTPCACHE_ENABLED": False,  # conditional requests, not a cache, save bandwidth
            "COOKIES_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "ERROR",
            "LOG_INSTALL_ROOT_HANDLER": False,  # the caller (CLI, daemon) owns logging
            "LOGSTATS_INTERVAL": 0,
            "STATS_DUMP": False,
            "TWISTED_REACTOR": REACTOR,
            # Scrapy's HTTP/1.1 handler, its downloads cancellable by a stop signal (stopping.py)
            "DOWNLOAD_HANDLERS": {"http": STOPPABLE_HANDLER, "https": STOPPABLE_HANDLER},
            "ITEM_PIPELINES": {"newsmon.spiders.pipeline.ArticlePipeline": 300},
            # items per response processed in parallel: an article page yields one item, and
            # Scrapy starts this many asyncio tasks per response (100 by default)
            "CONCURRENT_ITEMS": 1,
            # robots.txt once per site for all sources (Scrapy's is per crawler = per source);
            # after robots.txt (100) and retries (550): counts what really goes on the wire;
            # last, next to the downloader: the crawl-wide and per-site concurrency budget
            # what does nothing for newsmon, but runs per request, response or item in the
            # crawl process (whose CPU bounds the crawl, docs/crawling.md): Scrapy's stats
            # (newsmon counts in its run records), the Referer header, depth tracking (the
            # sitemap depth is newsmon's own), meta-refresh parsing of every page body (feeds,
            # sitemaps and articles redirect with HTTP), HTTP auth, the memory watchdog
            "STATS_CLASS": "scrapy.statscollectors.DummyStatsCollector",
            "MEMUSAGE_ENABLED": False,
            "REFERER_ENABLED": False,
            "METAREFRESH_ENABLED": False,
            "EXTENSIONS": {
                "scrapy.extensions.corestats.CoreStats": None,
                "scrapy.extensions.logcount.LogCount": None,
                "scrapy.extensions.spiderstate.SpiderState": None,
                "scrapy.extensions.remote_control.RemoteControl": None,
            },
            "SPIDER_MIDDLEWARES": {
                "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
                "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
                "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
            },
            "DOWNLOADER_MIDDLEWARES": {
                # off with COOKIES_ENABLED already, but listed it is imported (tldextract with
                # it, ~0.1 s of every crawl) before it says it is not configured
                "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
                "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
                "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
                "scrapy.downloadermiddlewares.stats.DownloaderStats": None,
                "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
                "newsmon.spiders.robots.SharedRobotsTxtMiddleware": 100,
                # first: a refused request costs no robots.txt either; a redirect comes back
                # through it as a new request, so every hop is checked
                "newsmon.spiders.reach.AddressGuard": 50,
                "newsmon.spiders.pipeline.RequestCounter": 950,
                "newsmon.spiders.throttle.SharedConcurrency": 990,
                # after waiting for a slot: the time a daemon poll has left caps the download
                "newsmon.spiders.deadline.PollDeadline": 995,
            },
        }
    )


def worker_count(config: Config) -> int:
    return config.crawl.extract_workers or os.cpu_count() or 1


def extraction_pool(workers: int, *, start_now: bool = True) -> ProcessPoolExecutor:
    """The crawl's extraction workers; `start_now=False` leaves them to the first page read."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["newsmon.spiders.reading"])
    # workers watch this process and exit with it (spiders/lifeline.py): no debris after kill -9
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=start_worker, initargs=(os.getpid(),)
    )
    # the pool would start its workers at the first page read, which then waits ~2 s (the
    # forkserver's imports, each worker's warm-up) with the cores idle: started now, that
    # overlaps the crawl's own start (migration check, Scrapy, the source documents)
    if start_now:
        threading.Thread(
            target=_start_workers, args=(pool, workers), name="newsmon-pool-start", daemon=True
        ).start()
    return pool


def _start_workers(pool: ProcessPoolExecutor, workers: int) -> None:
    """Make the pool start its workers: it starts one per task submitted while none is idle."""
    try:
        for _ in range(workers):
            pool.submit(os.getpid)
    except RuntimeError:  # shut down already (a crawl over before its workers were up)
        return


def _quiet_scrapy_logs() -> None:
    # errors are counted and logged once by newsmon, with the URL; Scrapy would log them again
    logging.getLogger("scrapy").setLevel(logging.ERROR)
    logging.getLogger("scrapy.downloadermiddlewares.retry").setLevel(logging.CRITICAL)
    logging.getLogger("scrapy.core.downloader.handlers.http11").setLevel(logging.CRITICAL)
    # a robots.txt that cannot be fetched fails the source request too, which newsmon counts
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").setLevel(logging.CRITICAL)


# its setup (Scrapy's components, the database) and closing (alerts) collect less too
@fewer_collections()
def run_crawl(
    config: Config,
    source_names: Sequence[str] | None = None,
    *,
    show_progress: bool = False,
    on_progress: Callable[[SourceJob], None] | None = None,
    refetch: bool = False,
    explain: bool = False,
    dry_run: bool = False,
    baseline: bool = False,
) -> list[SourceReport]:
    """Run the named (default: all) sources once; one CrawlRun per source. Once per process.
    `refetch`: ignore stored validators this once (every listed article is downloaded).
    `explain`: each report lists, per article, what was decided and why. `dry_run`: every
    transaction is rolled back: decided as usual, nothing kept (runs included).
    `baseline`: store every source's articles as a quiet baseline (as a first crawl is)."""
    sources = select_sources(config, source_names)
    opened = Database.open(config.storage.url)  # migrated: a dry run reads the real schema
    database = DryRunDatabase(config.storage.url) if dry_run else opened
    if dry_run:
        opened.dispose()
    started_at = utcnow()
    pool = extraction_pool(worker_count(config))
    ingest_thread = ThreadPoolExecutor(1, thread_name_prefix="newsmon-ingest")
    with database.session() as session:
        robots = RobotsCache(started_at, cached_robots(session, started_at))
    budget = ConcurrencyBudget(config.crawl.concurrency, config.crawl.concurrency_per_domain)
    context = CrawlContext(
        config,
        database,
        pool,
        ingest_thread,
        SimhashIndex(since=started_at - DUPLICATE_LOOKBACK),  # in the database
        started_at,
        robots,
        budget,
        on_progress,
        refetch=refetch,
        explain=explain,
    )
    jobs, quiet = open_jobs(context, sources, baseline)
    interruption = Interruption()
    crash: BaseException | None = None
    try:
        process = CrawlerProcess(crawl_settings(config))
        _quiet_scrapy_logs()  # after: Scrapy's own logging setup resets its loggers' levels
        for job in jobs:
            crawler = process.create_crawler(SPIDERS[job.source.type])
            crawler.signals.connect(_note_close_reason, signal=signals.spider_closed)
            process.crawl(crawler, job=job)
        with (
            _progress(jobs, context, show_progress),
            handle_stop_signals(interruption, lambda: _stop(process, context), _stop_reactor),
        ):
            process.start(install_signal_handlers=False)
    except BaseException as exc:  # recorded below as an interruption, then re-raised
        crash = exc
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        ingest_thread.shutdown(wait=True)
        cut = _why_cut(interruption, crash)
        reports = close_jobs(database, config, jobs, quiet, cut, crashed=crash is not None)
        for report in reports:
            report.signum = interruption.signum
        database.dispose()
    return reports


def open_jobs(
    context: CrawlContext, sources: Sequence[Source], baseline: bool = False
) -> tuple[list[SourceJob], set[int]]:
    """Start a run for each source (rows written: call it off the reactor thread); the jobs,
    and the ids of the sources stored as a quiet baseline."""
    jobs = []
    database, refetch = context.database, context.refetch
    with database.session() as session:
        for source in sources:
            row = ensure_source(session, source.name, source.url, source.type)
            # the last run that read everything: a run cut short must not hide what it left
            previous_run_at = last_complete_run_at(session, row.id)
            run = start_run(session, row, context.started_at)
            etag, modified = (None, None) if refetch else (row.etag, row.last_modified)
            job = SourceJob(source, row.id, run.id, context, etag, modified, previous_run_at)
            if not refetch:
                job.documents = document_validators(session, row.id)
            jobs.append(job)
    quiet = _quiet_sources(database, context.config, [job.source_id for job in jobs], baseline)
    for job in jobs:
        job.quiet = job.source_id in quiet
    return jobs, quiet


def close_jobs(
    database: Database,
    config: Config,
    jobs: list[SourceJob],
    quiet: set[int],
    cut: str | None = None,
    crashed: bool = False,
) -> list[SourceReport]:
    """Close the runs and decide the alerts (rows written: call it off the reactor thread).
    `cut`: why the crawl was stopped, for the sources it cut short; `crashed`: nothing it
    did counts as complete."""
    reports = _finish(database, jobs, cut, crashed)
    _assess(database, config, jobs, quiet, reports)
    return reports


def _note_close_reason(spider: Spider, reason: str) -> None:
    spider.job.closed_reason = reason  # type: ignore[attr-defined]


def _stop(process: CrawlerProcess, context: CrawlContext) -> None:
    """The first stop signal: Scrapy's graceful stop, without waiting for the queued downloads."""
    context.downloads.stop(process.crawlers)
    process.stop()


def _stop_reactor() -> None:
    from twisted.internet import reactor

    if reactor.running:
        # twisted declares interface methods without self, which mypy reads without zope's plugin
        reactor.stop()  # type: ignore[misc]


def _quiet_sources(
    database: Database, config: Config, source_ids: list[int], baseline: bool
) -> set[int]:
    """The sources whose articles this crawl stores as a quiet baseline."""
    if baseline:
        return set(source_ids)
    if config.alerts.first_crawl != "baseline":
        return set()
    with database.session() as session:
        return first_crawl_sources(session, source_ids)


def _assess(
    database: Database,
    config: Config,
    jobs: list[SourceJob],
    quiet: set[int],
    reports: list[SourceReport],
) -> None:
    """Decide the crawl's alerts, in publication order; a source whose run went through has
    had its first crawl (a failed one gets its baseline next time)."""
    assess_sources(database, config, [job.source_id for job in jobs], quiet)
    # a run cut short has not had its first crawl: its baseline goes on next time
    done = [job.source_id for job in jobs if job.failed is None and job.complete and not job.left]
    with database.session() as session:
        mark_first_crawl_done(session, done, utcnow())
    for job, report in zip(jobs, reports, strict=True):
        report.baseline = job.source_id in quiet
    if not database.dry_run:  # a dry run decided its alerts as it stored (nothing was kept)
        _explain_alerts(database, jobs, reports)


def _explain_alerts(database: Database, jobs: list[SourceJob], reports: list[SourceReport]) -> None:
    """`--explain`: the alerts each explained article raised, decided after the crawl."""
    ids = [article_id for job in jobs for article_id, _ in job.explanations if article_id]
    if not ids:
        return
    with database.session() as session:
        raised = article_rows.alerts_by_article(session, ids)
    for job in jobs:
        for article_id, lines in job.explanations:
            for kind, quantity in raised.get(article_id or -1, []):
                lines.append(f"  alert: {kind} {quantity}")


def _finish(
    database: Database, jobs: list[SourceJob], cut: str | None, crashed: bool
) -> list[SourceReport]:
    """Close each source's run. A source's validators are saved only when its spider finished
    (everything it listed was stored or failed for a counted reason): a source cut short is
    read in full next time, and the articles it did store are not downloaded again."""
    reports = []
    with database.session() as session:
        if jobs:  # what the cache fetched since its last save (a long-lived engine's is shared)
            fetched = jobs[0].context.robots.fetched
            batch = dict(fetched.popitem() for _ in range(len(fetched)))
            save_robots(session, batch, utcnow())
        for job in jobs:
            complete = job.complete and not crashed
            keep = not database.dry_run  # a dry run's rows (runs, sources) were never kept
            # a limited source is read again next time for what it left
            save = complete and not job.left
            if keep and save and job.validators_changed and job.failed is None:
                article_rows.save_source_validators(
                    session, job.source_id, job.new_etag, job.new_last_modified
                )
            if keep and save and not job.failed and (job.new_documents or job.context.refetch):
                # documents answered 304 keep their validators; new answers replace them
                save_document_validators(
                    session, job.source_id, {**job.documents, **job.new_documents}
                )
            message: str | None
            if job.failed:
                status, message = "failed", job.failed
            elif not complete:
                status, message = "interrupted", cut or f"interrupted: {job.closed_reason}"
            elif job.left:
                status, message = "limited", f"limited: {job.left} left for the next crawl"
            else:
                status, message = "ok", job.first_error
            if keep:
                finish_run(session, job.run_id, job.counts, status, message)
            report = SourceReport(job.source.name, job.run_id, status, job.counts, message)
            report.explanations = [lines for _, lines in job.explanations]
            reports.append(report)
    return reports


def _why_cut(interruption: Interruption, crash: BaseException | None) -> str | None:
    if interruption.signum is not None:
        return f"interrupted by {signal.Signals(interruption.signum).name}"
    if isinstance(crash, KeyboardInterrupt):
        return "interrupted by SIGINT"
    if crash is not None:
        return f"interrupted: crashed: {type(crash).__name__}: {crash}"[:500]
    return None


@contextmanager
def _progress(jobs: list[SourceJob], context: CrawlContext, show: bool) -> Iterator[None]:
    """A Rich progress display, one line per source, updated as requests and articles finish."""
    if not show:
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True
    ) as progress:
        tasks = {id(job): progress.add_task(job.source.name, total=None) for job in jobs}
        chained = context.on_progress

        def update(job: SourceJob) -> None:
            counts = job.counts
            progress.update(
                tasks[id(job)],
                description=f"{job.source.name}: {counts.requests} requests, "
                f"{counts.new_articles} new, {counts.new_versions} revised, "
                f"{counts.errors} errors",
            )
            if chained is not None:
                chained(job)

        context.on_progress = update
        try:
            yield
        finally:
            context.on_progress = chained
