"""The daemon's crawl engine: one long-lived child process that runs every scheduled poll.

A fresh process per poll cost about 2 CPU-seconds even for a feed answering 304 (imports, a
migration check, a new extraction pool); inside a running engine the same poll costs tens of
milliseconds. So the daemon keeps one engine alive and feeds it polls over a pipe; its polls share
one Twisted reactor, one extraction pool, one database engine, one robots.txt cache and one
concurrency budget.

Still a child process, for isolation:
- it is restarted after `daemon.engine_max_polls` polls and when its memory (RSS, with its
  extraction workers) passes `daemon.engine_max_rss`: the old one finishes the polls it has and
  exits while a fresh one takes the new polls, so whatever a poll leaked goes with it;
- its address space is capped at `daemon.crawl_memory_limit` (RLIMIT_AS);
- if it dies (a crash, SIGKILL, out of memory), the polls it had are redone once by a fresh
  engine; a poll that kills the engine twice is recorded as failed, with how it died;
- a hung or hostile source is cut by Scrapy's per-request timeout (`crawl.timeout`) and by the
  poll timeout (`daemon.crawl_timeout`): the engine stops that source's spider and closes its run
  as `timeout`, and keeps running. An engine that does not answer within the poll timeout plus a
  grace is killed and replaced.
The engine leads its own process group (its extraction workers are stopped with it) and is
killed by the kernel if the daemon dies (PR_SET_PDEATHSIG).

The poll function is given as "module:function" (default: the Scrapy crawl, run inside the
engine's reactor, then `dispatch_after_crawl`); any other function (tests) is called as
`function(config, [source_name])` in a thread of the engine and records its own runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import itertools
import logging
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from newsmon.config import Config
from newsmon.errors import NewsmonError

log = logging.getLogger("newsmon.engine")

DEFAULT_CRAWL_TARGET = "newsmon.spiders.crawl_engine:scrapy_poll"
STOP_GRACE = 25.0  # SIGTERM -> SIGKILL when the daemon stops (it must be gone within 30 s)
ANSWER_GRACE = 30.0  # beyond the poll timeout: an engine silent this long is hung
EXIT_OUT_OF_MEMORY = 3
EXIT_CRASHED = 1
_PR_SET_PDEATHSIG = 1


class CrawlTargetError(NewsmonError):
    """The poll function cannot be imported; str() says which and why."""


def resolve_crawl_target(target: str) -> Callable[..., Any]:
    """ "module:function" -> the function."""
    module_name, _, function_name = target.partition(":")
    if not module_name or not function_name:
        raise CrawlTargetError(f"crawl target {target!r}: expected module:function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CrawlTargetError(f"crawl target {target!r} cannot be imported: {exc}") from None
    function: object = getattr(module, function_name, None)
    if not callable(function):
        raise CrawlTargetError(f"crawl target {target!r}: {module_name} has no {function_name}")
    return function


def scrapy_poll(config: Config, source_names: list[str]) -> None:  # pragma: no cover
    """The default target's name; the engine runs it in its reactor (`_ScrapyPolls`)."""
    raise RuntimeError("scrapy_poll runs inside the crawl engine only")


@dataclass(frozen=True)
class EngineSettings:
    """How to start an engine; its limits come from the config of each poll (daemon section)."""

    target: str = DEFAULT_CRAWL_TARGET
    log_format: str = "text"
    log_level: int = logging.INFO


@dataclass(frozen=True)
class CrawlOutcome:
    """How a poll ended. `status` is ok, failed, timeout or interrupted; `message` says why
    for anything but ok."""

    status: str
    message: str | None
    seconds: float


@dataclass
class _Waiter:
    done: threading.Event = field(default_factory=threading.Event)
    answer: tuple[str, str | None] | None = None  # (status, message); None: the engine died


class _EngineProcess:
    """One incarnation of the engine: its process, its pipe, the polls it has not answered."""

    def __init__(self, settings: EngineSettings, config: Config) -> None:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe(duplex=True)
        self.config_key = _engine_key(config)
        self.memory_limit = config.daemon.crawl_memory_limit
        self.process = context.Process(
            target=engine_main,
            args=(settings, self.memory_limit, theirs, os.getpid()),
            name="newsmon-crawl-engine",
            daemon=False,
        )
        self.process.start()
        theirs.close()
        self.conn = ours
        self.pid = self.process.pid
        self.polls = 0
        self.sent_config: Config | None = None  # the config it has (sent once, not per poll)
        self.retiring = False
        self.pending: dict[int, _Waiter] = {}
        self._send_lock = threading.Lock()
        self.config_lock = threading.Lock()  # a config and the polls after it go in order
        self._lock = threading.Lock()
        self.dead = False
        reader = threading.Thread(target=self._read, name="newsmon-engine-reader", daemon=True)
        reader.start()

    def send(self, message: tuple[Any, ...]) -> bool:
        with self._send_lock:
            try:
                self.conn.send(message)
                return True
            except (OSError, ValueError):  # the engine is gone; the reader reports it
                return False

    def _read(self) -> None:
        while True:
            try:
                kind, poll_id, status, message = self.conn.recv()
            except (EOFError, OSError):
                break
            if kind == "done":
                with self._lock:
                    waiter = self.pending.pop(poll_id, None)
                if waiter is not None:
                    waiter.answer = (status, message)
                    waiter.done.set()
        self.process.join(5)
        with self._lock:
            self.dead = True
            waiters, self.pending = list(self.pending.values()), {}
        for waiter in waiters:  # answer None: the engine died with it
            waiter.done.set()

    def add(self, poll_id: int) -> _Waiter | None:
        with self._lock:
            if self.dead:
                return None
            waiter = self.pending[poll_id] = _Waiter()
            return waiter

    def drop(self, poll_id: int) -> None:
        with self._lock:
            self.pending.pop(poll_id, None)

    def out_of_memory(self) -> str:
        return f"stopped: out of memory (crawl_memory_limit {_size(self.memory_limit)})"

    def death(self) -> str:
        code = self.process.exitcode
        if code == EXIT_OUT_OF_MEMORY:
            return self.out_of_memory()
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            hint = " (out of memory?)" if code == -signal.SIGKILL else ""
            return f"crawl engine was killed by {name}{hint}"
        return f"crawl engine exited with status {code}"

    def retire(self) -> None:
        """No new polls; it finishes the ones it has, then exits."""
        self.retiring = True
        self.send(("stop", 0, None, None))

    def end(self, grace: float) -> None:
        """SIGTERM (its polls close their runs as interrupted), SIGKILL its group after grace."""
        _signal_leader(self.process, signal.SIGTERM)
        self.process.join(grace)
        _signal_group(self.process, signal.SIGKILL)
        self.process.join()

    def rss(self) -> int:
        """Resident memory of the engine and its extraction workers (its process group)."""
        total = 0
        for status in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = status.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == self.pid:  # field 5, pgrp
                    total += int(fields[21]) * resource.getpagesize()  # field 24, rss
        return total


class CrawlEngine:
    """The daemon's side: `poll()` from any thread; the engine is started on first use."""

    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._current: _EngineProcess | None = None
        self._old: list[_EngineProcess] = []
        self._ids = itertools.count(1)

    @property
    def pid(self) -> int | None:
        current = self._current
        return current.pid if current is not None and not current.dead else None

    def _engine_for(self, config: Config) -> _EngineProcess:
        with self._lock:
            current = self._current
            stale = current is not None and (
                current.dead or current.retiring or current.config_key != _engine_key(config)
            )
            if current is not None and stale:
                if not current.dead and not current.retiring:
                    log.info("crawl engine %d: the crawl settings changed; starting a new one",
                             current.pid)  # fmt: skip
                    current.retire()
                self._old.append(current)
                current = None
            if current is None:
                current = self._current = _EngineProcess(self.settings, config)
                log.info("crawl engine started (pid %d)", current.pid)
            self._reap()
            return current

    def _reap(self) -> None:
        """Forget retired engines that have exited (kill those that ignore their stop)."""
        for engine in list(self._old):
            if not engine.process.is_alive():
                engine.process.join()
                _signal_group(engine.process, signal.SIGKILL)  # workers left behind
                self._old.remove(engine)

    def poll(
        self,
        config: Config,
        source_name: str,
        crawl_id: str,
        stop: threading.Event,
        before_redo: Callable[[str], None] | None = None,
    ) -> CrawlOutcome:
        """Run one poll of `source_name`, waiting at most the poll timeout (plus a grace for an
        engine that does not answer) or until `stop` is set. When the engine dies with the poll,
        `before_redo(why)` is called (to close what the dead engine left open) and the poll is
        run once more in a fresh engine."""
        timeout = config.daemon.crawl_timeout.total_seconds()
        started = time.monotonic()
        for attempt in (1, 2):
            engine = self._engine_for(config)
            poll_id = next(self._ids)
            waiter = engine.add(poll_id)
            # the config (10,000 sources pickle to megabytes) goes only when it is new to it
            with engine.config_lock:
                fresh = engine.sent_config is not config
                request = (
                    "poll",
                    poll_id,
                    config if fresh else None,
                    (source_name, crawl_id, timeout),
                )
                sent = waiter is not None and engine.send(request)
                if sent and fresh:
                    engine.sent_config = config
            if waiter is None or not sent:
                continue  # it died just now: the next attempt starts a fresh one
            deadline = time.monotonic() + timeout + ANSWER_GRACE
            while not waiter.done.wait(0.25):
                if stop.is_set():  # close() stops the engine: wait for its answer or its end
                    deadline = min(deadline, time.monotonic() + STOP_GRACE + 2)
                if time.monotonic() > deadline and stop.is_set():
                    engine.drop(poll_id)
                    break
                if time.monotonic() > deadline:
                    log.error("crawl engine %d did not answer within %gs; replacing it",
                              engine.pid, timeout + ANSWER_GRACE)  # fmt: skip
                    engine.drop(poll_id)
                    self._kill(engine)
                    return CrawlOutcome(
                        "timeout",
                        f"stopped after the crawl timeout ({timeout:g}s)",
                        time.monotonic() - started,
                    )
            if stop.is_set():  # whatever the poll did before the stop is kept; it was cut
                return CrawlOutcome(
                    "interrupted",
                    "interrupted: the daemon stopped during the crawl",
                    time.monotonic() - started,
                )
            if waiter.answer is not None:
                status, message = waiter.answer
                self._after_poll(engine, config, status)
                if status == "tainted":  # cut at its timeout, but its thread still runs
                    status = "timeout"
                elif status == "oom":
                    status, message = "failed", engine.out_of_memory()
                return CrawlOutcome(status, message, time.monotonic() - started)
            why = engine.death()
            if attempt == 1:
                log.warning("crawl engine %d died (%s); redoing the poll",
                            engine.pid, why, extra={"source": source_name})  # fmt: skip
                if before_redo is not None:
                    before_redo(why)
                continue
            return CrawlOutcome("failed", why, time.monotonic() - started)
        return CrawlOutcome("failed", "the crawl engine could not be started",
                            time.monotonic() - started)  # fmt: skip

    def _after_poll(self, engine: _EngineProcess, config: Config, status: str) -> None:
        engine.polls += 1
        daemon = config.daemon
        reason = None
        if status == "tainted":
            reason = "a poll it could not stop is still running"
        elif status == "oom":
            reason = "it ran out of memory"
        elif engine.polls >= daemon.engine_max_polls:
            reason = f"{engine.polls} polls done (engine_max_polls)"
        elif engine.polls % 10 == 0 and engine.rss() > daemon.engine_max_rss:
            reason = f"memory over engine_max_rss ({_size(daemon.engine_max_rss)})"
        if reason is None:
            return
        with self._lock:
            if engine is self._current and not engine.retiring:
                log.info("crawl engine %d retires: %s", engine.pid, reason)
                engine.retire()
                self._old.append(engine)
                self._current = None

    def _kill(self, engine: _EngineProcess) -> None:
        with self._lock:
            if engine is self._current:
                self._current = None
        _signal_group(engine.process, signal.SIGKILL)

    def close(self, grace: float = STOP_GRACE) -> None:
        """The daemon stops: every engine is told to stop (polls in flight are interrupted and
        close their runs), then killed with its workers after `grace` seconds."""
        with self._lock:
            engines = [e for e in [self._current, *self._old] if e is not None]
            self._current, self._old = None, []
        for engine in engines:
            _signal_leader(engine.process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for engine in engines:
            engine.process.join(max(0.0, deadline - time.monotonic()))
            _signal_group(engine.process, signal.SIGKILL)
            engine.process.join()


def _engine_key(config: Config) -> tuple[Any, ...]:
    """What the engine's shared parts were built from: a change needs a fresh engine."""
    return (config.storage.url, config.crawl.model_dump_json(), config.daemon.crawl_memory_limit)


def _size(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if size >= factor:
            return f"{size / factor:g}{unit}"
    return f"{size}B"


def _signal_leader(process: multiprocessing.process.BaseProcess, signum: int) -> None:
    if process.pid is not None and process.exitcode is None:
        with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
            os.kill(process.pid, signum)


def _signal_group(process: multiprocessing.process.BaseProcess, signum: int) -> None:
    """Signal the group the engine leads (itself and its extraction workers)."""
    if process.pid is None:
        return
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        _signal_leader(process, signum)  # it has not reached os.setpgrp() yet (or is gone)
    except PermissionError:  # the group id was reused by someone else's process: not ours
        log.warning("engine process group %d belongs to another user; not signalled", process.pid)


# --- in the engine --------------------------------------------------------------------------------


def engine_main(settings: EngineSettings, memory_limit: int, conn: Connection, parent: int) -> None:
    """The engine's entry point: isolate, cap memory, then serve polls until told to stop."""
    os.setpgrp()
    _die_with_parent(parent)
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    from newsmon.spiders.crawl_logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the daemon's to act on
    from newsmon.spiders.engine_polls import serve

    try:
        code = serve(settings, conn)
    except MemoryError:
        code = EXIT_OUT_OF_MEMORY
    except Exception:  # the engine itself broke: the daemon redoes its polls elsewhere
        log.exception("crawl engine crashed")
        code = EXIT_CRASHED
    logging.shutdown()
    # threads still running a poll it could not stop (tests' hung targets) must not hold it
    os._exit(code)


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process if the daemon dies (Linux); exit if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(EXIT_CRASHED)
