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
}


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
    """'North Korean troops in Russia: 3,000 → 12,000', with '(forecast)' for projections."""
    forecast = " (forecast)" if payload.get("projection") else ""
    return f"{payload['label']}{forecast}: {change(payload)}"


def day(iso_moment: str | None) -> str | None:
    """'2024-11-01 09:30 UTC' from an ISO timestamp."""
    if not iso_moment:
        return None
    return datetime.fromisoformat(iso_moment).strftime("%Y-%m-%d %H:%M UTC")


def what_happened(payload: dict[str, Any]) -> str:
    """One sentence on the kind of alert, naming the earlier source where there is one."""
    kind = payload["kind"]
    forecast = "forecast " if payload.get("projection") else ""
    previous = payload.get("previous")
    source = payload["article"].get("source") or "an unnamed source"
    if kind == "new_figure":
        return f"First {forecast}figure reported, by {source}."
    if kind == "article_revised":
        return (
            f"{source} revised its article at the same address: it said "
            f"{old_amount(payload)}, it now says {new_amount(payload)}."
        )
    earlier = previous.get("source") or "an unnamed source" if previous else "nobody"
    when = day(previous.get("published")) if previous else None
    said = f"{earlier} said {old_amount(payload)}" + (f" ({when})" if when else "")
    if payload.get("conflict"):
        return f"Sources disagree: {source} says {new_amount(payload)}; {said}."
    return f"The {forecast}figure changed: {source} says {new_amount(payload)}; {said}."


def source_line(payload: dict[str, Any]) -> str:
    article = payload["article"]
    parts = [article.get("source") or "unknown source"]
    published = day(article.get("published"))
    if published:
        parts.append(f"published {published}")
    return ", ".join(parts)


def one_line(payload: dict[str, Any]) -> str:
    """The console's line: kind, headline, attribution, source, link."""
    parts = [f"[{payload['kind']}] {headline(payload)}"]
    if payload.get("attribution"):
        parts.append(f"according to {payload['attribution']}")
    parts.append(payload["article"].get("source") or "unknown source")
    return " — ".join(parts) + f" <{payload['article']['url']}>"


def digest_title(payloads: list[dict[str, Any]]) -> str:
    count = len(payloads)
    return f"{count} alert{'s' if count != 1 else ''}"
