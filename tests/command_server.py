"""A process that imports newsmon's command line and its crawl dependencies once, then forks one
child per `newsmon ...` command a test runs (tests/cli_process.py is its client).

A fresh interpreter per `newsmon crawl` spends ~1 s of CPU importing Scrapy, Twisted,
SQLAlchemy, Alembic and trafilatura before a crawl of a few local pages; the suite starts hundreds.
A child forked from here starts with all of that imported, yet is still a process of its own: it
has its own pid (a test signals it), its own cwd, environment, stdin, stdout and stderr (the
client's file descriptors, passed over the socket), it starts Twisted's reactor once and exits
as the interpreter exits (exit status, traceback of an uncaught error, threads joined, atexit).
This is the idea of the crawl's forkserver (spiders/crawl.py), applied to whole commands.

Forking is only safe from a process with one thread and no open connections, so this process
imports and creates nothing: no reactor, no engine, no logging handler. `preload` checks that.

Protocol, one Unix-socket connection per command: the client sends one JSON line (argv, cwd,
env, what to run) with its stdin, stdout and stderr descriptors attached; the server answers
`{"pid": N}` at once and `{"returncode": R, "maxrss_kb": K}` when the child has exited
(R as `subprocess` reports it: negative for a signal).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import gc
import importlib
import json
import logging
import os
import runpy
import selectors
import signal
import socket
import sys
import threading
import types
from dataclasses import dataclass
from typing import Any, NoReturn

# what `newsmon crawl` and `newsmon run` import before their work starts (not the reactor: a
# child installs the one Scrapy's settings ask for)
PRELOAD = (
    "newsmon.cli",
    "newsmon.scheduler",  # the daemon, its crawl engine and the dispatcher
    "newsmon.spiders.crawl",
    "newsmon.spiders.poll",
    "newsmon.spiders.reading",
    "newsmon.spiders.rematch",
    "newsmon.storage.lock",
    "newsmon.storage.wait",
    "trafilatura",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.postgresql.psycopg",
)
_PR_SET_PDEATHSIG = 1
MAX_REQUEST = 1 << 20


@dataclass
class Request:
    """One command: what to run ("module" or "code") with which argv, where, and how."""

    kind: str
    target: str
    args: list[str]
    cwd: str
    env: dict[str, str]
    fds: list[int]  # stdin, stdout, stderr as received (numbers of this process)


def preload() -> None:
    for name in PRELOAD:
        importlib.import_module(name)
    unsafe = []
    if threading.active_count() != 1:
        unsafe.append(f"threads {[thread.name for thread in threading.enumerate()]}")
    if "twisted.internet.reactor" in sys.modules:
        unsafe.append("a Twisted reactor is installed")
    if logging.getLogger().handlers:
        unsafe.append("the root logger has handlers")
    if unsafe:
        sys.exit(f"command server: importing {PRELOAD} left {'; '.join(unsafe)}: cannot fork")


def receive(connection: socket.socket) -> Request | None:
    """The request, or None when the client closed the connection without sending one."""
    data, fds, _, _ = socket.recv_fds(connection, MAX_REQUEST, 3)
    if not data:
        return None
    while not data.endswith(b"\n"):
        more = connection.recv(MAX_REQUEST)
        if not more:
            break
        data += more
    fields = json.loads(data)
    return Request(fds=fds, **fields)


def serve(path: str) -> Request:
    """Answer requests until the client closes; returns only in a forked child, with its request."""
    parent = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".new")
    listener.listen(16)
    os.rename(path + ".new", path)  # the client waits for this name: it appears ready to connect
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    # what a child must close: clients' connections (as socket objects, so that none is closed
    # twice, the second time under a number the child has reused) and pidfds
    connections: list[socket.socket] = []
    pidfds: list[int] = []
    while os.getppid() == parent:  # the test process is gone: so is this server
        for key, _ in selector.select(timeout=1.0):
            if key.fileobj is listener:
                connection, _ = listener.accept()
                request = receive(connection)
                if request is None:
                    connection.close()
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    listener.close()
                    for other in [*connections, connection]:
                        other.close()
                    for pidfd in pidfds:
                        os.close(pidfd)
                    return request
                for fd in request.fds:
                    os.close(fd)
                pidfd = os.pidfd_open(pid)
                selector.register(pidfd, selectors.EVENT_READ, (pid, connection))
                pidfds.append(pidfd)
                connections.append(connection)
                answer(connection, {"pid": pid})
            else:
                pid, connection = key.data
                _, status, usage = os.wait4(pid, 0)
                selector.unregister(key.fd)
                pidfds.remove(key.fd)
                connections.remove(connection)
                os.close(key.fd)
                answer(connection, {"returncode": exit_code(status), "maxrss_kb": usage.ru_maxrss})
                connection.close()
    sys.exit(0)


def exit_code(status: int) -> int:
    return os.waitstatus_to_exitcode(status)


def answer(connection: socket.socket, message: dict[str, Any]) -> None:
    # the client may have stopped waiting (its test failed or timed out); the child is still reaped
    with contextlib.suppress(BrokenPipeError):
        connection.sendall(json.dumps(message).encode() + b"\n")


def run(request: Request, base_path: list[str]) -> None:
    """In the child: become `python -m MODULE ARGS` (or `python -c CODE ARGS`)."""
    for number, fd in enumerate(request.fds):
        os.dup2(fd, number)
    for fd in set(request.fds):
        if fd > 2:
            os.close(fd)
    os.chdir(request.cwd)
    os.environ.clear()
    os.environ.update(request.env)
    # sys.path as the interpreter builds it: the script's folder, $PYTHONPATH, then the rest
    first = {"module": os.getcwd(), "code": ""}
    pythonpath = [p for p in request.env.get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [first[request.kind], *map(os.path.abspath, pythonpath), *base_path]
    importlib.invalidate_caches()
    if request.kind == "module":
        sys.argv = ["-m", *request.args]
        # as in `python -m`, the module runs as __main__ only: an import of it is a second copy
        # (and runpy warns on stderr when it finds the module imported already)
        sys.modules.pop(request.target, None)
        runpy.run_module(request.target, run_name="__main__", alter_sys=True)
    else:
        sys.argv = ["-c", *request.args]
        main = types.ModuleType("__main__")
        sys.modules["__main__"] = main
        exec(compile(request.target, "<string>", "exec"), main.__dict__)


def hide_server_frames(error: BaseException) -> None:
    """Print an uncaught error's traceback from the command's first frame, as a fresh
    interpreter would."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename in SERVER_FILES:
        tb = tb.tb_next
    sys.excepthook(type(error), error.with_traceback(tb), tb)


def exit_like_the_interpreter(request: Request, base_path: list[str]) -> NoReturn:
    """Run the command, then end the child as `python` ends: uncaught errors printed (status 1),
    SystemExit's status or message, non-daemon threads joined, atexit handlers run, stdio flushed.

    What `os._exit` skips is the interpreter's teardown of every module, which here would touch
    (and copy, page by page) the memory shared with the server: ~1 s a command, for no effect a
    test can see. multiprocessing's forked children end the same way.
    """
    interrupted = False
    try:
        run(request, base_path)
        status = 0
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
        if not isinstance(stop.code, int | None):
            print(stop.code, file=sys.stderr)
    except BaseException as error:  # noqa: BLE001 (printed, as the interpreter prints it)
        hide_server_frames(error)
        status, interrupted = 1, isinstance(error, KeyboardInterrupt)
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if interrupted:  # an uncaught Ctrl-C ends Python by SIGINT, so the shell sees it
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(status)


SERVER_FILES = {__file__, runpy.run_module.__code__.co_filename}

if __name__ == "__main__":
    # end with the test process even when it is killed
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    base_path = sys.path[1:]  # without this file's folder: a child sees tests/ only via PYTHONPATH
    preload()
    # the imported objects stay out of the children's garbage collections, so a collection
    # does not write to (and copy) every page shared with this process
    gc.freeze()
    exit_like_the_interpreter(serve(sys.argv[1]), base_path)
