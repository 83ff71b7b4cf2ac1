"""Change detection: which figures of an article version are worth an alert.

Versions are assessed in the order of the time they speak for (alerts.assess; a version's
`dated_at`: its publication, or a revision's modified time), never in download order. Each
assessment sets every figure's status and writes Alert rows with one pending Delivery per
matching channel in the same transaction (the transactional outbox). Per (topic, quantity) and
separately for counts and forecasts ("tracks"):

- one report per track per version: the first figure in text order leads (the article's
  headline number); later figures of the track (often history: "up from 1,500") are `untracked`;
- the track's *current value* is its latest-dated report (storage.tracks);
- the first report of a track -> `new_figure`;
- a report dated before the current value is history (status `history`): never a change
  backwards; if its value is new to us and the quantity's `late_report` is on -> `late_report`;
- within `min_change` of the current value -> no alert, status `corroboration`;
- differing from the current value, but the same value was reported by another outlet than the
  current value's within `restatement_window` -> no alert, status `conflict` (outlets disagree:
  alternating values raise one alert, not one per report);
- otherwise -> `figure_changed` from the current value, marked as a conflict when the current
  value is another outlet's within `alerts.conflict_window`;
- a new version of a known article whose figure changed -> `article_revised` (unless the
  revision is dated before another outlet's current value: then it is history);
- a near-duplicate (syndicated) article -> status `duplicate`, never an alert;
- a quiet baseline (a source's first crawl) sets status `baseline` and raises nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from newsmon.alerts.payload import build_payload
from newsmon.clock import utcnow
from newsmon.config import Config, Quantity
from newsmon.storage import alerts as alert_rows
from newsmon.storage import tracks
from newsmon.storage.models import Alert, ArticleVersion, Figure
from newsmon.storage.tracks import differs, version_date

__all__ = ["assess_version", "differs", "matching_channels"]


def matching_channels(config: Config, topic: str, kind: str) -> list[str]:
    return [
        channel.name
        for channel in config.alerts.channels
        if (channel.topics is None or topic in channel.topics)
        and (channel.kinds is None or kind in channel.kinds)
    ]


@dataclass
class Decision:
    status: str
    kind: str | None = None  # the alert to raise, if any
    previous: Figure | None = None


def assess_version(
    session: Session,
    config: Config,
    version: ArticleVersion,
    now: datetime | None = None,
    *,
    baseline: bool = False,
) -> list[Alert]:
    """Decide on the figures of a stored (flushed) version; returns the alerts written.
    `baseline`: store the statuses quietly (`baseline`), raise nothing."""
    now = now or utcnow()
    session.flush()  # figure ids go into the alerts' dedupe keys
    figures = sorted(version.figures, key=lambda figure: figure.start_offset)
    pending = [figure for figure in figures if figure.status is None]  # replays assess nothing
    if version.article.duplicate_of_id is not None:
        for figure in pending:
            figure.status = "duplicate"
        session.flush()
        return []
    track_figures: dict[tuple[str, bool], list[Figure]] = {}
    for figure in pending:
        if figure.quantity is None or config.quantity(figure.quantity) is None:
            figure.status = "untracked"
            continue
        track_figures.setdefault((figure.quantity, bool(figure.projection)), []).append(figure)
    before = alert_rows.previous_version(session, version)
    alerts = []
    for (quantity, projection), track in track_figures.items():
        lead = track[0]
        for figure in track[1:]:
            figure.status = "untracked"  # not the article's headline number for this track
        earlier_own = (
            [
                figure
                for figure in before.figures
                if figure.quantity == quantity and bool(figure.projection) == projection
            ]
            if before is not None
            else []
        )
        settings = config.quantity(quantity)
        assert settings is not None  # tracks hold configured quantities only
        if baseline:
            lead.status = "baseline"
            continue
        decision = _decide(session, config, settings, version, lead, track, earlier_own)
        lead.status = decision.status
        session.flush()  # the next version's queries see this status
        if decision.kind is not None:
            alert = _raise(
                session, config, decision.kind, settings.label, lead, decision.previous, now
            )
            if alert is not None:
                alerts.append(alert)
    session.flush()
    return alerts


def _decide(
    session: Session,
    config: Config,
    settings: Quantity,
    version: ArticleVersion,
    lead: Figure,
    track: Sequence[Figure],
    earlier_own: Sequence[Figure],
) -> Decision:
    quantity, projection = lead.quantity or "", bool(lead.projection)
    min_change = settings.min_change
    date = version_date(version)
    if earlier_own:
        # a revision: history if another outlet's report is newer, else compared with what
        # this same article said before
        others = tracks.current_figure(
            session, quantity, projection, exclude_article=version.article_id
        )
        if others is not None and date < version_date(others.version):
            return Decision("history")
        if not all(differs(lead.value, own.value, min_change) for own in earlier_own):
            return Decision("corroboration")
        return Decision("revised", "article_revised", _replaced(earlier_own, track, min_change))
    current = tracks.current_figure(session, quantity, projection, exclude_version=version.id)
    if current is None:
        return Decision("forecast" if projection else "new", "new_figure")
    if date < version_date(current.version):
        values = tracks.reported_values(session, quantity, projection, version.id)
        if config.late_report(settings) and all(
            differs(lead.value, value, min_change) for value in values
        ):
            return Decision("late", "late_report", current)
        return Decision("history")
    if not differs(lead.value, current.value, min_change):
        return Decision("corroboration")
    recent = tracks.reports_between(
        session, quantity, projection, date - settings.restatement_window, date, version.id
    )
    if any(
        figure.article.source_id != current.article.source_id
        and not differs(lead.value, figure.value, min_change)
        for figure in recent
    ):
        return Decision("conflict")
    return Decision("forecast" if projection else "changed", "figure_changed", current)


def _replaced(earlier_own: Sequence[Figure], track: Sequence[Figure], min_change: float) -> Figure:
    """The earlier version's figure the new version no longer states (else its first)."""
    for own in earlier_own:
        if all(differs(figure.value, own.value, min_change) for figure in track):
            return own
    return earlier_own[0]


def _conflict(config: Config, figure: Figure, previous: Figure | None) -> bool:
    """The value replaced is another outlet's, dated within the conflict window."""
    if previous is None:
        return False
    ours, theirs = figure.article.source_id, previous.article.source_id
    if ours is None or theirs is None or ours == theirs:
        return False
    gap = abs(version_date(figure.version) - version_date(previous.version))
    return gap <= config.alerts.conflict_window


def _raise(
    session: Session,
    config: Config,
    kind: str,
    label: str,
    figure: Figure,
    previous: Figure | None,
    now: datetime,
) -> Alert | None:
    dedupe_key = f"{kind}:{figure.quantity}:{figure.id}"
    if alert_rows.alert_exists(session, dedupe_key):
        return None
    topic = (figure.quantity or "").partition("/")[0]
    alert_id = str(uuid.uuid4())
    payload = build_payload(
        alert_id=alert_id,
        kind=kind,
        label=label,
        figure=figure,
        previous=previous,
        conflict=kind == "figure_changed" and _conflict(config, figure, previous),
        created_at=now,
    )
    alert = Alert(
        id=alert_id,
        dedupe_key=dedupe_key,
        kind=kind,
        topic=topic,
        quantity=figure.quantity,
        figure_id=figure.id,
        previous_figure_id=previous.id if previous is not None else None,
        article_id=figure.article_id,
        payload=payload,
        created_at=now,
    )
    return alert_rows.add_alert(session, alert, matching_channels(config, topic, kind), now)
