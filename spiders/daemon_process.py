"""The daemon process: runs the schedule's jobs until SIGTERM or SIGINT.

- The timetable (scheduler.py: APScheduler) decides *when*; this module is what the jobs do and
  the process around them. Jobs run in the timetable's thread pools: a crawl runs in a child
  process of its own and the job waits for it (spiders/crawl_child.py); alert dispatch, digests
  and the heartbeat are plain I/O and run in the daemon itself.
- SIGTERM / SIGINT: no new jobs start, a running crawl is sent SIGTERM and killed 25 s later if
  still there, its run is recorded as interrupted; the daemon exits within 30 s. Every row is
  written in a transaction, so a crawl cut at any point leaves no half-written rows.
- SIGHUP: config.yaml is read again; a config that does not load is reported in one log line and
  the running config is kept; a good one replaces every job (schedules recomputed from the
  database, as at start).
- The heartbeat also checks the lock (one daemon per database): without it, or without the
  database, nothing is scheduled until both are back.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from newsmon.alerts.dispatch import dispatch_pending, send_digests
from newsmon.clock import utcnow
from newsmon.config import Config, ConfigError, load_config
from newsmon.spiders.crawl_engine import (
    DEFAULT_CRAWL_TARGET,
    STOP_GRACE,
    CrawlEngine,
    CrawlOutcome,
    EngineSettings,
    resolve_crawl_target,
)
from newsmon.spiders.poll_lag import PollLag
from newsmon.spiders.rematch import rematch_if_changed
from newsmon.storage import Database
from newsmon.storage import daemon as daemon_rows
from newsmon.storage.crawls import last_run_times, last_runs
from newsmon.storage.lock import DaemonLock
from newsmon.storage.models import CrawlRun


@dataclass(frozen=True)
class JobActions:
    """What the jobs call; the daemon supplies these."""

    crawl: Callable[[str], None]  # source name
    digest: Callable[[str], None]  # digest channel name
    dispatch: Callable[[], None]
    heartbeat: Callable[[], None]


class Timetable(Protocol):
    """When the jobs run (scheduler.py's APScheduler timetable); `last_runs` (source -> last
    run start) and `last_digests` (channel -> last digest sent) come from the database."""

    def start(
        self,
        config: Config,
        actions: JobActions,
        last_runs: Mapping[str, datetime],
        last_digests: Mapping[str, datetime],
    ) -> None:
        """Add every source's and digest's job, timed from the last runs, and start."""

    def replace(
        self,
        config: Config,
        actions: JobActions,
        last_runs: Mapping[str, datetime],
        last_digests: Mapping[str, datetime],
    ) -> None:
        """Replace every job with those of a reloaded config, timed from the last runs."""

    def shutdown(self) -> None:
        """No new jobs; wait for the running ones."""

    def due(self, config: Config, source_name: str, last_start: datetime) -> datetime:
        """When a source that last started at `last_start` is due again (before jitter)."""


log = logging.getLogger("newsmon.daemon")

STOP_DEADLINE = 28.0  # seconds from SIGTERM to exit, whatever is still running
PAUSED_LOG_EVERY = 60.0  # while paused without the lock, one log line a minute


@dataclass(frozen=True)
class DaemonOptions:
    config_path: Path
    crawl_target: str = DEFAULT_CRAWL_TARGET
    log_format: str = "text"
    log_level: int = logging.INFO


class Daemon:
    """Runs until SIGTERM or SIGINT; `run()` returns the exit status."""

    # runs left `running` at start were a dead daemon's (not so for the queue's scheduler role)
    closes_orphaned_runs = True

    def __init__(
        self,
        config: Config,
        database: Database,
        options: DaemonOptions,
        timetable: Timetable,
        lock: DaemonLock | None = None,
    ) -> None:
        resolve_crawl_target(options.crawl_target)  # fail at start, not at the first crawl
        self.config = config
        self.database = database
        self.lock = lock
        self._paused_logged = float("-inf")
        self._pause_reason: str | None = None
        self.options = options
        self.pid = os.getpid()
        self.host = socket.gethostname()
        self.started_at = utcnow()
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._signals: deque[int] = deque()
        self._timetable = timetable
        self._engine = CrawlEngine(
            EngineSettings(options.crawl_target, options.log_format, options.log_level)
        )
        self.lag = PollLag()
        self._drains: dict[str, threading.Thread] = {}  # channel -> its running drain
        self.active = threading.Event()  # set while this daemon holds its lock and database
        self.active.set()
        self._actions = JobActions(
            crawl=self.crawl, digest=self.digest, dispatch=self.dispatch, heartbeat=self.heartbeat
        )

    # --- life cycle ------------------------------------------------------------------------------

    def run(self) -> int:
        for stop_signal in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(stop_signal, self._on_signal)
        orphans = 0
        with self.database.session() as session:
            if self.closes_orphaned_runs:
                orphans = daemon_rows.close_orphaned_runs(
                    session, "interrupted: the daemon stopped during the crawl"
                )
            daemon_rows.beat(session, self.pid, self.host, self.started_at, utcnow())
        if orphans:
            log.warning("closed %d crawl run(s) left running by a previous daemon", orphans)
        self._rematch()
        self._timetable.start(self.config, self._actions, *self._last_times())
        log.info(
            "daemon started (pid %d) on %s: %d source(s), %d channel(s)",
            self.pid,
            self.database.safe_url,
            len(self.config.sources),
            len(self.config.alerts.channels),
        )
        while True:
            self._wake.wait(1.0)
            self._wake.clear()
            while self._signals:
                signum = self._signals.popleft()
                if signum == signal.SIGHUP:
                    self.reload()
                else:
                    log.info("%s received: stopping", signal.Signals(signum).name)
                    return self.shutdown()

    def _on_signal(self, signum: int, _frame: object) -> None:
        # only note it: the main loop acts outside the signal handler
        self._signals.append(signum)
        self._wake.set()

    def reload(self) -> None:
        path = self.options.config_path
        try:
            config = load_config(path)
        except ConfigError as exc:
            log.error("config reload failed, keeping the running config: %s", exc)
            return
        if config.storage.url != self.config.storage.url:
            log.error(
                "config reload: storage.url changed; restart the daemon to use another database "
                "(keeping the running config)"
            )
            return
        self.config = config
        self._rematch()
        self._timetable.replace(config, self._actions, *self._last_times())
        log.info(
            "config reloaded from %s: %d source(s), %d channel(s)",
            path,
            len(config.sources),
            len(config.alerts.channels),
        )

    def _rematch(self) -> None:
        """Topics, keywords or quantities changed: re-match what is stored and remembered."""
        report = rematch_if_changed(self.config, self.database)
        if report is not None:
            log.info("topic config changed: %s", report.describe())

    def shutdown(self) -> int:
        """Stop within STOP_DEADLINE: no new jobs, running crawls interrupted, heartbeat removed."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup
        self.stopping.set()

        def stop_jobs() -> None:
            self._engine.close(STOP_GRACE)  # its crawls close their runs as interrupted
            self._timetable.shutdown()

        stopper = threading.Thread(target=stop_jobs, daemon=True)
        stopper.start()
        stopper.join(STOP_DEADLINE)
        try:
            with self.database.session() as session:
                daemon_rows.clear_heartbeat(session, self.pid, self.host)
        except SQLAlchemyError:  # the database is away: `status` sees the heartbeat age instead
            log.warning("could not remove the heartbeat: the database is unreachable")
        if stopper.is_alive():
            log.error(
                "jobs still running after %gs; exiting without them (an alert being sent is "
                "sent again after its lease)",
                STOP_DEADLINE,
            )
            logging.shutdown()
            os._exit(1)  # worker threads would otherwise be joined at exit
        log.info("daemon stopped")
        return 0

    def close_engine(self) -> None:
        """Stop the crawl engine (a queue worker that runs `crawl` without `run`)."""
        self._engine.close(STOP_GRACE)

    def _last_times(self) -> tuple[dict[str, datetime], dict[str, datetime]]:
        digests = [c.name for c in self.config.alerts.channels if c.mode == "digest"]
        with self.database.session() as session:
            return last_run_times(session), daemon_rows.last_digest_times(session, digests)

    # --- jobs ------------------------------------------------------------------------------------

    def crawl(self, source_name: str, crawl_id: str | None = None) -> None:
        """One poll of `source_name`; `crawl_id` ties its log lines together (a queue worker
        keeps the one the scheduler logged when it enqueued the poll)."""
        config = self.config
        source = next((s for s in config.sources if s.name == source_name), None)
        if source is None or self.stopping.is_set() or not self.active.is_set():
            return  # removed by a reload, stopping, or paused without the lock
        crawl_id = crawl_id or uuid.uuid4().hex[:8]
        context = {"source": source_name, "crawl_id": crawl_id}
        started_at = utcnow()
        with self.database.session() as session:
            last_start = daemon_rows.last_run_at(session, source_name)
        # how late this poll starts: against its schedule, or the daemon's start if later
        if last_start is not None:
            due = max(self._timetable.due(config, source_name, last_start), self.started_at)
            self.lag.add((started_at - due).total_seconds())
        log.info("crawl started", extra=context)

        def close_left_runs(why: str) -> None:
            with self.database.session() as session:
                daemon_rows.close_running_runs(session, source_name, why)

        outcome = self._engine.poll(config, source_name, crawl_id, self.stopping, close_left_runs)
        with self.database.session() as session:
            # this source's latest run only: one index probe, not every source's
            run = last_runs(session, [source.name]).get(source.name)
            failure = _failure(outcome)
            if failure is None and run is not None and run.status == "running":
                failure = ("failed", "the crawl returned without finishing its run")
            if failure is not None:
                daemon_rows.record_crawl_outcome(
                    session, source.name, source.url, source.type, *failure, started_at
                )
                session.flush()
                session.expire_all()  # the rows were updated in bulk: read them again
                run = last_runs(session, [source.name]).get(source.name)
        self._log_crawl(context, outcome.seconds, run)

    def _log_crawl(self, context: dict[str, str], seconds: float, run: CrawlRun | None) -> None:
        if run is None:
            log.warning("crawl finished without a recorded run", extra=context)
            return
        counts = {
            "requests": run.requests,
            "new_articles": run.new_articles,
            "new_versions": run.new_versions,
            "duplicates": run.duplicates,
            "errors": run.errors,
        }
        level = logging.INFO if run.status == "ok" else logging.WARNING
        log.log(
            level,
            "crawl finished: %s, %d request(s), %d new article(s), %d new version(s), "
            "%d error(s) in %.1fs%s",
            run.status,
            run.requests,
            run.new_articles,
            run.new_versions,
            run.errors,
            seconds,
            f": {run.message}" if run.message else "",
            extra={
                **context,
                "run_id": run.id,
                "status": run.status,
                "counts": counts,
                "seconds": round(seconds, 2),
            },
        )

    def dispatch(self) -> None:
        """Start a drain for each instant channel that has none running: each channel sends
        in its own thread, so a slow one never delays another."""
        if not self.active.is_set():
            return
        for channel in self.config.alerts.channels:
            running = self._drains.get(channel.name)
            if channel.mode != "instant" or (running is not None and running.is_alive()):
                continue
            thread = threading.Thread(
                target=self._drain,
                args=(channel.name,),
                name=f"newsmon-drain-{channel.name}",
                daemon=True,
            )
            self._drains[channel.name] = thread
            thread.start()

    def _drain(self, channel_name: str) -> None:
        try:
            report = dispatch_pending(
                self.database, self.config, channels=[channel_name], stop=self.stopping
            )
        except SQLAlchemyError as exc:  # the heartbeat reports the database; one line here
            log.warning("alert dispatch via %s stopped: database error: %s", channel_name,
                        type(exc).__name__)  # fmt: skip
            return
        if report.sent or report.retried or report.failed:
            log.info(
                "alerts dispatched: %d sent, %d to retry, %d failed",
                report.sent,
                report.retried,
                report.failed,
                extra={"channel": channel_name},
            )

    def digest(self, channel_name: str) -> None:
        if not self.active.is_set():
            return  # paused: another daemon may be sending
        if not any(c.name == channel_name for c in self.config.alerts.channels):
            return  # removed by a reload
        report = send_digests(self.database, self.config, channel_name)
        if report.sent or report.retried or report.failed:
            log.info(
                "digest sent: %d alert(s), %d to retry, %d failed",
                report.sent,
                report.retried,
                report.failed,
                extra={"channel": channel_name},
            )

    def heartbeat(self) -> None:
        """Beat, and check that this daemon still holds its lock (PostgreSQL drops it with a
        lost connection): without it nothing is scheduled until it is held again."""
        problem = None
        try:
            if self.lock is not None and not self.lock.held():
                problem = "another daemon took the lock"
            else:
                with self.database.session() as session:
                    daemon_rows.beat(session, self.pid, self.host, self.started_at, utcnow())
        except SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or type(exc).__name__).strip().splitlines()
            problem = f"database unreachable ({detail[0] if detail else type(exc).__name__})"
        self._set_active(problem)
        self.warn_if_behind()

    def warn_if_behind(self) -> None:
        """A warning (at most once a minute) while the polls start later than `lag_warning`."""
        threshold = self.config.daemon.lag_warning.total_seconds()
        report = self.lag.behind(threshold, time.monotonic())
        if report is not None:
            log.warning(
                "falling behind: poll lag p95 %.0fs over the last %d poll(s) (lag_warning %gs); "
                "fewer or less frequent sources, or more polls_at_once, would help",
                report.p95,
                report.polls,
                threshold,
                extra={"lag_p95": round(report.p95, 1), "lag_max": round(report.max, 1)},
            )

    def _set_active(self, problem: str | None) -> None:
        now = time.monotonic()
        if problem is None:
            if not self.active.is_set():
                log.warning("database and lock held again: scheduling resumed")
                self.active.set()
            return
        if self.active.is_set():
            self.active.clear()
            log.error("%s: scheduling paused until the lock is held again", problem)
        elif problem != self._pause_reason or now - self._paused_logged >= PAUSED_LOG_EVERY:
            log.error("still paused: %s", problem)  # a new reason, or a minute since the last
        else:
            return
        self._pause_reason, self._paused_logged = problem, now


def _failure(outcome: CrawlOutcome) -> tuple[str, str] | None:
    """The (status, message) to record for a crawl that did not end on its own, else None."""
    if outcome.status == "ok":
        return None
    # a stop or a timeout cut the crawl short (nothing it listed is lost: the next run reads it)
    status = outcome.status if outcome.status in ("timeout", "interrupted") else "failed"
    return status, outcome.message or status
