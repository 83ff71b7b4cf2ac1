"""Python's cyclic garbage collector, tuned for the crawl process while it crawls.

The crawl process holds ~150,000 long-lived objects (Scrapy, Twisted, SQLAlchemy, the config)
and allocates many short-lived ones per article (requests, responses, Deferreds, ORM rows).
With the default thresholds a young collection runs every 700 allocations and the older ones
keep walking the long-lived objects: measured on bench/crawl.py, ~0.5 ms of the crawl
process's CPU per article, which the workers then lack (docs/crawling.md, Throughput)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# allocations between young collections: what a few articles allocate, so garbage cycles are
# still collected every few articles, with far fewer passes
YOUNG_THRESHOLD = 10_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Within (or around the function it decorates): what exists now is left out of
    collections (gc.freeze: it lives as long as the crawl), and young collections run less
    often; both undone on the way out."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
