"""The work done per article off the crawl's reactor thread, in a worker process: extraction,
figure reading, and the ingest pipeline's pure first steps (topics, figures assigned to
quantities: newsmon.ingest.match), all CPU-bound. The crawl process only stores what comes
back. Results cross the process boundary by pickle, so failures come back as values, not
exceptions with custom constructors."""

from __future__ import annotations

from dataclasses import dataclass

from newsmon.figures import extract_figures
from newsmon.ingest import Match, TopicRules, match
from newsmon.spiders.article_page import ArticleRecord, ExtractionError, extract_article
from newsmon.spiders.interruption import ignore_interrupts
from newsmon.spiders.simhash import simhash


@dataclass
class ReadFailure:
    kind: str
    message: str


@dataclass
class ReadArticle:
    record: ArticleRecord
    matched: Match | None  # with `rules`: its topics, and its figures as assigned


def read_article(
    html: bytes | str, url: str | None, rules: TopicRules | None = None
) -> ReadArticle | ReadFailure:
    """Extract the article, the figures of its text (offsets into `record.text`) and its
    SimHash; with the source's `rules`, its topics and figures assigned to their quantities."""
    try:
        record = extract_article(html, url)
    except ExtractionError as exc:
        return ReadFailure(exc.kind, str(exc))
    record.figures = extract_figures(record.text)
    record.simhash = simhash(record.text)
    if rules is None:
        return ReadArticle(record, None)
    matched = match(rules, record)
    record.figures = matched.figures  # one list pickled back, not the read and assigned copies
    return ReadArticle(record, matched)


def start_worker() -> None:
    """Each worker's initializer: leave Ctrl-C to the crawl process, warm up."""
    ignore_interrupts()
    warm_up()


def warm_up() -> None:
    """Run once per worker so the first real article does not pay for lazy imports."""
    read_article("<html><body><article><p>Warm up.</p></article></body></html>", "http://x/")
