"""A source type and a channel type that are not part of newsmon, written by the recipes in
docs/development.md ("Add a source type", "Add a channel"); importing this module registers
them. Only the extension tests import it (in their own processes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import scrapy
from scrapy.http import Response

from newsmon.alerts.channels import Sender, register_channel
from newsmon.config import ChannelBase, Source
from newsmon.spiders.sources import Link, SourceSpider, register_source


class JsonListSource(Source):
    """A JSON document listing article URLs under `key`."""

    type: Literal["jsonlist"]
    key: str = "articles"


class JsonListSpider(SourceSpider):
    def read_source(self, response: Response) -> Iterator[scrapy.Request]:
        urls = json.loads(response.text)[self.job.source.key]
        yield from self.follow(Link(response.urljoin(url)) for url in urls)


register_source(JsonListSource, JsonListSpider)


class NotebookChannel(ChannelBase):
    """One line per alert, "kind value label", appended to `path`."""

    type: Literal["notebook"]
    path: Path


class NotebookSender(Sender[NotebookChannel]):
    def send(self, payloads: list[dict[str, Any]]) -> str:
        with self.settings.path.open("a", encoding="utf-8") as notebook:
            for p in payloads:
                notebook.write(f"{p['kind']} {p['value']:g} {p['label']}\n")
        return f"noted {len(payloads)}"


register_channel(NotebookChannel, NotebookSender)
