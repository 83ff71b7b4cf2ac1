"""Assessing a crawl: every version it stored, in the order of the time each speaks for.

Downloads finish in any order, so versions are stored unassessed and judged here, after the
crawl, oldest first: a backlog served newest first still reads as the story went. Sources in
their first crawl (alerts.first_crawl: baseline, or `newsmon crawl --baseline`) are assessed
quietly, and each topic they touched gets one `baseline` summary. One transaction: statuses,
alerts and deliveries are written together (the outbox), or not at all, and a crawl that dies
first leaves its versions unassessed for the next crawl of the same source.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from newsmon.alerts.baseline import baseline_alert
from newsmon.alerts.detect import assess_version
from newsmon.clock import utcnow
from newsmon.config import Config
from newsmon.storage import Database, tracks


@dataclass
class AssessReport:
    versions: int = 0
    alerts: int = 0
    baselines: list[str] = field(default_factory=list)  # topics given a baseline summary


def assess_sources(
    database: Database,
    config: Config,
    source_ids: Sequence[int],
    quiet: Collection[int] = (),
    now: datetime | None = None,
) -> AssessReport:
    """Assess the unassessed versions of these sources; those of `quiet` ones as a baseline."""
    now = now or utcnow()
    report = AssessReport()
    with database.session() as session:
        touched: set[str] = set()
        for version in tracks.unassessed_versions(session, source_ids):
            baseline = version.article.source_id in quiet
            report.alerts += len(assess_version(session, config, version, now, baseline=baseline))
            report.versions += 1
            if baseline:
                touched |= {f.topic for f in version.figures if f.status == "baseline" and f.topic}
        for topic in sorted(touched):
            if topic in config.topics and baseline_alert(session, config, topic, now) is not None:
                report.baselines.append(topic)
    return report
