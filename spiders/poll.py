"""One poll: crawl sources once, then send the alerts the crawl decided.

`newsmon crawl` calls `crawl_and_dispatch`; the daemon's long-lived crawl engine runs its polls
in a reactor that stays up, and calls `dispatch_after_crawl` after each, so "after a crawl the
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
    if crawl_options.get("dry_run"):
        return PollResult(reports, None)
    database = Database.open(config.storage.url, upgrade=False)
    try:
        return PollResult(reports, dispatch_after_crawl(database, config, reports))
    finally:
        database.dispose()


def dispatch_after_crawl(
    database: Database, config: Config, reports: list[SourceReport]
) -> DispatchReport | None:
    """The alerts a crawl decided go out at once, unless a signal cut it (the process is
    stopping); the daemon's crawl engine calls this after each poll as well."""
    if any(report.signum for report in reports):
        return None
    return dispatch_pending(database, config)
