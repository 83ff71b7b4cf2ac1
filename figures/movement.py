"""Movement: figures stated as a change ("rose 5%", "a 3% drop") rather than a level, and the
two ends of "from 310 to 352" / "to 352 from 310" / "up from 1,500" (the old value is
`previous`, the new one `current`; alerts follow the current one)."""

from __future__ import annotations

import re

_UP = (
    r"rose|rise|rises|rising|risen|increased|increases|increasing|climbed|climbs|climbing"
    r"|jumped|jumps|jumping|surged|surges|surging|soared|soars|gained|gains|gaining|grew|grows"
    r"|growing|grown|advanced|advances|rallied|rallies|spiked|widened|up"
)
_DOWN = (
    r"fell|fall|falls|falling|fallen|dropped|drops|dropping|slid|slides|sliding|slipped|slips"
    r"|declined|declines|declining|decreased|decreases|decreasing|plunged|plunges|plunging"
    r"|tumbled|tumbles|sank|sinks|sunk|shrank|shrinks|shrunk|eased|eases|dipped|dips|retreated"
    r"|slumped|slumps|contracted|contracts|narrowed|down"
)
# the verb right before the figure (its qualifier included): "rose 5%", "fell by about 3%"
_VERB_BEFORE = re.compile(rf"\b(?P<verb>{_UP}|{_DOWN})\s+(?:by\s+)?$", re.IGNORECASE)
_UP_WORDS = frozenset(_UP.split("|"))
# a noun of movement right after the figure: "a 5% rise", "a 3 percent drop in sales"
_NOUN_AFTER = re.compile(
    r"\s+(?:(?P<up>rise|increase|gain|jump|surge|climb|growth|hike|uptick|advance|rally)"
    r"|(?P<down>fall|drop|decline|decrease|cut|slide|slump|plunge|dip|contraction|reduction|loss))"
    r"\b",
    re.IGNORECASE,
)
_FROM_BEFORE = re.compile(r"\bfrom\s+$", re.IGNORECASE)
_RANGING_BEFORE = re.compile(
    r"\b(?:range[sd]?|ranging|anywhere|varied|varies|vary)\s+from\s+$", re.IGNORECASE
)
_UP_DOWN_FROM_BEFORE = re.compile(
    r"\b(?:up|down|higher|lower|more|less|fewer|compared\s+with|compared\s+to|against|versus"
    r"|vs\.?)\s+(?:from\s+)?$",
    re.IGNORECASE,
)
_TO_BETWEEN = re.compile(r"^\s+to\s+$", re.IGNORECASE)
_MOVED_TO = re.compile(
    rf"\b(?:{_UP}|{_DOWN}|reached|hit|revised|raised|lowered|cut|increased|reduced|put)"
    r"\b[^.;]{0,25}\bto\s+$",
    re.IGNORECASE,
)


def change_of(text: str, lead: int, end: int, floor: int) -> str | None:
    """ "up" / "down" when the figure at [lead, end) is stated as a movement, else None."""
    m = _VERB_BEFORE.search(text, max(floor, lead - 20), lead)
    if m:
        return "up" if m.group("verb").lower() in _UP_WORDS else "down"
    m = _NOUN_AFTER.match(text, end)
    if m and lead > floor and text[max(floor, lead - 2) : lead].strip().lower() in ("a", "an"):
        return "up" if m.group("up") else "down"
    return None


def roles(text: str, spans: list[tuple[int, int]], floor: int) -> list[str | None]:
    """`previous`/`current`/None for figures at `spans` ([lead, end) each, in text order, one
    sentence starting at `floor`): "from 310 to 352", "to 352 from 310", "12,000, up from
    3,000"."""
    out: list[str | None] = [None] * len(spans)
    for i, (lead, _end) in enumerate(spans):
        before = text[max(floor, lead - 30) : lead]
        if not _FROM_BEFORE.search(before) and not _UP_DOWN_FROM_BEFORE.search(before):
            continue
        if _RANGING_BEFORE.search(before):
            continue
        if i + 1 < len(spans) and _TO_BETWEEN.match(text[spans[i][1] : spans[i + 1][0]]):
            out[i], out[i + 1] = "previous", "current"  # "from 310 to 352"
        elif i > 0 and out[i - 1] is None and out[i] is None:
            prev_lead = spans[i - 1][0]
            if _UP_DOWN_FROM_BEFORE.search(before) or _MOVED_TO.search(
                text, max(floor, prev_lead - 40), prev_lead
            ):
                out[i - 1], out[i] = "current", "previous"  # "to 352 from 310", "up from 3,000"
    return out
