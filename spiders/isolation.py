"""Each crawl runs in a child process of its own; the daemon only waits for it.

Why a child process per crawl (and not one long-lived reactor in the daemon):
- Twisted's reactor cannot be restarted in a process, and Scrapy's crawl runs one; a fresh
  interpreter per crawl sidesteps that and starts every crawl from a clean state.
- A crawl that raises, hangs or leaks memory can only end its own process: the parent kills it at
  `daemon.crawl_timeout`, the kernel stops it at `daemon.crawl_memory_limit` (RLIMIT_AS, set in
  the child), and whatever it leaked is returned to the system when it exits. The daemon's own
  memory stays flat however long it runs.
- The "spawn" start method execs a new interpreter instead of forking the threaded daemon (a fork
  of a process with threads can inherit locks held by other threads).
The child is a process-group leader, so stopping it also stops any worker processes it started,
and a Ctrl-C in a terminal reaches only the daemon, which then stops the crawl itself. On Linux the
child is also killed if the daemon dies (PR_SET_PDEATHSIG), so no crawl outlives its daemon.

The crawl function is given as "module:function" (default `newsmon.spiders.crawl:run_crawl`) and
called as `function(config, [source_name])`; it records its own CrawlRun rows. The parent records
what the child could not: a crash, a timeout, an out-of-memory stop, an interruption.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import logging
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from newsmon.config import Config
from newsmon.errors import NewsmonError

log = logging.getLogger(__name__)

DEFAULT_CRAWL_TARGET = "newsmon.spiders.crawl:run_crawl"
STOP_GRACE = 25.0  # SIGTERM -> SIGKILL when the daemon stops (it must be gone within 30 s)
TIMEOUT_GRACE = 5.0  # SIGTERM -> SIGKILL after a crawl timeout
EXIT_CRASHED = 1
EXIT_OUT_OF_MEMORY = 3
_PR_SET_PDEATHSIG = 1


class CrawlTargetError(NewsmonError):
    """The crawl function cannot be imported; str() says which and why."""


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


@dataclass(frozen=True)
class CrawlRequest:
    """Everything the child needs; pickled to it (the config as the daemon holds it now)."""

    config: Config
    source_name: str
    crawl_id: str
    target: str = DEFAULT_CRAWL_TARGET
    log_format: str = "text"
    log_level: int = logging.INFO


@dataclass(frozen=True)
class CrawlOutcome:
    """How the child ended. `status` is ok, failed, timeout or interrupted; `message` says why
    for anything but ok."""

    status: str
    message: str | None
    exit_code: int | None
    seconds: float


def run_crawl_in_child(
    request: CrawlRequest,
    stop: threading.Event,
    timeout: float,
    memory_limit: int,
    stop_grace: float = STOP_GRACE,
) -> CrawlOutcome:
    """Run one crawl in a child process and wait for it, at most `timeout` seconds, or until
    `stop` is set (the daemon is stopping)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=child_main,
        args=(request, memory_limit, sender, os.getpid()),
        name=f"newsmon-crawl-{request.crawl_id}",
        daemon=False,
    )
    started = time.monotonic()
    process.start()
    sender.close()  # the child holds the only writing end now
    try:
        deadline = started + timeout
        while process.is_alive():
            if stop.is_set():
                _end(process, stop_grace)
                return CrawlOutcome(
                    "interrupted",
                    "interrupted: the daemon stopped during the crawl",
                    process.exitcode,
                    time.monotonic() - started,
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _end(process, TIMEOUT_GRACE)
                return CrawlOutcome(
                    "timeout",
                    f"stopped after the crawl timeout ({timeout:g}s)",
                    process.exitcode,
                    time.monotonic() - started,
                )
            process.join(min(0.25, remaining))
        error = _received(receiver)
        # leftovers of its group (extraction workers) must not outlive it
        _signal_group(process, signal.SIGKILL)
        return _outcome(process.exitcode, error, memory_limit, time.monotonic() - started)
    finally:
        receiver.close()


def _received(receiver: Connection) -> str | None:
    """The crash message the child sent, if it sent one before closing its end."""
    try:
        return receiver.recv() if receiver.poll() else None
    except EOFError:
        return None


def _outcome(
    exit_code: int | None, error: str | None, memory_limit: int, seconds: float
) -> CrawlOutcome:
    if exit_code == 0:
        return CrawlOutcome("ok", None, exit_code, seconds)
    if exit_code == EXIT_OUT_OF_MEMORY:
        message = f"stopped: out of memory (crawl_memory_limit {_size(memory_limit)})"
    elif exit_code == EXIT_CRASHED and error:
        message = f"crashed: {error}"
    elif exit_code is not None and exit_code < 0:
        name = signal.Signals(-exit_code).name
        hint = " (out of memory?)" if exit_code == -signal.SIGKILL else ""
        message = f"crawl process was killed by {name}{hint}"
    else:
        message = f"crawl process exited with status {exit_code}"
    return CrawlOutcome("failed", message, exit_code, seconds)


def _size(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if size >= factor:
            return f"{size / factor:g}{unit}"
    return f"{size}B"


def _end(process: multiprocessing.process.BaseProcess, grace: float) -> None:
    """SIGTERM the crawl (Scrapy then stops gracefully and closes its runs), SIGKILL its whole
    process group if it is still there after `grace` seconds."""
    _signal_leader(process, signal.SIGTERM)
    process.join(grace)
    if process.is_alive():
        log.warning("crawl process %s ignored SIGTERM for %gs; killing it", process.pid, grace)
        _signal_group(process, signal.SIGKILL)
        process.join()
    else:
        # its worker processes (same group) may outlive it: they go too
        _signal_group(process, signal.SIGKILL)


def _signal_leader(process: multiprocessing.process.BaseProcess, signum: int) -> None:
    if process.pid is not None and process.exitcode is None:
        with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
            os.kill(process.pid, signum)


def _signal_group(process: multiprocessing.process.BaseProcess, signum: int) -> None:
    """Signal the group the child leads (itself and the worker processes it started)."""
    if process.pid is None:
        return
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        _signal_leader(process, signum)  # it has not reached os.setpgrp() yet (or is gone)


# --- in the child ---------------------------------------------------------------------------------


def child_main(request: CrawlRequest, memory_limit: int, errors: Connection, parent: int) -> None:
    """The child's entry point: isolate, cap memory, log with context, run the crawl."""
    os.setpgrp()
    _die_with_parent(parent)
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    from newsmon.spiders.crawl_logs import configure_logging  # here: the child's own log setup

    configure_logging(
        request.log_format,
        request.log_level,
        context={"source": request.source_name, "crawl_id": request.crawl_id},
    )
    out_of_memory = False
    try:
        crawl = resolve_crawl_target(request.target)
        crawl(request.config, [request.source_name])
    except MemoryError:
        out_of_memory = True  # handled below, once the frames holding the memory are gone
    except Exception as exc:  # any error of the crawl ends this process only
        log.exception("crawl crashed")
        errors.send(f"{type(exc).__name__}: {exc}"[:500])
        errors.close()
        sys.exit(EXIT_CRASHED)
    if out_of_memory:
        log.error("crawl ran out of memory (crawl_memory_limit %s)", _size(memory_limit))
        sys.exit(EXIT_OUT_OF_MEMORY)
    errors.close()


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process if the daemon dies (Linux); exit if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(EXIT_CRASHED)
