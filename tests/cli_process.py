"""Run `newsmon ...` as a process of its own, forked from a server that imported everything once.

`crawl` and `run` start Twisted's reactor, which cannot restart in one process, so their tests
need a process per command; a fresh interpreter spends ~1 s of CPU on imports before a crawl of a
few local pages. tests/command_server.py imports newsmon's CLI and its crawl dependencies once
per pytest process and forks a child per command. The child is `python -m newsmon.cli ARGS`
(or `python -c CODE ARGS`) in every way a test sees: its own pid to signal, the cwd, environment
(PYTHONPATH included), stdin, stdout and stderr given here, and the interpreter's exit status.

`run_newsmon` answers like `subprocess.run(..., capture_output=True, text=True)`; `start_newsmon`
returns a `CommandProcess` used like `subprocess.Popen`. The real console script keeps its own
tests (test_cli, test_extract, test_packaging).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

SERVER = Path(__file__).with_name("command_server.py")
CLI_MODULE = "newsmon.cli"
SERVER_START_TIMEOUT = 120.0  # imports on a loaded machine
Stream = int | IO[Any] | None


class CommandServer:
    """tests/command_server.py, running while this process runs."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="newsmon-commands-"))
        self.socket_path = str(self.folder / "server.sock")
        self.log_path = self.folder / "server.log"
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(SERVER), self.socket_path],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                env=env,
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not os.path.exists(self.socket_path):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"command server did not start:\n{self.log_path.read_text()}")
            time.sleep(0.05)

    def connect(self) -> socket.socket:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.connect(self.socket_path)
        return connection

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


_server: CommandServer | None = None


def command_server() -> CommandServer:
    """The server of this pytest process, started on first use."""
    global _server
    if _server is None or _server.process.poll() is not None:
        _server = CommandServer()
        atexit.register(_server.stop)
    return _server


class CommandProcess:
    """A forked `newsmon` command; the parts of `subprocess.Popen` the tests use."""

    def __init__(
        self, args: list[str], connection: socket.socket, captured: dict[str, IO[bytes]], text: bool
    ) -> None:
        self.args = args
        self.returncode: int | None = None
        self.maxrss_kb: int | None = None  # peak resident memory of the command, once it ended
        self._connection = connection
        self._captured = captured
        self._text = text
        self._buffer = b""
        self.pid: int = self._message(timeout=60)["pid"]

    def _message(self, timeout: float | None) -> dict[str, Any]:
        self._connection.settimeout(timeout)
        while b"\n" not in self._buffer:
            chunk = self._connection.recv(4096)
            if not chunk:
                raise RuntimeError(f"the command server ended while running {self.args}")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            try:
                message = self._message(timeout)
            except TimeoutError:
                raise subprocess.TimeoutExpired(self.args, timeout) from None
            self.returncode, self.maxrss_kb = message["returncode"], message["maxrss_kb"]
            self._connection.close()
        return self.returncode

    def poll(self) -> int | None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.wait(timeout=0.001)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def output(self, name: str) -> str | bytes | None:
        """What the command wrote to a stream given as subprocess.PIPE (None otherwise)."""
        stream = self._captured.get(name)
        if stream is None:
            return None
        stream.seek(0)
        data = stream.read()
        return data.decode(errors="replace") if self._text else data

    def communicate(self, timeout: float | None = None) -> tuple[Any, Any]:
        self.wait(timeout)
        return self.output("stdout"), self.output("stderr")


def _descriptor(
    stream: Stream, name: str, inherited: int, captured: dict[str, IO[bytes]]
) -> tuple[int, IO[Any] | None]:
    """(fd for the child, a file this call opened and must close after the fork)."""
    if stream is None:
        return inherited, None
    if stream == subprocess.PIPE:
        # a file, not a pipe: a crawl's worker processes inherit it and may outlive the command
        captured[name] = tempfile.TemporaryFile()  # noqa: SIM115 (read and closed by the caller)
        return captured[name].fileno(), None
    if stream == subprocess.DEVNULL:
        devnull = open(os.devnull, "r+b")  # noqa: SIM115 (closed once the child has it)
        return devnull.fileno(), devnull
    if isinstance(stream, int):
        return stream, None
    return stream.fileno(), None


def start_newsmon(
    *args: str | Path,
    code: str | None = None,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    stdin: Stream = subprocess.DEVNULL,
    stdout: Stream = None,
    stderr: Stream = None,
    text: bool = True,
) -> CommandProcess:
    """`python -m newsmon.cli ARGS` (or `python -c CODE ARGS`) started, not waited for."""
    argv = [str(arg) for arg in args]
    kind, target = ("code", code) if code is not None else ("module", CLI_MODULE)
    command = [sys.executable, "-c" if code is not None else "-m", target, *argv]
    captured: dict[str, IO[bytes]] = {}
    opened: list[IO[Any]] = []
    fds = []
    for stream, name, inherited in ((stdin, "stdin", 0), (stdout, "stdout", 1)):
        fd, file = _descriptor(stream, name, inherited, captured)
        fds.append(fd)
        opened += [file] if file else []
    if stderr == subprocess.STDOUT:
        fds.append(fds[1])
    else:
        fd, file = _descriptor(stderr, "stderr", 2, captured)
        fds.append(fd)
        opened += [file] if file else []
    request = {
        "kind": kind,
        "target": target,
        "args": argv,
        "cwd": os.path.abspath(cwd or os.getcwd()),
        "env": dict(os.environ if env is None else env),
    }
    connection = command_server().connect()
    try:
        socket.send_fds(connection, [json.dumps(request).encode() + b"\n"], fds)
        return CommandProcess(command, connection, captured, text)
    finally:
        for file in opened:
            file.close()


def run_newsmon(
    *args: str | Path,
    code: str | None = None,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run([python, -m, newsmon.cli, *args], capture_output=True, text=True, ...)`,
    forked from the command server; on timeout the command is killed and TimeoutExpired raised."""
    stdin: Stream = subprocess.DEVNULL
    if input is not None:
        stdin = tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
        stdin.write(input.encode())
        stdin.seek(0)
    process = start_newsmon(
        *args,
        code=code,
        cwd=cwd,
        env=env,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise subprocess.TimeoutExpired(process.args, timeout or 0, out, err) from None
    finally:
        if not isinstance(stdin, int) and stdin is not None:
            stdin.close()
    return subprocess.CompletedProcess(process.args, process.wait(), out, err)
