"""The work done per article off the crawl's reactor thread, in a worker process: extraction
and figure reading (both pure and CPU-bound). Results cross the process boundary by pickle, so
failures come back as values, not exceptions with custom constructors."""

from __future__ import annotations

from dataclasses import dataclass

from newsmon.figures import extract_figures
from newsmon.spiders.extract import ArticleRecord, ExtractionError, extract_article
from newsmon.spiders.interruption import ignore_interrupts
from newsmon.spiders.simhash import simhash


@dataclass
class ReadFailure:
    kind: str
    message: str


def read_article(html: bytes | str, url: str | None) -> ArticleRecord | ReadFailure:
    """Extract the article, the figures of its text (offsets into `record.text`) and its
    SimHash."""
    try:
        record = extract_article(html, url)
    except ExtractionError as exc:
        return ReadFailure(exc.kind, str(exc))
    record.figures = extract_figures(record.text)
    record.simhash = simhash(record.text)
    return record


def start_worker() -> None:
    """Each worker's initializer: leave Ctrl-C to the crawl process, warm up."""
    ignore_interrupts()
    warm_up()


def warm_up() -> None:
    """Run once per worker so the first real article does not pay for lazy imports."""
    read_article("<html><body><article><p>Warm up.</p></article></body></html>", "http://x/")
