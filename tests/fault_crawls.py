"""A crawl target for the fault tests: starts the real extraction pool, writes the pids of the
crawl process, its workers and their forkserver to $NEWSMON_TEST_PIDS, then stays busy."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from newsmon.config import Config
from newsmon.spiders.crawl import extraction_pool


def crawl(config: Config, source_names: Sequence[str] | None = None) -> list[int]:
    pool = extraction_pool(2)
    workers = {pool.submit(time.sleep, 0.5) for _ in range(4)}  # both workers start
    for future in workers:
        future.result()
    pids = {pool.submit(os.getpid).result() for _ in range(8)}
    forkservers = {pool.submit(os.getppid).result() for _ in range(4)}
    record = {"crawl": os.getpid(), "workers": sorted(pids), "forkserver": sorted(forkservers)}
    Path(os.environ["NEWSMON_TEST_PIDS"]).write_text(json.dumps(record))
    time.sleep(120)  # mid-crawl: the test kills the daemon now
    return []
