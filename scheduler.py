"""The daemon: when things run (APScheduler jobs built from config.yaml), the process that runs
them (further down: signals, reload, heartbeat), and what `newsmon status` reports (at the end).

The scheduling part only decides *when*. What a job does is handed in as `JobActions` (the daemon's
methods), so the schedule can be computed and tested without crawling anything.

Jobs: one `crawl:<source>` per source (its `every:` interval or `cron:` expression), one
`digest:<channel>` per digest channel, one `dispatch` for the alert outbox (pending deliveries and
retries) and one `heartbeat`. Every job has `max_instances=1` and `coalesce=True`, so a slow crawl
never overlaps itself and a backlog of missed runs collapses into one; `misfire_grace_time` skips a
run that is late by more than `daemon.misfire_grace` (a laptop waking up does not replay a day).

First runs follow the database, not the clock of the start: a source runs at its last run
(`Source.last_run_at`) plus its interval (cron: the next match after the last run). A source that
is overdue or was never crawled runs soon, at a random point within `daemon.jitter`, so a restart
spreads the sources instead of starting them all at once.
"""

from __future__ import annotations

import logging
import os
import random
import re
import signal
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from newsmon.alerts.dispatch import dispatch_pending, send_digests
from newsmon.clock import utcnow
from newsmon.config import Config, ConfigError, load_config
from newsmon.spiders.isolation import (
    DEFAULT_CRAWL_TARGET,
    STOP_GRACE,
    CrawlOutcome,
    CrawlRequest,
    resolve_crawl_target,
    run_crawl_in_child,
)
from newsmon.spiders.rematch import rematch_if_changed
from newsmon.storage import Database
from newsmon.storage import daemon as daemon_rows
from newsmon.storage.crawls import last_run_times, last_runs
from newsmon.storage.lock import DaemonLock
from newsmon.storage.models import CrawlRun

CRAWL_EXECUTOR = "crawls"  # crawls wait on child processes; their own pool keeps alerts flowing
MAX_PARALLEL_CRAWLS = 4
DISPATCH_JOB = "dispatch"
HEARTBEAT_JOB = "heartbeat"

_CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class JobActions:
    """What the jobs call; the daemon supplies these."""

    crawl: Callable[[str], None]  # source name
    digest: Callable[[str], None]  # digest channel name
    dispatch: Callable[[], None]
    heartbeat: Callable[[], None]


def crawl_job_id(source_name: str) -> str:
    return f"crawl:{source_name}"


def digest_job_id(channel_name: str) -> str:
    return f"digest:{channel_name}"


def crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field in APScheduler 3.x terms (names, not numbers).

    APScheduler 3.x numbers weekdays from Monday = 0, crontab from Sunday = 0 (and 7): "1-5" in a
    crontab means Monday to Friday, but APScheduler would read Tuesday to Saturday. Numbers and
    numeric ranges are therefore spelled out as day names; names and `*` are left alone.
    """
    days: list[str] = []
    for part in field.split(","):
        match = re.fullmatch(r"(\*|\d+)(?:-(\d+))?(?:/(\d+))?", part.strip())
        if not match or (match.group(1) == "*" and not match.group(3)):
            days.append(part)  # names (mon-fri), `*`, or something APScheduler will judge
            continue
        start = 0 if match.group(1) == "*" else int(match.group(1))
        end = 6 if match.group(1) == "*" else int(match.group(2) or start)
        step = int(match.group(3) or 1)
        if match.group(3) and not match.group(2) and match.group(1) != "*":
            end = 6  # "1/2": from Monday, every other day
        if not (0 <= start <= 7 and 0 <= end <= 7 and start <= end and step > 0):
            days.append(part)
            continue
        days.extend(_CRON_WEEKDAYS[day] for day in range(start, end + 1, step))
    return ",".join(dict.fromkeys(days))  # Sunday may appear as both 0 and 7


@dataclass(frozen=True)
class Schedule:
    """A source's or digest channel's schedule: an interval or a crontab expression (UTC)."""

    every: timedelta | None = None
    cron: str | None = None

    def __post_init__(self) -> None:
        if (self.every is None) == (self.cron is None):
            raise ValueError("a schedule has either `every` or `cron`")

    def trigger(self, jitter: timedelta = timedelta(0)) -> BaseTrigger:
        """The APScheduler trigger; each fire time gets a random delay in [0, jitter]."""
        seconds = jitter.total_seconds() or None
        if self.every is not None:
            return IntervalTrigger(seconds=self.every.total_seconds(), timezone=UTC, jitter=seconds)
        assert self.cron is not None
        minute, hour, day, month, weekday = self.cron.split()
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=crontab_weekdays(weekday),
            timezone=UTC,
            jitter=seconds,
        )

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after `moment`, without jitter."""
        if self.every is not None:
            return moment + self.every
        # cron fire times are whole seconds: look from the next second on
        start = moment.replace(microsecond=0) + timedelta(seconds=1)
        fire_time: datetime | None = self.trigger().get_next_fire_time(None, start)
        assert fire_time is not None  # a validated crontab always fires again
        return fire_time.astimezone(UTC)

    def describe(self) -> str:
        if self.cron is not None:
            return f"cron {self.cron}"
        assert self.every is not None
        return f"every {format_duration(self.every)}"


def format_duration(duration: timedelta) -> str:
    """15m, 1h30m, 2s: the way config.yaml writes durations."""
    seconds = int(duration.total_seconds())
    if seconds == 0:
        return f"{duration.total_seconds():g}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


def first_run_time(
    schedule: Schedule,
    last_run: datetime | None,
    now: datetime,
    jitter: timedelta,
    rng: random.Random,
) -> datetime:
    """When a job runs first after a (re)start: its next run after `last_run`; soon (within
    `jitter`) when that is past or there was no run yet."""
    spread = timedelta(seconds=rng.uniform(0, jitter.total_seconds()))
    if last_run is None:
        return now + spread
    due = schedule.next_after(last_run)
    return (now if due <= now else due) + spread


def source_schedules(config: Config) -> dict[str, Schedule]:
    return {s.name: Schedule(every=s.every, cron=s.cron) for s in config.sources}


def digest_schedules(config: Config) -> dict[str, Schedule]:
    return {
        channel.name: Schedule(every=channel.every, cron=channel.cron)
        for channel in config.alerts.channels
        if channel.mode == "digest"
    }


def planned_runs(
    config: Config, last_runs: Mapping[str, datetime], now: datetime
) -> dict[str, datetime]:
    """Source name -> when it is next due (before jitter), as the daemon plans it."""
    planned = {}
    for name, schedule in source_schedules(config).items():
        last = last_runs.get(name)
        planned[name] = schedule.next_after(last) if last is not None else now
    return planned


def create_scheduler() -> BackgroundScheduler:
    """An empty scheduler with a pool for crawls and one for everything else."""
    return BackgroundScheduler(
        timezone=UTC,
        executors={
            "default": ThreadPoolExecutor(4),
            CRAWL_EXECUTOR: ThreadPoolExecutor(MAX_PARALLEL_CRAWLS),
        },
    )


def add_jobs(
    scheduler: BackgroundScheduler,
    config: Config,
    actions: JobActions,
    last_runs: Mapping[str, datetime],
    last_digests: Mapping[str, datetime],
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> None:
    """(Re)create every job from the config; `last_runs` (source name -> last run start) and
    `last_digests` (channel -> last digest sent) come from the database."""
    now = now or datetime.now(UTC)
    rng = rng or random.Random()
    daemon = config.daemon
    options = {
        "max_instances": 1,
        "coalesce": True,
        "misfire_grace_time": max(1, int(daemon.misfire_grace.total_seconds())),
        "replace_existing": True,
    }
    for name, schedule in source_schedules(config).items():
        scheduler.add_job(
            actions.crawl,
            schedule.trigger(daemon.jitter),
            args=[name],
            id=crawl_job_id(name),
            name=f"crawl {name}",
            executor=CRAWL_EXECUTOR,
            next_run_time=first_run_time(schedule, last_runs.get(name), now, daemon.jitter, rng),
            **options,
        )
    for name, schedule in digest_schedules(config).items():
        last = last_digests.get(name)
        # a digest never sent waits for its first scheduled time rather than firing at start
        first = first_run_time(schedule, last or now, now, daemon.jitter, rng)
        scheduler.add_job(
            actions.digest,
            schedule.trigger(daemon.jitter),
            args=[name],
            id=digest_job_id(name),
            name=f"digest {name}",
            next_run_time=first,
            **options,
        )
    scheduler.add_job(
        actions.dispatch,
        IntervalTrigger(seconds=daemon.dispatch_every.total_seconds(), timezone=UTC),
        id=DISPATCH_JOB,
        name="dispatch alerts",
        next_run_time=now,  # deliveries left pending by the last run resume at once
        **options,
    )
    scheduler.add_job(
        actions.heartbeat,
        IntervalTrigger(seconds=daemon.heartbeat_every.total_seconds(), timezone=UTC),
        id=HEARTBEAT_JOB,
        name="heartbeat",
        next_run_time=now,
        **options,
    )


def replace_jobs(
    scheduler: BackgroundScheduler,
    config: Config,
    actions: JobActions,
    last_runs: Mapping[str, datetime],
    last_digests: Mapping[str, datetime],
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> None:
    """After a config reload: drop every job and build them again, exactly as at start.

    A crawl still running keeps going; its job id is reused, so the executor's instance count
    still stops the new job from overlapping it."""
    scheduler.remove_all_jobs()
    add_jobs(scheduler, config, actions, last_runs, last_digests, now, rng)


# === the daemon: the process that runs these jobs ================================================
#
# The daemon: a scheduler in a background thread, signals handled in the main thread.
#
# - Jobs (built above) run in APScheduler's thread pools: crawls start a child process each
#   and wait for it (spiders/isolation.py); alert dispatch, digests and the heartbeat are plain I/O
#   and run in the daemon itself.
# - SIGTERM / SIGINT: no new jobs start, a running crawl is sent SIGTERM and killed 25 s later if
#   still there, its run is recorded as interrupted; the daemon exits within 30 s. Every row is
#   written in a transaction, so a crawl cut at any point leaves no half-written rows.
# - SIGHUP: config.yaml is read again; a config that does not load is reported in one log line and
#   the running config is kept; a good one replaces every job (schedules recomputed from the
#   database, as at start).

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

    def __init__(
        self,
        config: Config,
        database: Database,
        options: DaemonOptions,
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
        self._rng = random.Random()
        self._scheduler = create_scheduler()
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
        with self.database.session() as session:
            orphans = daemon_rows.close_orphaned_runs(
                session, "interrupted: the daemon stopped during the crawl"
            )
            daemon_rows.beat(session, self.pid, self.host, self.started_at, utcnow())
        if orphans:
            log.warning("closed %d crawl run(s) left running by a previous daemon", orphans)
        self._rematch()
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
        self._rematch()
        replace_jobs(self._scheduler, config, self._actions, *self._last_times(), rng=self._rng)
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
        stopper = threading.Thread(
            target=self._scheduler.shutdown, kwargs={"wait": True}, daemon=True
        )
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

    def _last_times(self) -> tuple[dict[str, datetime], dict[str, datetime]]:
        digests = [c.name for c in self.config.alerts.channels if c.mode == "digest"]
        with self.database.session() as session:
            return last_run_times(session), daemon_rows.last_digest_times(session, digests)

    # --- jobs ------------------------------------------------------------------------------------

    def crawl(self, source_name: str) -> None:
        config = self.config
        source = next((s for s in config.sources if s.name == source_name), None)
        if source is None or self.stopping.is_set() or not self.active.is_set():
            return  # removed by a reload, stopping, or paused without the lock
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


def _has_running(session: Session, source_name: str) -> bool:
    run = last_runs(session).get(source_name)
    return run is not None and run.status == "running"


# === what `newsmon status` reports ==============================================================
#
# What `newsmon status` reports: is the daemon alive, each source's last and next run, the outbox.
#
# The next run is computed the way the daemon plans it (scheduler.planned_runs: last run + interval,
# or the next cron match after it), before the daemon's random jitter of up to `daemon.jitter`.

ALIVE_BEATS = 3  # the daemon is alive if its heartbeat is younger than 3 x heartbeat_every


@dataclass
class DaemonInfo:
    alive: bool
    pid: int | None = None
    host: str | None = None
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None

    def describe(self, now: datetime) -> str:
        if self.heartbeat_at is None:
            return "not running (no heartbeat in the database)"
        age = _ago(now, self.heartbeat_at)
        if self.alive:
            return (
                f"running (pid {self.pid} on {self.host}, up since "
                f"{_stamp(self.started_at)}, heartbeat {age})"
            )
        return f"not running (last heartbeat {age} from pid {self.pid} on {self.host}; it died)"


@dataclass
class SourceStatus:
    name: str
    schedule: str
    last_run: CrawlRun | None
    next_run: datetime | None  # None while the daemon is not running
    next_due: datetime  # when the schedule says it is due

    def to_dict(self) -> dict[str, Any]:
        run = self.last_run
        return {
            "source": self.name,
            "schedule": self.schedule,
            "last_run": None
            if run is None
            else {
                "id": run.id,
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at),
                "status": run.status,
                "requests": run.requests,
                "not_modified": run.not_modified,
                "new_articles": run.new_articles,
                "new_versions": run.new_versions,
                "duplicates": run.duplicates,
                "errors": run.errors,
                "error_counts": run.error_counts,
                "message": run.message,
            },
            "next_run": _iso(self.next_run),
            "next_due": _iso(self.next_due),
        }


@dataclass
class StatusReport:
    now: datetime
    database: str
    daemon: DaemonInfo
    sources: list[SourceStatus]
    outbox: daemon_rows.Outbox = field(default_factory=daemon_rows.Outbox)

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": _iso(self.now),
            "database": self.database,
            "daemon": {
                "alive": self.daemon.alive,
                "pid": self.daemon.pid,
                "host": self.daemon.host,
                "started_at": _iso(self.daemon.started_at),
                "heartbeat_at": _iso(self.daemon.heartbeat_at),
            },
            "sources": [source.to_dict() for source in self.sources],
            "outbox": {
                "pending": self.outbox.pending,
                "due": self.outbox.due,
                "failed": self.outbox.failed,
                "channels": {
                    name: {"pending": c.pending, "due": c.due, "failed": c.failed}
                    for name, c in sorted(self.outbox.channels.items())
                },
            },
        }


def collect_status(config: Config, database: Database, now: datetime | None = None) -> StatusReport:
    now = now or utcnow()
    with database.session() as session:
        state = daemon_rows.heartbeat(session)
        runs = last_runs(session)
        planned = planned_runs(config, last_run_times(session), now)
        outbox = daemon_rows.outbox(session, now)
    if state is None:
        info = DaemonInfo(alive=False)
    else:
        alive = now - state.beat_at < ALIVE_BEATS * config.daemon.heartbeat_every
        info = DaemonInfo(alive, state.pid, state.host, state.started_at, state.beat_at)
    sources = []
    for name, schedule in source_schedules(config).items():
        run = runs.get(name)
        due = planned[name]
        next_run = None
        if info.alive:
            next_run = now if run is not None and run.status == "running" else max(due, now)
        sources.append(SourceStatus(name, schedule.describe(), run, next_run, due))
    return StatusReport(now, database.safe_url, info, sources, outbox)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


def _stamp(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment is not None else "?"


def _ago(now: datetime, moment: datetime) -> str:
    return f"{describe_delta((now - moment).total_seconds())} ago"


def describe_delta(seconds: float) -> str:
    """3s, 4m, 2h05m, 3d: short, for a table."""
    seconds = abs(int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"
