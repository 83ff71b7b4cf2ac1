"""Change detection: which figures of a new article version are worth an alert.

Called by the store step in the same transaction as the version and its figures (the
transactional outbox): it sets every figure's status and writes Alert rows with one pending
Delivery per matching channel. The rules, per (topic, quantity) and separately for counts and
forecasts ("tracks"), comparing with figures already assessed (stored earlier):

- the first figure ever seen in a track -> `new_figure`;
- a figure whose value differs by at least `min_change` (relative) from every value already
  reported in the track -> `figure_changed`, carrying the current value (the last reported);
- a value within `min_change` of a reported one -> no alert, status `corroboration`;
- a new version of a known article whose figure for the track changed -> `article_revised`;
- a near-duplicate (syndicated) article -> status `duplicate`, never an alert;
- at most one alert per track per version: the first figure in text order is the article's
  headline; later differing figures of the same track (often history: "up from 1,500") are kept
  with status `untracked`.

An article published earlier but crawled later is judged against what is already known (stored
order), never re-orders history: it raises an alert only if its value is new to us, and the
message shows both publication dates.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from alerts.payload import build_payload, published_at, source_name
from config import Config
from storage import alerts as store
from storage.models import Alert, ArticleVersion, Figure, utcnow


def differs(value: float, reported: float, min_change: float) -> bool:
    """True when `value` is at least `min_change` (relative to the reported value) away from it."""
    if reported == 0:
        return value != 0
    return abs(value - reported) / abs(reported) >= min_change


def matching_channels(config: Config, topic: str, kind: str) -> list[str]:
    return [
        channel.name
        for channel in config.alerts.channels
        if (channel.topics is None or topic in channel.topics)
        and (channel.kinds is None or kind in channel.kinds)
    ]


def assess_version(
    session: Session, config: Config, version: ArticleVersion, now: datetime | None = None
) -> list[Alert]:
    """Decide on the figures of a freshly stored (flushed) version; returns the alerts written."""
    now = now or utcnow()
    session.flush()  # figure ids go into the alerts' dedupe keys
    figures = sorted(version.figures, key=lambda figure: figure.start_offset)
    pending = [figure for figure in figures if figure.status is None]  # replays assess nothing
    if version.article.duplicate_of_id is not None:
        for figure in pending:
            figure.status = "duplicate"
        session.flush()
        return []
    tracks: dict[tuple[str, bool], list[Figure]] = {}
    for figure in pending:
        if figure.quantity is None or config.quantity(figure.quantity) is None:
            figure.status = "untracked"
            continue
        tracks.setdefault((figure.quantity, bool(figure.projection)), []).append(figure)
    before = store.previous_version(session, version)
    alerts = []
    for (quantity, projection), track in tracks.items():
        earlier_own = (
            [
                figure
                for figure in before.figures
                if figure.quantity == quantity and bool(figure.projection) == projection
            ]
            if before is not None
            else []
        )
        alert = _assess_track(
            session, config, version, quantity, projection, track, earlier_own, now
        )
        if alert is not None:
            alerts.append(alert)
    session.flush()
    return alerts


def _assess_track(
    session: Session,
    config: Config,
    version: ArticleVersion,
    quantity: str,
    projection: bool,
    track: Sequence[Figure],
    earlier_own: Sequence[Figure],
    now: datetime,
) -> Alert | None:
    settings = config.quantity(quantity)
    assert settings is not None  # tracks hold configured quantities only
    min_change = settings.min_change
    reported = store.reported_figures(session, quantity, projection, version.id)
    alert = None
    for figure in track:
        if earlier_own:
            # a revision: compare with what this same article said before
            if not all(differs(figure.value, own.value, min_change) for own in earlier_own):
                figure.status = "corroboration"
            elif alert is None:
                replaced = _replaced(earlier_own, track, min_change)
                figure.status = "revised"
                alert = _raise(
                    session, config, "article_revised", settings.label, figure, replaced, now
                )
            else:
                figure.status = "untracked"
            continue
        if reported and not all(differs(figure.value, old.value, min_change) for old in reported):
            figure.status = "corroboration"
        elif alert is None:
            previous = reported[-1] if reported else None
            kind = "figure_changed" if previous is not None else "new_figure"
            figure.status = "forecast" if projection else ("changed" if previous else "new")
            alert = _raise(session, config, kind, settings.label, figure, previous, now)
        else:
            figure.status = "untracked"
    return alert


def _replaced(earlier_own: Sequence[Figure], track: Sequence[Figure], min_change: float) -> Figure:
    """The earlier version's figure the new version no longer states (else its first)."""
    for own in earlier_own:
        if all(differs(figure.value, own.value, min_change) for figure in track):
            return own
    return earlier_own[0]


def _conflict(config: Config, figure: Figure, previous: Figure | None) -> bool:
    """Two different sources giving different current values within the conflict window."""
    if previous is None:
        return False
    ours, theirs = source_name(figure.version.article), source_name(previous.article)
    if ours is None or theirs is None or ours == theirs:
        return False
    ours_at, theirs_at = published_at(figure.version), published_at(previous.version)
    if ours_at is None or theirs_at is None:
        return False
    return abs(ours_at - theirs_at) <= config.alerts.conflict_window


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
    if store.alert_exists(session, dedupe_key):
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
    return store.add_alert(session, alert, matching_channels(config, topic, kind), now)
