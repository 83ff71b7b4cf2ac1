"""Movement: figures stated as part of a change ("rose 5%", "fell to 4.1%", "a drop of 8%",
"a 5% rise") get its direction, `up` or `down`; the two ends of "from 310 to 352" /
"to 352 from 310" / "12,000, up from 3,000" get roles (the old value is `previous`, the new one
`current`; alerts follow the current one) and share the direction."""

from __future__ import annotations

import re

_UP = (
    r"rose|rise|rises|rising|risen|increased|increases|increasing|climbed|climbs|climbing"
    r"|jumped|jumps|jumping|surged|surges|surging|soared|soars|soaring|gained|gains|gaining|grew"
    r"|grows|growing|grown|advanced|advances|rallied|rallies|spiked|widened|doubled|tripled"
    r"|quadrupled|added|adds|raised|raises|lifted|hiked|boosted|strengthened|accelerated"
    r"|expanded|swelled|up|higher"
)
_DOWN = (
    r"fell|fall|falls|falling|fallen|dropped|drops|dropping|slid|slides|sliding|slipped|slips"
    r"|declined|declines|declining|decreased|decreases|decreasing|plunged|plunges|plunging"
    r"|tumbled|tumbles|sank|sinks|sunk|shrank|shrinks|shrunk|eased|eases|dipped|dips|retreated"
    r"|slumped|slumps|contracted|contracts|narrowed|halved|weakened|weakens|slowed|slows|lost"
    r"|loses|shed|sheds|cut|cuts|slashed|trimmed|lowered|reduced|down|lower"
)
_UP_WORDS = frozenset(_UP.split("|"))
# "shot down 84 drones", "broke down 3 ways": "down" there is a particle, not a movement
_PARTICLE_BEFORE = re.compile(
    r"\b(?:shot|shoot|shooting|cut|broke|break|bring|brought|turned|turn|stepped|step|ruled|shut"
    r"|laid|lay|put|took|take|slowed|narrowed|cracked|crack|hunted|tracked|struck)\s+$",
    re.IGNORECASE,
)
# the verb before the figure (its qualifier included): "rose 5%", "fell by about 3%", "fell to
# 4.1%", "more than doubled to $35bn", "weakened 1.1% to 18.20"
_VERB_BEFORE = re.compile(
    rf"\b(?P<verb>{_UP}|{_DOWN})\s+(?:(?:by|to|from)\s+)?(?:a\s+record\s+)?$", re.IGNORECASE
)
_MOVE_NOUNS_UP = "rise|increase|gain|jump|surge|climb|growth|hike|uptick|advance|rally"
_MOVE_NOUNS_DOWN = (
    "fall|drop|decline|decrease|cut|slide|slump|plunge|dip|contraction|reduction|loss"
)
# "a drop of almost 8%", "an increase of 5 percent"
_NOUN_OF_BEFORE = re.compile(
    rf"\b(?:a|an|the)\s+(?:\w+\s+)?(?:(?P<up>{_MOVE_NOUNS_UP})|(?P<down>{_MOVE_NOUNS_DOWN}))"
    r"\s+of\s+$",
    re.IGNORECASE,
)
# "a 5% rise", "a 3 percent drop in sales" (after the figure)
_NOUN_AFTER = re.compile(
    rf"\s+(?:(?P<up>{_MOVE_NOUNS_UP})|(?P<down>{_MOVE_NOUNS_DOWN}))\b", re.IGNORECASE
)
_FROM_BEFORE = re.compile(r"\bfrom\s+(?:a\s+record\s+|a\s+peak\s+of\s+)?$", re.IGNORECASE)
_RANGING_BEFORE = re.compile(
    r"\b(?:range[sd]?|ranging|anywhere|varied|varies|vary)\s+from\s+$", re.IGNORECASE
)
_UP_DOWN_FROM = re.compile(
    r"\b(?P<dir>up|down|higher|lower|more|less|fewer|compared|against|versus|vs\.?)"
    r"(?:\s+(?:with|to))?\s+(?:from\s+)?(?:a\s+record\s+|a\s+peak\s+of\s+)?$",
    re.IGNORECASE,
)
_TO_BETWEEN = re.compile(r"^\s+to\s+$", re.IGNORECASE)
_MOVED_TO = re.compile(
    rf"\b(?:{_UP}|{_DOWN}|reached|hit|revised|put|stood|stands|was|is|at)"
    r"\b[^.;]{0,25}\bto\s+$|\bat\s+$",
    re.IGNORECASE,
)


def _direction(text: str, lead: int, end: int, floor: int) -> str | None:
    m = _VERB_BEFORE.search(text, max(floor, lead - 30), lead)
    if m and not (
        m.group("verb").lower() == "down"
        and _PARTICLE_BEFORE.search(text, max(floor, m.start() - 12), m.start())
    ):
        return "up" if m.group("verb").lower() in _UP_WORDS else "down"
    m = _NOUN_OF_BEFORE.search(text, max(floor, lead - 40), lead)
    if m:
        return "up" if m.group("up") else "down"
    m = _NOUN_AFTER.match(text, end)
    if m and text[max(floor, lead - 3) : lead].strip().lower() in ("a", "an"):
        return "up" if m.group("up") else "down"
    return None


def roles(text: str, spans: list[tuple[int, int]], floor: int) -> list[str | None]:
    """`previous`/`current`/None for figures at `spans` ([lead, end) each, in text order, one
    sentence starting at `floor`): "from 310 to 352", "to 352 from 310", "12,000, up from
    3,000"."""
    out: list[str | None] = [None] * len(spans)
    for i, (lead, _end) in enumerate(spans):
        before = text[max(floor, lead - 30) : lead]
        if _RANGING_BEFORE.search(before):
            continue
        if (
            _FROM_BEFORE.search(before)
            and i + 1 < len(spans)
            and _TO_BETWEEN.match(text[spans[i][1] : spans[i + 1][0]])
        ):
            out[i], out[i + 1] = "previous", "current"  # "from 310 to 352"
            continue
        if i == 0 or out[i - 1] is not None or out[i] is not None:
            continue
        from_after_move = _FROM_BEFORE.search(before) and _MOVED_TO.search(
            text, max(floor, spans[i - 1][0] - 40), spans[i - 1][0]
        )
        up_down = _UP_DOWN_FROM.search(before)
        if from_after_move or (up_down and "from" in up_down.group(0).lower()):
            out[i - 1], out[i] = "current", "previous"  # "to 352 from 310", "up from 3,000"
    return out


def changes_of(
    text: str, spans: list[tuple[int, int]], figure_roles: list[str | None], floor: int
) -> list[str | None]:
    """The direction of the movement each figure at `spans` is part of, or None; the two ends
    of a from-to pair share theirs ("fell from 43.6% to 23.7%", "480,000, up from 410,000")."""
    out = [_direction(text, lead, end, floor) for lead, end in spans]
    for i, role in enumerate(figure_roles):
        if role != "previous":
            continue
        partner = i + 1 if i + 1 < len(spans) and figure_roles[i + 1] == "current" else i - 1
        if partner < 0:
            continue
        lead = spans[i][0]
        up_down = _UP_DOWN_FROM.search(text, max(floor, lead - 30), lead)
        if up_down and up_down.group("dir").lower() in ("up", "higher", "more"):
            out[i] = out[partner] = "up"
        elif up_down and up_down.group("dir").lower() in ("down", "lower", "less", "fewer"):
            out[i] = out[partner] = "down"
        elif out[i] is None or out[partner] is None:
            out[i] = out[partner] = out[i] or out[partner]
    return out
