"""Inside the crawl engine (spiders/crawl_engine.py): serve polls from the daemon's pipe in one
Twisted reactor that stays up, each poll one Scrapy crawler per source, with the extraction pool,
the database engine, the robots.txt cache and the concurrency budget shared by every poll.

Messages in: ("poll", id, config, (source, crawl id, timeout)) and ("stop", ...): finish the polls
in hand, then exit. Answers out: ("done", id, status, message), status ok | failed | timeout |
interrupted, or "tainted" (a poll function that could not be stopped still runs in a thread:
the daemon retires this engine). SIGTERM (the daemon stops): every crawl is stopped, its run
closed as interrupted, and the engine exits.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from newsmon.clock import utcnow
from newsmon.config import Config
from newsmon.spiders.crawl import (
    DUPLICATE_LOOKBACK,
    REACTOR,
    _note_close_reason,
    _quiet_scrapy_logs,
    close_jobs,
    crawl_settings,
    extraction_pool,
    open_jobs,
    select_sources,
    worker_count,
)
from newsmon.spiders.crawl_engine import (
    DEFAULT_CRAWL_TARGET,
    EngineSettings,
    resolve_crawl_target,
)
from newsmon.spiders.jobs import CrawlContext
from newsmon.spiders.poll import dispatch_after_crawl
from newsmon.spiders.robots import RobotsCache
from newsmon.spiders.simhash import SimhashIndex
from newsmon.spiders.sources import SPIDERS
from newsmon.spiders.throttle import ConcurrencyBudget
from newsmon.storage import Database
from newsmon.storage.crawl_state import cached_robots

log = logging.getLogger("newsmon.engine")

# after SIGTERM: what is still running then is answered as interrupted (the daemon kills the
# engine 25 s after its SIGTERM); crawlers close their runs themselves well within it
SCRAPY_STOP_GRACE = 20.0
FUNCTION_STOP_GRACE = 2.0  # a thread cannot be stopped: do not wait for it


class _Shared:
    """What every poll of this engine uses; built at the first poll, from its config (the
    daemon starts a fresh engine when the crawl or storage settings change)."""

    def __init__(self, config: Config) -> None:
        self.database = Database.open(config.storage.url, upgrade=False)
        # most of a daemon's polls answer 304 and read no page: its workers (~130 MB each)
        # start at the first page read, not with the engine
        self.pool = extraction_pool(worker_count(config), start_now=False)
        self.ingest_thread = ThreadPoolExecutor(1, thread_name_prefix="newsmon-ingest")
        now = utcnow()
        with self.database.session() as session:
            self.robots = RobotsCache(now, cached_robots(session, now))
        self.budget = ConcurrencyBudget(
            config.crawl.concurrency, config.crawl.concurrency_per_domain
        )

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.ingest_thread.shutdown(wait=True)
        self.database.dispose()


class PollServer:
    def __init__(self, settings: EngineSettings, conn: Connection, reactor: Any, process: Any):
        self.settings = settings
        self.conn = conn
        self.reactor = reactor
        self.process = process  # the CrawlerProcess whose reactor this is
        self.function: Callable[..., Any] | None = None
        if settings.target != DEFAULT_CRAWL_TARGET:
            self.function = resolve_crawl_target(settings.target)
        self.shared: _Shared | None = None
        self.config: Config | None = None  # the daemon sends it when it changes
        self.in_flight: set[int] = set()
        # per poll of the spiders in hand: cut its downloads (queued and in flight) at once
        self.cut_downloads: dict[int, Callable[[], None]] = {}
        self.stopping = False
        self.interrupted: int | None = None  # the signal that stopped the engine
        self._send_lock = threading.Lock()
        self.exit_code = 0

    # --- from the pipe ---------------------------------------------------------------------------

    def handle(self, message: tuple[Any, ...]) -> None:
        kind, poll_id, config, args = message
        if kind == "stop":
            self.stop(None)
            return
        if config is None:  # the same config as the poll before
            config = self.config
        self.config = config
        if self.stopping:
            self.answer(poll_id, "interrupted", "interrupted: the crawl engine was stopping")
            return
        source_name, crawl_id, timeout = args
        self.in_flight.add(poll_id)
        if self.function is not None:
            self._poll_function(poll_id, config, source_name, timeout)
        else:
            self._poll_scrapy(poll_id, config, source_name, timeout)

    def answer(self, poll_id: int, status: str, message: str | None) -> None:
        self.in_flight.discard(poll_id)
        self.cut_downloads.pop(poll_id, None)
        # the daemon may be gone: then there is no one to tell
        with self._send_lock, contextlib.suppress(OSError, ValueError):
            self.conn.send(("done", poll_id, status, message))
        self._maybe_exit()

    def stop(self, signum: int | None) -> None:
        """No new polls. A signal (the daemon stops) also stops the polls in hand: crawlers
        close their runs as interrupted; a poll function's module may have a `stop()` to call.
        What has not ended after a grace is answered as interrupted, and the engine exits."""
        self.stopping = True
        if signum is not None and self.interrupted is None:
            self.interrupted = signum
            # Scrapy's graceful stop would wait for every download handed to its downloader
            for cut_downloads in list(self.cut_downloads.values()):
                cut_downloads()
            self.process.stop()
            module_stop = getattr(
                sys.modules.get(self.settings.target.partition(":")[0]), "stop", None
            )
            if self.function is not None and callable(module_stop):
                module_stop()
            grace = SCRAPY_STOP_GRACE if self.function is None else FUNCTION_STOP_GRACE
            self.reactor.callLater(grace, self._abandon)
        self._maybe_exit()

    def _abandon(self) -> None:
        for poll_id in list(self.in_flight):
            self.answer(poll_id, "interrupted", "interrupted: the daemon stopped during the crawl")

    def _maybe_exit(self) -> None:
        if self.stopping and not self.in_flight and self.reactor.running:
            self.reactor.stop()

    def close(self) -> None:
        if self.shared is not None:
            self.shared.close()

    # --- a poll of the spiders, in this reactor ---------------------------------------------------

    def _poll_scrapy(self, poll_id: int, config: Config, source_name: str, timeout: float) -> None:
        from twisted.internet.defer import DeferredList
        from twisted.internet.threads import deferToThread

        if self.shared is None:
            self.shared = _Shared(config)
        shared = self.shared
        started_at = utcnow()
        shared.robots.now = started_at  # expiry of what this poll fetches
        deadline = time.time() + timeout
        timeout_message = f"stopped after the crawl timeout ({timeout:g}s)"
        context = CrawlContext(
            config,
            shared.database,
            shared.pool,
            shared.ingest_thread,
            SimhashIndex(since=started_at - DUPLICATE_LOOKBACK),
            started_at,
            shared.robots,
            shared.budget,
            deadline=deadline,
        )
        cut: list[str] = []
        crawlers: list[Any] = []
        self.cut_downloads[poll_id] = lambda: context.downloads.stop(crawlers)

        def crawl(opened: tuple[list[Any], set[int]]) -> Any:
            jobs, quiet = opened
            done = []
            for job in jobs:
                crawler = self.process.create_crawler(SPIDERS[job.source.type])
                crawler.signals.connect(_note_close_reason, signal=_spider_closed())
                crawlers.append(crawler)
                done.append(self.process.crawl(crawler, job=job))
            # at the deadline the downloads are cut too (PollDeadline), not `timeout` after
            # the jobs were opened
            timer = self.reactor.callLater(max(0.0, deadline - time.time()), on_timeout)
            finished = DeferredList(done, consumeErrors=True)

            def close(results: Any) -> Any:
                if timer.active():
                    timer.cancel()
                if not cut and not self.interrupted and time.time() >= deadline:
                    # its downloads ended at the deadline and the spiders closed before the
                    # timer fired: the same cut, so the same `timeout`, not `failed`
                    cut.append(timeout_message)
                for ok, failure in results if isinstance(results, list) else []:
                    if not ok:  # the spider did not run (its run says interrupted)
                        log.error(
                            "crawl crashed: %s",
                            failure.getErrorMessage(),
                            extra={"source": source_name, "exception": failure.getTraceback()},
                        )
                why = cut[0] if cut else _signal_cut(self.interrupted)
                return deferToThread(close_and_send, jobs, quiet, why)

            return finished.addBoth(close)

        def on_timeout() -> None:
            cut.append(timeout_message)
            for crawler in crawlers:
                _stop(crawler)

        def close_and_send(jobs: list[Any], quiet: set[int], why: str | None) -> str:
            reports = close_jobs(shared.database, config, jobs, quiet, why)
            for report in reports:
                report.signum = self.interrupted
            dispatch_after_crawl(shared.database, config, reports)
            return "timeout" if cut else ("interrupted" if self.interrupted else "ok")

        def answered(status: str) -> None:
            message = cut[0] if cut else None
            if status == "interrupted":
                message = "interrupted: the daemon stopped during the crawl"
            self.answer(poll_id, status, message)

        def crashed(failure: Any) -> None:
            error = failure.value
            if isinstance(error, MemoryError):
                self.exit_code = 3
                self.answer(poll_id, "oom", None)
                self.stop(None)  # memory is fragmented: a fresh engine takes over
                return
            log.error(
                "crawl crashed: %s",
                failure.getErrorMessage(),
                extra={"source": source_name, "exception": failure.getTraceback()},
            )
            self.answer(poll_id, "failed", f"crashed: {type(error).__name__}: {error}"[:500])

        sources = select_sources(config, [source_name])
        opened = deferToThread(open_jobs, context, sources)
        opened.addCallback(crawl)
        opened.addCallbacks(answered, crashed)

    # --- a poll function (tests), in a thread of this engine --------------------------------------

    def _poll_function(
        self, poll_id: int, config: Config, source_name: str, timeout: float
    ) -> None:
        assert self.function is not None
        function = self.function
        state = {"answered": False}

        def run() -> None:
            try:
                function(config, [source_name])
                outcome: tuple[str, str | None] = ("ok", None)
            except MemoryError:
                self.exit_code = 3
                outcome = ("failed", None)  # the daemon words it, with the memory limit
            except Exception as exc:  # a poll that raises ends only itself
                log.exception("crawl crashed", extra={"source": source_name})
                outcome = ("failed", f"crashed: {type(exc).__name__}: {exc}"[:500])
            self.reactor.callFromThread(finish, *outcome)

        def finish(status: str, message: str | None) -> None:
            if state["answered"]:
                return
            state["answered"] = True
            timer.cancel()
            if status == "failed" and message is None:
                self.answer(poll_id, "oom", None)
                self.stop(None)  # memory is fragmented: a fresh engine takes over
                return
            self.answer(poll_id, status, message)

        def on_timeout() -> None:
            # a thread cannot be stopped: answer, and have the daemon retire this engine
            state["answered"] = True
            self.answer(poll_id, "tainted", f"stopped after the crawl timeout ({timeout:g}s)")

        timer = self.reactor.callLater(timeout, on_timeout)
        threading.Thread(target=run, name=f"newsmon-poll-{poll_id}", daemon=True).start()


def _spider_closed() -> Any:
    from scrapy import signals

    return signals.spider_closed


def _stop(crawler: Any) -> None:
    from scrapy.utils.defer import deferred_from_coro

    deferred_from_coro(crawler.stop_async())


def _signal_cut(signum: int | None) -> str | None:
    # the engine is only signalled by its daemon, when that stops
    return None if signum is None else "interrupted: the daemon stopped during the crawl"


def serve(settings: EngineSettings, conn: Connection) -> int:
    """Run the reactor and answer polls until told to stop; the exit status."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.reactor import install_reactor

    config_holder: dict[str, Config] = {}
    first = conn.recv()  # the first poll: its config builds the Scrapy settings
    kind, _, config, _ = first
    if kind != "poll":
        return 0
    config_holder["config"] = config
    # the reactor Scrapy is configured for, before anything imports the default one
    install_reactor(REACTOR)
    process = CrawlerProcess(crawl_settings(config))
    _quiet_scrapy_logs()
    from twisted.internet import reactor

    server = PollServer(settings, conn, reactor, process)

    def read() -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):  # the daemon is gone
                reactor.callFromThread(server.stop, signal.SIGTERM)
                return
            reactor.callFromThread(server.handle, message)

    signal.signal(
        signal.SIGTERM,
        lambda signum, _frame: reactor.callFromThread(server.stop, signum),
    )
    reactor.callWhenRunning(server.handle, first)
    threading.Thread(target=read, name="newsmon-engine-pipe", daemon=True).start()
    process.start(stop_after_crawl=False, install_signal_handlers=False)
    server.close()
    return server.exit_code
