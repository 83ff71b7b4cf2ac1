"""A small local news site for end-to-end tests: given article pages by path, it serves them
and one RSS feed per outlet (the first path segment), on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StorySite:
    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages  # path -> HTML; may be changed between crawls
        self.base = ""

    def feed(self, outlet: str) -> str:
        return f"{self.base}/{outlet}/rss.xml"

    def _feed_xml(self, outlet: str) -> str:
        items = "".join(
            f"<item><title>{path}</title><link>{self.base}{path}</link>"
            f"<guid>{self.base}{path}</guid></item>"
            for path in self.pages
            if path.split("/")[1] == outlet
        )
        return (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>{outlet}</title>'
            f"<link>{self.base}/{outlet}/</link><description>news</description>"
            f"{items}</channel></rss>"
        )

    def _page(self, path: str) -> tuple[str, str] | None:
        if path.endswith("/rss.xml"):
            return "application/rss+xml", self._feed_xml(path.split("/")[1])
        if path in self.pages:
            return "text/html; charset=utf-8", self.pages[path]
        return None

    @contextmanager
    def serve(self) -> Iterator[StorySite]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
                page = site._page(self.path)
                if page is None:
                    self.send_error(404)
                    return
                data = page[1].encode()
                self.send_response(200)
                self.send_header("Content-Type", page[0])
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
