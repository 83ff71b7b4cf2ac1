"""One poll: crawl sources once, then send the alerts the crawl decided.

`newsmon crawl` and the daemon's crawls both call `crawl_and_dispatch`, so "after a crawl the
alerts go out" is written once. The daemon also sends on its own schedule (`dispatch_every`):
retries, and what a crawl cut short left pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from newsmon.alerts.dispatch import DispatchReport, dispatch_pending
from newsmon.config import Config
from newsmon.spiders.crawl import SourceReport, run_crawl
from newsmon.storage import Database


@dataclass
class PollResult:
    reports: list[SourceReport]
    dispatch: DispatchReport | None  # None: nothing was sent (a dry run, or the crawl was cut)


def crawl_and_dispatch(
    config: Config, source_names: Sequence[str] | None = None, **crawl_options: Any
) -> PollResult:
    """Run the named (default: all) sources once (`run_crawl`, with its options), then send
    every pending alert delivery. A dry run sends nothing; nor does a crawl cut by a signal
    (the process is stopping: the daemon's next dispatch, or the next crawl, sends them)."""
    reports = run_crawl(config, source_names, **crawl_options)
    if crawl_options.get("dry_run") or any(report.signum for report in reports):
        return PollResult(reports, None)
    database = Database.open(config.storage.url, upgrade=False)
    try:
        return PollResult(reports, dispatch_pending(database, config))
    finally:
        database.dispose()
