"""The daemon: a scheduler in a background thread, signals handled in the main thread.

- Jobs (see scheduler.py) run in APScheduler's thread pools: crawls start a child process each
  and wait for it (daemon/isolation.py); alert dispatch, digests and the heartbeat are plain I/O
  and run in the daemon itself.
- SIGTERM / SIGINT: no new jobs start, a running crawl is sent SIGTERM and killed 25 s later if
  still there, its run is recorded as interrupted; the daemon exits within 30 s. Every row is
  written in a transaction, so a crawl cut at any point leaves no half-written rows.
- SIGHUP: config.yaml is read again; a config that does not load is reported in one log line and
  the running config is kept; a good one replaces every job (schedules recomputed from the
  database, as at start).
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from alerts.dispatch import dispatch_pending, send_digests
from config import Config, ConfigError, load_config
from daemon.isolation import (
    DEFAULT_CRAWL_TARGET,
    STOP_GRACE,
    CrawlOutcome,
    CrawlRequest,
    resolve_crawl_target,
    run_crawl_in_child,
)
from scheduler import JobActions, add_jobs, create_scheduler, replace_jobs
from storage import Database
from storage import daemon as daemon_rows
from storage.crawls import last_run_times, last_runs
from storage.models import CrawlRun, utcnow

log = logging.getLogger("newsmon.daemon")

STOP_DEADLINE = 28.0  # seconds from SIGTERM to exit, whatever is still running


@dataclass(frozen=True)
class DaemonOptions:
    config_path: Path
    crawl_target: str = DEFAULT_CRAWL_TARGET
    log_format: str = "text"
    log_level: int = logging.INFO


class Daemon:
    """Runs until SIGTERM or SIGINT; `run()` returns the exit status."""

    def __init__(self, config: Config, database: Database, options: DaemonOptions) -> None:
        resolve_crawl_target(options.crawl_target)  # fail at start, not at the first crawl
        self.config = config
        self.database = database
        self.options = options
        self.pid = os.getpid()
        self.host = socket.gethostname()
        self.started_at = utcnow()
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._signals: deque[int] = deque()
        self._rng = random.Random()
        self._scheduler = create_scheduler()
        self._actions = JobActions(
            crawl=self.crawl, digest=self.digest, dispatch=self.dispatch, heartbeat=self.heartbeat
        )

    # --- life cycle ------------------------------------------------------------------------------

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        with self.database.session() as session:
            orphans = daemon_rows.close_orphaned_runs(
                session, "interrupted: the daemon stopped during the crawl"
            )
            daemon_rows.beat(session, self.pid, self.host, self.started_at, utcnow())
        if orphans:
            log.warning("closed %d crawl run(s) left running by a previous daemon", orphans)
        add_jobs(self._scheduler, self.config, self._actions, *self._last_times(), rng=self._rng)
        self._scheduler.start()
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
        replace_jobs(self._scheduler, config, self._actions, *self._last_times(), rng=self._rng)
        log.info(
            "config reloaded from %s: %d source(s), %d channel(s)",
            path,
            len(config.sources),
            len(config.alerts.channels),
        )

    def shutdown(self) -> int:
        """Stop within STOP_DEADLINE: no new jobs, running crawls interrupted, heartbeat removed."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup
        self.stopping.set()
        stopper = threading.Thread(
            target=self._scheduler.shutdown, kwargs={"wait": True}, daemon=True
        )
        stopper.start()
        stopper.join(STOP_DEADLINE)
        with self.database.session() as session:
            daemon_rows.clear_heartbeat(session, self.pid, self.host)
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

    def _last_times(self) -> tuple[dict[str, datetime], dict[str, datetime]]:
        digests = [c.name for c in self.config.alerts.channels if c.mode == "digest"]
        with self.database.session() as session:
            return last_run_times(session), daemon_rows.last_digest_times(session, digests)

    # --- jobs ------------------------------------------------------------------------------------

    def crawl(self, source_name: str) -> None:
        config = self.config
        source = next((s for s in config.sources if s.name == source_name), None)
        if source is None or self.stopping.is_set():
            return  # removed by a reload, or stopping
        crawl_id = uuid.uuid4().hex[:8]
        context = {"source": source_name, "crawl_id": crawl_id}
        started_at = utcnow()
        log.info("crawl started", extra=context)
        outcome = run_crawl_in_child(
            CrawlRequest(
                config=config,
                source_name=source_name,
                crawl_id=crawl_id,
                target=self.options.crawl_target,
                log_format=self.options.log_format,
                log_level=self.options.log_level,
            ),
            self.stopping,
            timeout=config.daemon.crawl_timeout.total_seconds(),
            memory_limit=config.daemon.crawl_memory_limit,
            stop_grace=STOP_GRACE,
        )
        with self.database.session() as session:
            failure = _failure(outcome)
            if failure is None and _has_running(session, source.name):
                failure = ("failed", "the crawl returned without finishing its run")
            if failure is not None:
                daemon_rows.record_crawl_outcome(
                    session, source.name, source.url, source.type, *failure, started_at
                )
            run = last_runs(session).get(source.name)
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
        report = dispatch_pending(self.database, self.config)
        if report.sent or report.retried or report.failed:
            log.info(
                "alerts dispatched: %d sent, %d to retry, %d failed",
                report.sent,
                report.retried,
                report.failed,
            )

    def digest(self, channel_name: str) -> None:
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
        with self.database.session() as session:
            daemon_rows.beat(session, self.pid, self.host, self.started_at, utcnow())


def _failure(outcome: CrawlOutcome) -> tuple[str, str] | None:
    """The (status, message) to record for a crawl that did not end on its own, else None."""
    if outcome.status == "ok":
        return None
    status = "timeout" if outcome.status == "timeout" else "failed"
    return status, outcome.message or status


def _has_running(session: Session, source_name: str) -> bool:
    run = last_runs(session).get(source_name)
    return run is not None and run.status == "running"
