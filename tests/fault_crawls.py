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
    # four naps at once: a worker that naps takes no other task, so both answer (one after
    # another, a single idle worker could answer every call)
    answers = [future.result() for future in [pool.submit(_pids_after_nap) for _ in range(4)]]
    pids = {pid for pid, _ in answers}
    forkservers = {parent for _, parent in answers}
    record = {"crawl": os.getpid(), "workers": sorted(pids), "forkserver": sorted(forkservers)}
    Path(os.environ["NEWSMON_TEST_PIDS"]).write_text(json.dumps(record))
    time.sleep(120)  # mid-crawl: the test kills the daemon now
    return []


def _pids_after_nap() -> tuple[int, int]:
    time.sleep(0.5)
    return os.getpid(), os.getppid()
