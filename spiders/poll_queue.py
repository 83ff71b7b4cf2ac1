"""The poll queue of `newsmon run --role scheduler|worker`: a Celery app on a Redis broker.

- The scheduler (the daemon's schedule, its jobs enqueueing instead of polling: `QueueScheduler`)
  sends one message per due poll, carrying its config fingerprint. A source with a poll still
  queued or running is not enqueued again (a marker key on the broker, set with NX and an expiry),
  so a slow source never piles up polls.
- A worker (`run_worker`) consumes them and runs each in its long-lived crawl engine, exactly as
  `newsmon run` does (`Daemon.crawl`). Messages are acknowledged only when the poll has ended
  (`acks_late`) and given back if the worker is lost (`task_reject_on_worker_lost`); a worker
  killed outright leaves its message unacknowledged, and the broker hands it to another worker once
  `daemon.broker_visibility_timeout` has passed. The run the dead worker left `running` is closed
  before the poll is redone; articles are upserted by canonical URL and alerts are decided in the
  store's transaction, so a redone poll stores nothing twice and alert dispatch keeps its leases.
- A worker whose config differs from the scheduler's (another fingerprint) refuses the poll with
  one log line, stops consuming polls for REFUSE_BACKOFF (`QueueBackoff`), and only then gives the
  message back, so a worker with the right config takes it at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import uuid
from typing import Any

import redis
from celery import Celery, bootsteps
from celery.exceptions import Reject
from kombu.exceptions import OperationalError
from kombu.transport.redis import Channel as RedisChannel
from kombu.utils.url import maybe_sanitize_url

from newsmon.config import Config
from newsmon.errors import NewsmonError
from newsmon.spiders.daemon_process import Daemon, DaemonOptions, Timetable
from newsmon.storage import Database
from newsmon.storage import daemon as daemon_rows
from newsmon.storage.lock import DaemonLock

log = logging.getLogger("newsmon.queue")

POLL_TASK = "newsmon.poll"
POLL_QUEUE = "newsmon.polls"
MARKER_PREFIX = "newsmon:poll:"  # + source name: a poll of it is queued or running
# a worker that refuses a poll stops consuming for this long: the poll goes to a worker with
# the scheduler's config at once, instead of bouncing back to this one; then it looks again (the
# scheduler may have been given this worker's config meanwhile)
REFUSE_BACKOFF = 60.0
CONTROL_TIMEOUT = 5.0  # seconds for the worker's own consumer to answer a cancel or add
ACK_WAKE_EVERY = 0.05  # seconds: how soon a finished poll is acknowledged


class BrokerMissingError(NewsmonError):
    """A role that needs the broker was started without `daemon.broker_url`."""


def config_fingerprint(config: Config) -> str:
    """A short hash of the whole config (sources, crawl, storage, alerts): a worker and the
    scheduler with different fingerprints do not agree on what a poll is."""
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:12]


def broker_url(config: Config) -> str:
    url = config.daemon.broker_url
    if url is None:
        raise BrokerMissingError(
            "--role scheduler and --role worker need daemon.broker_url in the config "
            "(e.g. redis://127.0.0.1:6379/0); `newsmon run` alone needs no broker"
        )
    return url


def safe_broker_url(config: Config) -> str:
    """The broker URL with its password masked, for logs."""
    return maybe_sanitize_url(broker_url(config))


class PromptAcks(bootsteps.StartStopStep):
    """Wakes the worker's event loop every ACK_WAKE_EVERY so a finished poll is acknowledged
    (and its slot refilled) at once.

    With `acks_late` a pool thread hands its acknowledgement to the consumer's event loop. With
    every slot busy the loop listens for no new message and sleeps until its next timer, about
    2 s, so a worker finished at most `polls_at_once` polls per 2 s: 8 a second at 16, whatever
    the CPU (bench/scale.py: one worker did 1,438 of 3,045 due polls at 13 % CPU). A repeating
    no-op timer bounds that wait."""

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.wake: Any = None

    def start(self, parent: Any) -> None:
        self.wake = parent.timer.call_repeatedly(ACK_WAKE_EVERY, _nothing)

    def stop(self, parent: Any) -> None:
        if self.wake is not None:
            self.wake.cancel()
            self.wake = None


def _nothing() -> None:
    """The wake-up timer's job: returning to the event loop is the point."""


def make_queue_app(config: Config) -> Celery:
    """The Celery app both roles use; the options are what makes a lost poll come back."""
    visibility = config.daemon.broker_visibility_timeout.total_seconds()
    app = Celery("newsmon", broker=broker_url(config), set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds no more polls than it runs
        task_ignore_result=True,
        task_default_queue=POLL_QUEUE,
        broker_connection_retry=True,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a broker restart is waited out, never fatal
        broker_transport_options={"visibility_timeout": visibility},
        task_publish_retry_policy={"max_retries": 3, "interval_start": 0.5, "interval_step": 1},
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        worker_send_task_events=False,
    )
    app.steps["consumer"].add(PromptAcks)
    return app


def restore_every(config: Config) -> float:
    """How often a worker hands abandoned polls back: often enough to redo them soon after
    their visibility timeout, at most every 10 s."""
    return max(1.0, min(10.0, config.daemon.broker_visibility_timeout.total_seconds() / 10))


def restore_lost_polls(app: Celery, every: float, stop: threading.Event) -> None:
    """Put polls whose worker died (unacknowledged past the visibility timeout) back in the
    queue, every `every` seconds until `stop`.

    kombu's Redis transport does this itself, but (kombu 5.6) only about every 100 s: a lost
    poll would wait that long on top of its visibility timeout. This calls the transport's own
    restore (under its mutex, so workers doing it at once restore each message once)."""
    connection = None
    while not stop.wait(every):
        try:
            if connection is None:
                connection = app.connection_for_write()
            channel = connection.default_channel
            assert isinstance(channel, RedisChannel)  # the broker is Redis (daemon.broker_url)
            channel.qos.restore_visible(num=100, interval=1)
        except (redis.RedisError, OperationalError, OSError) as exc:
            log.debug("restoring lost polls failed (%s); trying again", type(exc).__name__)
            if connection is not None:
                connection.release()
            connection = None
    if connection is not None:
        connection.release()


class QueueBackoff:
    """A refusing worker's pause: its consumer of the poll queue is cancelled (through Celery's
    remote control, addressed to this worker only, so the worker's own event loop does it) and
    added again after REFUSE_BACKOFF."""

    def __init__(self, app: Celery, backoff: float = REFUSE_BACKOFF) -> None:
        self.app = app
        self.backoff = backoff
        self._lock = threading.Lock()
        self._paused = False

    def pause(self, hostname: str) -> None:
        """Stop consuming now (returns once the consumer is cancelled); resume after `backoff`."""
        with self._lock:
            if self._paused:
                return
            self._paused = True
        destination = [hostname]
        try:
            self.app.control.cancel_consumer(
                POLL_QUEUE, destination=destination, reply=True, timeout=CONTROL_TIMEOUT
            )
        except (redis.RedisError, OperationalError) as exc:
            # the poll still goes back (never lost with its task); it may come back here once
            log.warning("could not pause taking polls (%s)", type(exc).__name__)
        log.info("not taking polls for %gs: they go to workers with the scheduler's config",
                 self.backoff)  # fmt: skip
        resume = threading.Timer(self.backoff, self._resume, args=(destination,))
        resume.daemon = True
        resume.start()

    def _resume(self, destination: list[str]) -> None:
        try:
            self.app.control.add_consumer(
                POLL_QUEUE, destination=destination, reply=True, timeout=CONTROL_TIMEOUT
            )
        except (redis.RedisError, OperationalError) as exc:
            log.warning("could not resume taking polls (%s); trying again", type(exc).__name__)
            retry = threading.Timer(CONTROL_TIMEOUT, self._resume, args=(destination,))
            retry.daemon = True
            retry.start()
            return
        with self._lock:
            self._paused = False


def _warn_while_running(daemon: Daemon, every: float, stop: threading.Event) -> None:
    while not stop.wait(every):
        daemon.warn_if_behind()


def _markers(config: Config) -> redis.Redis:
    return redis.Redis.from_url(broker_url(config), socket_timeout=10, socket_connect_timeout=10)


def _marker_ttl(config: Config) -> int:
    # long enough to cover one redelivery: a marker left by a lost poll frees its source by then
    daemon = config.daemon
    return int((2 * daemon.broker_visibility_timeout + daemon.crawl_timeout).total_seconds())


class QueueScheduler(Daemon):
    """`newsmon run --role scheduler`: the daemon with its crawl job enqueueing the poll.

    Everything else is the daemon's own: the schedule, heartbeat and lock check (a scheduler that
    loses the election lock schedules nothing), alert retries and digests. It does not close runs
    left `running` at its start: those belong to workers still polling."""

    closes_orphaned_runs = False

    def __init__(
        self, config: Config, database: Database, options: DaemonOptions, timetable: Timetable,
        lock: DaemonLock | None = None,
    ) -> None:  # fmt: skip
        super().__init__(config, database, options, timetable, lock)
        self._app = make_queue_app(config)
        self._markers = _markers(config)
        self._fingerprint = config_fingerprint(config)

    def reload(self) -> None:
        super().reload()
        self._fingerprint = config_fingerprint(self.config)

    def crawl(self, source_name: str, crawl_id: str | None = None) -> None:
        config = self.config
        if not any(s.name == source_name for s in config.sources):
            return
        if self.stopping.is_set() or not self.active.is_set():
            return
        crawl_id = crawl_id or uuid.uuid4().hex[:8]
        context = {"source": source_name, "crawl_id": crawl_id}
        marker = MARKER_PREFIX + source_name
        try:
            if not self._markers.set(marker, crawl_id, nx=True, ex=_marker_ttl(config)):
                log.info("poll not enqueued: the last one is still queued or running",
                         extra=context)  # fmt: skip
                return
        except redis.RedisError as exc:
            log.warning("poll not enqueued: broker %s unreachable (%s); the next run retries",
                        safe_broker_url(config), type(exc).__name__, extra=context)  # fmt: skip
            return
        try:
            self._app.send_task(POLL_TASK, args=(source_name, crawl_id, self._fingerprint))
        except (redis.RedisError, OperationalError) as exc:
            # not sent: free the source for its next run (a broker that lost everything has no
            # marker left to free)
            with contextlib.suppress(redis.RedisError):
                self._markers.delete(marker)
            log.warning("poll not enqueued: broker %s unreachable (%s); the next run retries",
                        safe_broker_url(config), type(exc).__name__, extra=context)  # fmt: skip
            return
        log.info("poll enqueued", extra=context)


def run_worker(
    config: Config, database: Database, options: DaemonOptions, timetable: Timetable
) -> int:
    """`newsmon run --role worker`: consume polls until SIGTERM (Celery's warm shutdown: the
    polls in hand finish, then it exits). The exit status."""
    app = make_queue_app(config)
    daemon = Daemon(config, database, options, timetable)  # its crawl engine, its crawl job
    fingerprint = config_fingerprint(config)
    markers = _markers(config)
    refused: set[str] = set()
    refused_lock = threading.Lock()
    backoff = QueueBackoff(app)

    @app.task(name=POLL_TASK, bind=True)
    def poll(task: Any, source_name: str, crawl_id: str, scheduler_fingerprint: str) -> None:
        context = {"source": source_name, "crawl_id": crawl_id}
        if scheduler_fingerprint != fingerprint:
            with refused_lock:
                first = scheduler_fingerprint not in refused
                refused.add(scheduler_fingerprint)
            if first:  # one line per foreign config, not one per poll
                log.error(
                    "refusing polls: this worker's config (fingerprint %s) differs from the "
                    "scheduler's (%s); deploy the same config.yaml to every machine and restart",
                    fingerprint, scheduler_fingerprint, extra=context,
                )  # fmt: skip
            # not consuming before the message goes back: it cannot come back here
            backoff.pause(task.request.hostname)
            raise Reject("config fingerprint differs", requeue=True)
        # a run of this source still `running` was left by a worker that died with this poll
        # (the marker lets only one poll of a source be queued or running at a time)
        with database.session() as session:
            closed = daemon_rows.close_running_runs(
                session, source_name, "interrupted: the worker running this poll died"
            )
        if closed:
            log.warning("redoing a poll whose worker died", extra=context)
        try:
            daemon.crawl(source_name, crawl_id)
        finally:
            try:
                markers.delete(MARKER_PREFIX + source_name)
            except redis.RedisError:  # it expires on its own
                log.warning("could not clear the poll marker", extra=context)

    log.info("worker started on broker %s (config fingerprint %s, %d poll(s) at once)",
             safe_broker_url(config), fingerprint, config.daemon.polls_at_once)  # fmt: skip
    worker = app.Worker(
        pool="threads",
        concurrency=config.daemon.polls_at_once,
        queues=[POLL_QUEUE],
        quiet=True,
        without_gossip=True,
        without_mingle=True,
        loglevel=logging.getLevelName(options.log_level),
    )
    restorer_stop = threading.Event()
    restorer = threading.Thread(
        target=restore_lost_polls,
        args=(app, restore_every(config), restorer_stop),
        name="newsmon-restore-lost-polls",
        daemon=True,
    )
    restorer.start()
    # the lag of the polls this worker starts, warned about as the daemon does on its heartbeat
    lag_every = config.daemon.heartbeat_every.total_seconds()
    threading.Thread(
        target=_warn_while_running, args=(daemon, lag_every, restorer_stop),
        name="newsmon-lag-warning", daemon=True,
    ).start()  # fmt: skip
    try:
        worker.start()
    finally:
        restorer_stop.set()
        daemon.stopping.set()
        daemon.close_engine()
    log.info("worker stopped")
    return worker.exitcode or 0
