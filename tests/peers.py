"""Real peers on 127.0.0.1 for tests: an HTTP server standing in for Slack and webhooks
(scripted answers, recorded requests), an SMTP server (aiosmtpd) that keeps what it receives,
and a page server for small news sites (`page_server`).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Answer:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow receiver)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived

    def json(self) -> Any:
        return json.loads(self.body)


class HTTPPeer:
    """Answers POSTs from a script (then 200 "ok" forever) and records every request."""

    def __init__(self, script: list[Answer] | None = None) -> None:
        self.script = list(script or [])
        self.received: list[Received] = []
        self._lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with peer._lock:
                    peer.received.append(
                        Received(self.path, dict(self.headers), body, time.monotonic())
                    )
                    answer = peer.script.pop(0) if peer.script else Answer()
                data = answer.body.encode()
                time.sleep(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read `received` instead."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def bodies(self) -> list[Any]:
        return [request.json() for request in self.received]

    def __enter__(self) -> HTTPPeer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(port: int, mailbox: Mailbox) -> Iterator[Controller]:
    """A real SMTP server on 127.0.0.1:port for the duration of the block."""
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


class TCPProxy:
    """A TCP forwarder on 127.0.0.1 to a real server (PostgreSQL): `start()` and `stop()` it to
    make the server appear late or vanish for the clients that use the proxy's port; stopping
    cuts every connection through it, as a network outage or a server restart would."""

    def __init__(self, target: tuple[str, int], port: int | None = None) -> None:
        self.target = target
        self.port = port or free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> TCPProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        for sock in ([listener] if listener else []) + sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:  # either side closed: the pump ends
        return
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


# A page: (content type, body) or (content type, body, seconds to wait before answering).
Page = tuple[str, str] | tuple[str, str, float]


def page_server(answer: Callable[[str], Page | None]) -> AbstractContextManager[str]:
    """Serve GET requests on 127.0.0.1 from `answer(path)` (None: 404); yields the base URL."""

    def raw(path: str) -> Raw | None:
        page = answer(path)
        if page is None:
            return None
        if len(page) == 3:
            time.sleep(page[2])
        return 200, {"Content-Type": page[0]}, page[1].encode()

    return raw_server(raw, Counter())


# A raw answer: (status, headers, body).
Raw = tuple[int, dict[str, str], bytes]


@contextmanager
def raw_server(answer: Callable[[str], Raw | None], hits: Counter[str]) -> Iterator[str]:
    """Serve GET requests on 127.0.0.1 from `answer(path)` as given (None: 404), counting
    each path in `hits`; yields the base URL. For redirects, compressed and hostile bodies."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
            hits[self.path] += 1
            raw = answer(self.path)
            if raw is None:
                self.send_error(404)
                return
            status, headers, body = raw
            self.send_response(status)
            for name, value in {"Content-Length": str(len(body)), **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            with contextlib.suppress(OSError):  # the crawler may hang up on a bomb
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
