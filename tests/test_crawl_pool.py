"""The crawl process's extraction pool and garbage collector: workers ready before the first
page is read, and the collector's settings given back when the crawl ends."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

import pytest

from newsmon.spiders.collector import fewer_collections
from newsmon.spiders.crawl import extraction_pool


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        # "pid (name) state ppid ...": the name may hold spaces, so split after its ')'
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def test_the_extraction_pool_starts_its_workers_before_any_page_is_read() -> None:
    pool = extraction_pool(2)
    try:
        workers: set[int] = set()
        deadline = time.monotonic() + 60  # the forkserver imports the readers first
        while time.monotonic() < deadline and len(workers) < 2:
            # this process -> its forkserver -> the workers
            workers = {w for child in _children(os.getpid()) for w in _children(child)}
            time.sleep(0.05)
        assert len(workers) == 2  # nothing was submitted: the pool started them itself
        # and they answer: the first page does not wait for their start
        assert pool.submit(os.getpid).result(timeout=30) in workers
    finally:
        pool.shutdown(wait=True)


def test_the_daemons_pool_starts_no_worker_until_a_page_is_read() -> None:
    # the long-lived engine's pool: a daemon whose polls answer 304 keeps no idle workers
    pool = extraction_pool(2, start_now=False)
    try:

        def workers() -> set[int]:  # this process -> its forkserver -> the workers
            return {w for child in _children(os.getpid()) for w in _children(child)}

        time.sleep(2)  # an eager pool has its workers by now (the forkserver may be up already)
        assert workers() == set()
        worker = pool.submit(os.getpid).result(timeout=60)  # the first page starts them
        assert worker in workers()
    finally:
        pool.shutdown(wait=True)


def test_the_collector_is_given_back_as_it_was_even_after_an_error() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        assert gc.get_freeze_count() > 0  # what exists is left out of collections meanwhile
        assert gc.get_threshold()[0] > before[0]
        raise RuntimeError("the crawl crashed")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
