"""Rates: figures that count something per unit of time or per item ("1,500 soldiers a day",
"3 million shells a year", "$58 per barrel", "62 mph"). A rate is never a level: alerts compare
it only with a quantity that declares the same `per`."""

from __future__ import annotations

import re

_PER_WORDS = {
    "second": "second", "minute": "minute", "hour": "hour", "day": "day", "night": "day",
    "week": "week", "month": "month", "quarter": "quarter", "year": "year", "annum": "year",
    "capita": "capita", "person": "person", "head": "person", "barrel": "barrel",
    "mmbtu": "mmbtu", "gallon": "gallon", "litre": "litre", "liter": "litre", "tonne": "tonne",
    "ton": "tonne", "kg": "kg", "kilo": "kg", "kilogram": "kg", "kwh": "kwh", "mwh": "mwh",
    "share": "share", "game": "game", "match": "match", "unit": "unit", "ounce": "ounce",
    "oz": "ounce",
}  # fmt: skip
_ADVERBS = {
    "daily": "day", "a day": "day", "per day": "day", "weekly": "week", "monthly": "month",
    "annually": "year", "yearly": "year", "hourly": "hour", "per annum": "year",
}  # fmt: skip
_WORDS = "|".join(sorted(_PER_WORDS, key=len, reverse=True))
# "a day" / "per barrel" / "each week" / "/day" right after the figure; not "a day earlier"
_PER_AFTER = re.compile(
    rf"\s*(?:(?:a|an|per|each|every)\s+(?:single\s+)?|/\s?)(?P<word>{_WORDS})\b"
    r"(?!\s+(?:earlier|later|before|after|ago|old|long|or\s+two)\b)(?![-’'])",
    re.IGNORECASE,
)
_ADVERB_AFTER = re.compile(r"\s+(?P<word>daily|weekly|monthly|annually|yearly|hourly)\b", re.I)
# Units that are rates by themselves.
UNIT_PER: dict[str, str] = {"mph": "hour", "km/h": "hour", "knot": "hour", "bpd": "day"}


def rate_after(text: str, end: int, endpos: int) -> tuple[str, int] | None:
    """(per, end of the rate phrase) when the words at `end` make the figure a rate."""
    m = _PER_AFTER.match(text, end, endpos) or _ADVERB_AFTER.match(text, end, endpos)
    if not m:
        return None
    word = m.group("word").lower()
    return _PER_WORDS.get(word) or _ADVERBS[word], m.end()
