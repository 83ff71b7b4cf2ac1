"""The schedule: when the daemon's jobs run (APScheduler jobs built from config.yaml), and the
daemon's entry point (`run_daemon`); what the jobs do is the daemon process's
(spiders/daemon_process.py), handed in as `JobActions`, so the schedule can be computed and tested
without crawling anything.

Jobs: one `crawl:<source>` per source (its `every:` interval or `cron:` expression), one
`digest:<channel>` per digest channel, one `dispatch` for the alert outbox (pending deliveries and
retries) and one `heartbeat`. Every job has `max_instances=1` and `coalesce=True`, so a slow crawl
never overlaps itself and a backlog of missed runs collapses into one; `misfire_grace_time` skips a
run that is late by more than `daemon.misfire_grace` (a laptop waking up does not replay a day).

First runs follow the database, not the clock of the start: a source runs at its last run
(`Source.last_run_at`) plus its interval (cron: the next match after the last run). A source that
is overdue or was never crawled runs soon, at a random point within `daemon.jitter`, so a restart
spreads the sources instead of starting them all at once.

`collect_status` is `newsmon status`'s report: what storage/status.py reads, plus when each
source runs next as this schedule plans it (before jitter).
"""

from __future__ import annotations

import logging
import random
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from newsmon.clock import utcnow
from newsmon.config import Config
from newsmon.spiders.daemon_process import Daemon, DaemonOptions, JobActions
from newsmon.storage import Database
from newsmon.storage.lock import DaemonLock
from newsmon.storage.status import StatusReport, read_status

log = logging.getLogger("newsmon.daemon")

STANDBY_RETRY = 2.0  # seconds between a standby scheduler's tries for the lock
CRAWL_EXECUTOR = "crawls"  # crawls wait on child processes; their own pool keeps alerts flowing
MAX_PARALLEL_CRAWLS = 16  # polls at once (daemon.polls_at_once)
DISPATCH_JOB = "dispatch"
HEARTBEAT_JOB = "heartbeat"

_CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


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


def create_scheduler(polls_at_once: int = MAX_PARALLEL_CRAWLS) -> BackgroundScheduler:
    """An empty scheduler with a pool for crawls (each thread waits for one poll of the crawl
    engine) and one for everything else."""
    return BackgroundScheduler(
        timezone=UTC,
        executors={
            "default": ThreadPoolExecutor(4),
            CRAWL_EXECUTOR: ThreadPoolExecutor(polls_at_once),
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


class ApschedulerTimetable:
    """The daemon's timetable: the jobs above in a background APScheduler."""

    def __init__(self, polls_at_once: int, rng: random.Random | None = None) -> None:
        self._scheduler = create_scheduler(polls_at_once)
        self._rng = rng or random.Random()

    def start(
        self,
        config: Config,
        actions: JobActions,
        last_runs: Mapping[str, datetime],
        last_digests: Mapping[str, datetime],
    ) -> None:
        add_jobs(self._scheduler, config, actions, last_runs, last_digests, rng=self._rng)
        self._scheduler.start()

    def replace(
        self,
        config: Config,
        actions: JobActions,
        last_runs: Mapping[str, datetime],
        last_digests: Mapping[str, datetime],
    ) -> None:
        replace_jobs(self._scheduler, config, actions, last_runs, last_digests, rng=self._rng)

    def shutdown(self) -> None:
        self._scheduler.shutdown(wait=True)

    def due(self, config: Config, source_name: str, last_start: datetime) -> datetime:
        source = next((s for s in config.sources if s.name == source_name), None)
        if source is None:
            return last_start
        return Schedule(every=source.every, cron=source.cron).next_after(last_start)


def run_daemon(
    config: Config, database: Database, options: DaemonOptions, lock: DaemonLock | None = None
) -> int:
    """`newsmon run`: the daemon on this schedule until SIGTERM or SIGINT; the exit status."""
    timetable = ApschedulerTimetable(config.daemon.polls_at_once)
    return Daemon(config, database, options, timetable, lock).run()


def run_queue_scheduler(
    config: Config,
    database: Database,
    options: DaemonOptions,
    lock: DaemonLock,
    stop: threading.Event,
) -> int:
    """`newsmon run --role scheduler`: this schedule, each due poll enqueued for the workers.
    It stands by while another scheduler holds the lock (`stop` ends the wait: exit 0)."""
    from newsmon.spiders.poll_queue import QueueScheduler

    def waiting(holder: str) -> None:
        log.info("standing by: %s", holder)

    if not lock.acquire_when_free(stop, waiting, STANDBY_RETRY):
        return 0
    if lock.waited:
        log.warning("taking over as the active scheduler")
    try:
        timetable = ApschedulerTimetable(config.daemon.polls_at_once)
        return QueueScheduler(config, database, options, timetable, lock).run()
    finally:
        lock.release()


def run_queue_worker(config: Config, database: Database, options: DaemonOptions) -> int:
    """`newsmon run --role worker`: polls from the queue, in this worker's crawl engine; the
    schedule only tells it how late each poll starts."""
    from newsmon.spiders.poll_queue import run_worker

    return run_worker(config, database, options, ApschedulerTimetable(1))


def collect_status(config: Config, database: Database, now: datetime | None = None) -> StatusReport:
    """`newsmon status`: the daemon, each configured source's last run and next run, the outbox.
    The next run is the plan before jitter; None while the daemon is not running."""
    now = now or utcnow()
    schedules = source_schedules(config)
    with database.session() as session:
        report = read_status(
            session,
            database.safe_url,
            [(name, schedule.describe()) for name, schedule in schedules.items()],
            config.daemon.heartbeat_every,
            now,
        )
    started = {s.name: s.last_run_at for s in report.sources if s.last_run_at is not None}
    planned = planned_runs(config, started, now)
    for source in report.sources:
        source.next_due = planned[source.name]
        if report.daemon.alive:
            running = source.last_run is not None and source.last_run.status == "running"
            source.next_run = now if running else max(planned[source.name], now)
            # due, not running, and not started: the daemon is this late with it
            late = (now - planned[source.name]).total_seconds()
            source.lag = late if not running and late > 0 else 0.0
    return report
