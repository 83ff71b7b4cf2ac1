"""scheduler.py: schedules from config.yaml, first runs after a restart, job options, overlap."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsmon.config import parse_config
from newsmon.scheduler import (
    CRAWL_EXECUTOR,
    DISPATCH_JOB,
    HEARTBEAT_JOB,
    JobActions,
    Schedule,
    add_jobs,
    crawl_job_id,
    create_scheduler,
    crontab_weekdays,
    digest_job_id,
    first_run_time,
    planned_runs,
    replace_jobs,
)

NOW = datetime(2026, 11, 4, 10, 0, 0, tzinfo=UTC)  # a Wednesday

CONFIG = """\
sources:
  - {name: wire, url: https://example.org/rss, type: feed, every: 15m}
  - {name: search, url: https://example.org/search, type: feed, cron: "5,35 * * * *"}
alerts:
  channels:
    - {name: morning, type: console, mode: digest, cron: "0 8 * * 1-5"}
    - {name: now, type: console}
daemon:
  jitter: 20s
  misfire_grace: 2m
  dispatch_every: 10s
  heartbeat_every: 5s
"""


def config(text: str = CONFIG):
    return parse_config(text, Path("config.yaml"), {})


def no_op(*_args: object) -> None:
    """A job body for schedules that are only inspected."""


ACTIONS = JobActions(crawl=no_op, digest=no_op, dispatch=no_op, heartbeat=no_op)


def test_interval_runs_every_interval_plus_jitter_within_bounds() -> None:
    trigger = Schedule(every=timedelta(minutes=15)).trigger(timedelta(seconds=20))
    fires = [trigger.get_next_fire_time(NOW, NOW) for _ in range(300)]
    delays = [(fire - NOW).total_seconds() for fire in fires]
    assert all(900 <= delay <= 920 for delay in delays)
    assert max(delays) - min(delays) > 10  # really spread, not a fixed offset


def test_interval_without_jitter_is_exact() -> None:
    trigger = Schedule(every=timedelta(seconds=90)).trigger()
    assert trigger.get_next_fire_time(NOW, NOW) == NOW + timedelta(seconds=90)


def test_cron_fires_at_its_minutes_with_jitter_within_bounds() -> None:
    schedule = Schedule(cron="5,35 * * * *")
    assert schedule.next_after(NOW) == NOW.replace(minute=5)
    assert schedule.next_after(NOW.replace(minute=5)) == NOW.replace(minute=35)
    assert schedule.next_after(NOW.replace(minute=5, second=17)) == NOW.replace(minute=35)
    trigger = schedule.trigger(timedelta(seconds=30))
    fires = [trigger.get_next_fire_time(None, NOW) for _ in range(300)]
    offsets = [(fire - NOW.replace(minute=5)).total_seconds() for fire in fires]
    assert all(0 <= offset <= 30 for offset in offsets)
    assert max(offsets) - min(offsets) > 10


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("0,6", "sun,sat"),
        ("*/3", "sun,wed,sat"),
        ("mon-fri", "mon-fri"),
        ("*", "*"),
    ],
)
def test_crontab_weekday_numbers_mean_what_crontab_means(field: str, days: str) -> None:
    assert crontab_weekdays(field) == days


def test_cron_weekdays_follow_crontab_not_apscheduler_numbering() -> None:
    saturday = datetime(2026, 11, 7, 12, 0, tzinfo=UTC)
    # crontab "1-5" is Monday..Friday: after Saturday noon comes Monday 08:00
    assert Schedule(cron="0 8 * * 1-5").next_after(saturday) == datetime(
        2026, 11, 9, 8, 0, tzinfo=UTC
    )
    assert Schedule(cron="0 8 * * 0").next_after(saturday) == datetime(
        2026, 11, 8, 8, 0, tzinfo=UTC
    )


def test_first_run_follows_the_last_run() -> None:
    every = Schedule(every=timedelta(hours=1))
    jitter = timedelta(seconds=30)
    rng = random.Random(1)
    recent = NOW - timedelta(minutes=10)
    first = first_run_time(every, recent, NOW, jitter, rng)
    assert recent + timedelta(hours=1) <= first <= recent + timedelta(hours=1, seconds=30)
    cron = Schedule(cron="5,35 * * * *")
    first = first_run_time(cron, NOW - timedelta(minutes=1), NOW, jitter, rng)
    assert NOW.replace(minute=5) <= first <= NOW.replace(minute=5, second=30)


def test_overdue_and_new_sources_run_soon_spread_over_the_jitter() -> None:
    every = Schedule(every=timedelta(hours=1))
    jitter = timedelta(seconds=60)
    rng = random.Random(7)
    firsts = [first_run_time(every, NOW - timedelta(days=1), NOW, jitter, rng) for _ in range(20)]
    firsts += [first_run_time(every, None, NOW, jitter, rng) for _ in range(20)]
    assert all(NOW <= first <= NOW + jitter for first in firsts)
    # no thundering herd: the 40 first runs spread over most of the window
    offsets = sorted((first - NOW).total_seconds() for first in firsts)
    assert offsets[-1] - offsets[0] > 40
    assert len(set(offsets)) == 40


def test_jobs_built_from_config_with_overlap_and_misfire_settings() -> None:
    cfg = config()
    scheduler = create_scheduler()
    last = {"wire": NOW - timedelta(minutes=5)}
    add_jobs(scheduler, cfg, ACTIONS, last, {}, now=NOW, rng=random.Random(3))
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {
            crawl_job_id("wire"),
            crawl_job_id("search"),
            digest_job_id("morning"),
            DISPATCH_JOB,
            HEARTBEAT_JOB,
        }
        for job in jobs.values():
            assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, 120)
        wire = jobs[crawl_job_id("wire")]
        assert wire.executor == CRAWL_EXECUTOR and wire.args == ("wire",)
        assert (
            NOW + timedelta(minutes=10)
            <= wire.next_run_time
            <= NOW + timedelta(minutes=10, seconds=20)
        )
        assert NOW <= jobs[crawl_job_id("search")].next_run_time <= NOW + timedelta(seconds=20)
        # a digest never sent waits for its schedule (Thursday 08:00), it does not fire at start
        morning = jobs[digest_job_id("morning")].next_run_time
        assert (
            datetime(2026, 11, 5, 8, tzinfo=UTC)
            <= morning
            <= datetime(2026, 11, 5, 8, 0, 20, tzinfo=UTC)
        )
        assert jobs[DISPATCH_JOB].next_run_time == NOW  # pending deliveries resume at once
        assert jobs[DISPATCH_JOB].trigger.interval == timedelta(seconds=10)
        assert jobs[HEARTBEAT_JOB].trigger.interval == timedelta(seconds=5)
        # a reload with one source fewer drops its job
        search_line = next(line for line in CONFIG.splitlines() if "name: search" in line)
        smaller = config(CONFIG.replace(search_line + "\n", ""))
        replace_jobs(scheduler, smaller, ACTIONS, last, {}, now=NOW)
        assert crawl_job_id("search") not in {job.id for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)


def test_planned_runs_follow_the_database() -> None:
    cfg = config()
    planned = planned_runs(cfg, {"wire": NOW - timedelta(minutes=5)}, NOW)
    assert planned == {"wire": NOW + timedelta(minutes=10), "search": NOW}


def test_a_slow_job_never_overlaps_itself() -> None:
    cfg = config(
        "sources:\n  - {name: slow, url: https://example.org/rss, type: feed, every: 0.2s}\n"
        "daemon: {jitter: 0s}\n"
    )
    running, peak, runs = [0], [0], [0]
    lock = threading.Lock()

    def slow_crawl(_name: str) -> None:
        with lock:
            running[0] += 1
            runs[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.7)  # three and a half intervals
        with lock:
            running[0] -= 1

    actions = JobActions(crawl=slow_crawl, digest=no_op, dispatch=no_op, heartbeat=no_op)
    scheduler = create_scheduler()
    add_jobs(scheduler, cfg, actions, {}, {})
    scheduler.start()
    try:
        time.sleep(2.5)
    finally:
        scheduler.shutdown(wait=True)
    assert peak[0] == 1
    assert runs[0] >= 2  # the next run happens once the slow one is done


def test_missed_runs_are_not_replayed() -> None:
    """A machine that slept through many runs replays none of them: the newest missed run is past
    the grace, so it is skipped and the schedule goes on."""
    cfg = config(
        "sources:\n  - {name: wire, url: https://example.org/rss, type: feed, every: 4s}\n"
        "daemon: {jitter: 0s, misfire_grace: 1s}\n"
    )
    calls: list[str] = []
    actions = JobActions(crawl=calls.append, digest=no_op, dispatch=no_op, heartbeat=no_op)
    scheduler = create_scheduler()
    add_jobs(scheduler, cfg, actions, {}, {})
    # planned an hour ago: 900 runs missed, the newest 2 s ago, the next due in 2 s
    asleep_since = datetime.now(UTC) - timedelta(seconds=3602)
    scheduler.modify_job(crawl_job_id("wire"), next_run_time=asleep_since)
    scheduler.start()
    try:
        time.sleep(1.0)
        assert calls == []
        time.sleep(2.5)
        assert calls == ["wire"]
    finally:
        scheduler.shutdown(wait=True)
