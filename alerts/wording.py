"""The words every channel uses for an alert record: values, headlines, what happened, sources.

Channels add only their markup (Slack mrkdwn, HTML) and escaping on top of these plain strings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

QUALIFIER_WORDS = {
    "exact": "",
    "approx": "about ",
    "at_least": "at least ",
    "more_than": "more than ",
    "up_to": "up to ",
    "less_than": "fewer than ",
}

KIND_WORDS = {
    "new_figure": "New figure",
    "figure_changed": "Figure changed",
    "article_revised": "Article revised",
    "late_report": "Late report",
    "baseline": "Baseline",
    "test": "Test message",
}
# units that read the same for one and for many ("3,000 personnel", "40 killed")
INVARIANT_UNITS = {"personnel", "killed", "dead", "wounded", "injured", "missing", "people"}


def number(value: float) -> str:
    """3000.0 -> '3,000'; 2.5 -> '2.5'."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def amount(
    value: float, qualifier: str | None, low: float | None = None, high: float | None = None
) -> str:
    """A value as the article put it: 'at least 3,000', '10,000–12,000'."""
    if qualifier == "range" and low is not None and high is not None:
        return f"{number(low)}–{number(high)}"
    return f"{QUALIFIER_WORDS.get(qualifier or 'exact', '')}{number(value)}"


def with_unit(text: str, value: float, unit: str | None) -> str:
    """'about 12,000' + 'troop' -> 'about 12,000 troops' (units are stored as lemmas)."""
    if not unit:
        return text
    if value != 1 and unit.isalpha() and unit.lower() not in INVARIANT_UNITS:
        if unit.endswith("y") and unit[-2:-1] not in "aeiou":
            unit = unit[:-1] + "ies"
        elif not unit.endswith("s"):
            unit += "s"
    return f"{text} {unit}"


def new_amount(payload: dict[str, Any]) -> str:
    return amount(payload["value"], payload["qualifier"], payload.get("low"), payload.get("high"))


def old_amount(payload: dict[str, Any]) -> str | None:
    previous = payload.get("previous")
    return amount(previous["value"], previous["qualifier"]) if previous else None


def change(payload: dict[str, Any]) -> str:
    """'at least 3,000 → 12,000', or just '3,000' for a first figure."""
    old = old_amount(payload)
    return f"{old} → {new_amount(payload)}" if old is not None else new_amount(payload)


def headline(payload: dict[str, Any]) -> str:
    """'North Korean troops in Russia: 3,000 → 12,000', with '(forecast)' for projections; a
    baseline's: each track's current value."""
    if payload["kind"] == "baseline" and payload.get("tracks"):
        return "; ".join(
            f"{track['label']}{' (forecast)' if track['projection'] else ''}: "
            + track_summary(track)
            for track in payload["tracks"]
        )
    forecast = " (forecast)" if payload.get("projection") else ""
    return f"{payload['label']}{forecast}: {change(payload)}"


def day(iso_moment: str | None) -> str | None:
    """'2024-11-01 09:30 UTC' from an ISO timestamp."""
    if not iso_moment:
        return None
    return datetime.fromisoformat(iso_moment).strftime("%Y-%m-%d %H:%M UTC")


def short_day(iso_moment: str | None) -> str | None:
    """'2024-11-01' from an ISO timestamp."""
    return datetime.fromisoformat(iso_moment).strftime("%Y-%m-%d") if iso_moment else None


def said(record: dict[str, Any]) -> str:
    """A value with its qualifier and unit: 'about 12,000 troops'."""
    text = amount(record["value"], record.get("qualifier"), record.get("low"), record.get("high"))
    return with_unit(text, record["value"], record.get("unit"))


def report_dates(record: dict[str, Any]) -> str:
    """When a report (the article, or the previous value's) was published and, for a revision,
    the time it is dated by: 'published 2024-11-01 09:30 UTC, revised 2024-11-03 10:00 UTC'."""
    published = day(record.get("published"))
    dated = day(record.get("dated"))
    parts = [f"published {published}"] if published else []
    if record.get("dated_by") == "fetched":
        parts.append(f"{'revision ' if record.get('revision') else ''}first seen {dated}"
                     " (no date on the page)")  # fmt: skip
    elif record.get("revision") and dated:
        parts.append(f"revised {dated}")
    return ", ".join(parts) or "date unknown"


def report_line(record: dict[str, Any], source: str | None) -> str:
    """'Yonhap, published 2024-10-18 06:00 UTC'."""
    return f"{source or 'an unnamed source'}, {report_dates(record)}"


def facts(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """The facts every channel shows, as (name, text): this report and its dates, the value
    it replaces with its source and dates, who says so, and the sentence."""
    kind, article = payload["kind"], payload["article"]
    if kind == "test":
        return [("Test", "a test message from newsmon: not an alert, nothing changed")]
    if kind == "baseline":
        lines = [(track["label"], track_summary(track)) for track in payload.get("tracks", [])]
        for track in payload.get("tracks", []):
            for other in track.get("disagreeing", []):
                lines.append(
                    ("Sources disagree", f"{other['source'] or 'an unnamed source'} says "
                     f"{with_unit(number(other['value']), other['value'], track['unit'])}")
                )  # fmt: skip
        return lines
    found = [("Now", f"{said(payload)} — {report_line(article, article.get('source'))}")]
    previous = payload.get("previous")
    if previous:
        found.append(
            ("Before", f"{said(previous)} — {report_line(previous, previous.get('source'))}")
        )
    if payload.get("attribution"):
        found.append(("According to", payload["attribution"]))
    if payload.get("sentence"):
        found.append(("Quote", " ".join(payload["sentence"].split())))
    return found


def track_summary(track: dict[str, Any]) -> str:
    """'currently about 12,000 troops (the NIS via Yonhap, 2024-11-20), 7 reports from 3
    outlets'."""
    who = track.get("source") or "an unnamed source"
    if track.get("attribution"):
        who = f"{track['attribution']} via {who}"
    reports, outlets = track["reports"], track["outlets"]
    return (
        f"currently {said(track)} ({who}, {short_day(track.get('dated'))}), "
        f"{reports} report{'s' if reports != 1 else ''} from {outlets} "
        f"outlet{'s' if outlets != 1 else ''}"
    )


def what_happened(payload: dict[str, Any]) -> str:
    """One sentence on the kind of alert, naming the earlier source where there is one."""
    kind = payload["kind"]
    forecast = "forecast " if payload.get("projection") else ""
    previous = payload.get("previous")
    source = payload["article"].get("source") or "an unnamed source"
    if kind == "test":
        return "This is a test message from `newsmon alerts test`: not an alert; nothing changed."
    if kind == "baseline":
        return (
            "First crawl stored quietly as a baseline (no alert per report); alerts start with "
            "the next change." + (" Sources disagree." if payload.get("conflict") else "")
        )
    if kind == "new_figure":
        return f"First {forecast}figure reported, by {source}: {said(payload)}."
    if kind == "article_revised":
        return (
            f"{source} revised its article at the same address: it said "
            f"{old_amount(payload)}, it now says {new_amount(payload)}."
        )
    earlier = previous.get("source") or "an unnamed source" if previous else "nobody"
    when = day(previous.get("dated") or previous.get("published")) if previous else None
    before = f"{earlier} said {said(previous)}" if previous else "nobody said otherwise"
    before += f" ({when})" if when else ""
    if kind == "late_report":
        dated = day(payload["article"].get("dated") or payload["article"].get("published"))
        return (
            f"A late report: {source} said {said(payload)} on {dated}, before the current "
            f"value: {before}."
        )
    if payload.get("conflict"):
        return f"Sources disagree: {source} says {said(payload)}; {before}."
    return f"The {forecast}figure changed: {source} says {said(payload)}; {before}."


def source_line(payload: dict[str, Any]) -> str:
    article = payload["article"]
    return report_line(article, article.get("source") or "unknown source")


def one_line(payload: dict[str, Any]) -> str:
    """The console's first line: kind, headline, attribution, source, link."""
    parts = [f"[{payload['kind']}] {headline(payload)}"]
    if payload.get("attribution") and payload["kind"] != "baseline":
        parts.append(f"according to {payload['attribution']}")
    parts.append(payload["article"].get("source") or "unknown source")
    return " — ".join(parts) + f" <{payload['article']['url']}>"


def console_text(payload: dict[str, Any]) -> str:
    """The console's message: the first line, then what happened and the facts, indented."""
    lines = [one_line(payload), f"    {what_happened(payload)}"]
    lines += [f"    {name}: {text}" for name, text in facts(payload)]
    return "\n".join(lines)


def digest_title(payloads: list[dict[str, Any]]) -> str:
    count = len(payloads)
    return f"{count} alert{'s' if count != 1 else ''}"
