"""A small local news site for end-to-end tests: given article pages by path, it serves them
and one RSS feed per outlet (the first path segment), on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from peers import page_server


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
        with page_server(self._page) as base:
            self.base = base
            yield self
