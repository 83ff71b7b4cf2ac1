"""Ranges: "10,000-12,000", "10,000 to 12,000", "between 10,000 and 12,000" as one figure,
and the look-alikes that are not ranges (scores, phone numbers, changes "from X to Y")."""

from __future__ import annotations

import re

from newsmon.figures.numerals import Numeral, numeral_at

_RANGE_DASH = re.compile(r"\s*[-–—]\s*")
_RANGE_TO = re.compile(r"-?\s+(?:to|through|thru)\s+|\s*~\s*")  # "8- to 16-metre", "20~100"
# a unit written after both ends: "44 mg to 50 mg", "-18 °C to -34 °C"
_FIRST_UNIT = re.compile(r"\s?(?P<u>°\s?[CF]|%|[A-Za-z]{1,3})(?=\s+(?:to|and|through)\s)")
_RANGE_AND = re.compile(r"\s+and\s+")
_NUMBER_CHAIN = re.compile(r"\s*[-–—]\s*\d")
_NUMBER_CHAIN_ALL = re.compile(r"(?:\s*[-–—]\s*\d+)+")
_SCORE_CONTEXT_BEFORE = re.compile(
    r"\b(?:won|lost|beat|drew|defeated|victory|win|defeat|draw|score|scoreline|thrashed|edged"
    r"|led|leads|trailed|trail)\b[^.]{0,25}$",
    re.IGNORECASE,
)
_SCORE_CONTEXT_AFTER = re.compile(
    r"^\s+(?:win|victory|defeat|draw|loss|lead|scoreline|aggregate)\b", re.I
)
_RANGED_FROM_BEFORE = re.compile(r"\b(?:range[sd]?|ranging)\s+from\s+$", re.I)
_CHANGE_BEFORE = re.compile(
    r"\b(?:by|rose|fell|increased|decreased|climbed|jumped|dropped|declined|grew|gained|lost"
    r"|up|down|voted|vote)\s+$",
    re.I,
)
_FROM_BEFORE = re.compile(r"\bfrom\s+$", re.I)


def range_end(
    text: str, num: Numeral, qualifier: str, lead: int, s_start: int, s_end: int
) -> Numeral | str | None:
    """The second numeral when `num` opens a range, "reject" for scores and phone numbers."""
    if num.kind == "vague":
        return None
    after = num.end
    first_unit = _FIRST_UNIT.match(text, after, s_end) if num.unit is None else None
    if first_unit:
        after = first_unit.end()
    sep = None
    if qualifier == "between":
        sep = _RANGE_AND.match(text, after, s_end)
    if sep is None:
        sep = _RANGE_TO.match(text, after, s_end) or _RANGE_DASH.match(text, after, s_end)
    if sep is None:
        return None
    second = numeral_at(text, sep.end(), s_end)
    if second is None or second.kind == "vague" or not _kinds_agree(num, second):
        return None
    unit = first_unit.group("u") if first_unit else ""
    if unit and not text[second.end : second.end + 1 + len(unit)].strip().startswith(unit):
        return None  # "44 mg to 50 mg": only when the same unit follows both
    dash = sep.group().strip() in ("-", "–", "—")
    if dash:
        if _NUMBER_CHAIN.match(text, second.end, s_end):
            return "reject"  # 1-800-555-0199
        before = text[max(s_start, lead - 40) : lead]
        if (
            num.value >= second.value
            or _SCORE_CONTEXT_BEFORE.search(before)
            or _SCORE_CONTEXT_AFTER.match(text, second.end)
        ):
            return "reject"  # a score: "won 3-1", "a 2-2 draw"
        return second
    if second.rejected or num.value == second.value:
        return None
    if (
        num.plain_integer
        and second.plain_integer
        and min(num.value, second.value) >= 1800
        and (max(num.value, second.value) <= 2100)
    ):
        return "reject"  # "between 2006 and 2018": years
    descending = num.value > second.value
    if descending and not (unit or _RANGED_FROM_BEFORE.search(text, max(s_start, lead - 25), lead)):
        return None  # "-18 °C to -34 °C" and "ranged from 9 to 4" may run downwards
    if sep.group().strip() == "to":
        before = text[max(s_start, lead - 25) : lead]
        if _FROM_BEFORE.search(before) and not _RANGED_FROM_BEFORE.search(before):
            return None  # "rose from 3,000 to 9,000" is a change, not a range
        if _CHANGE_BEFORE.search(before) or (num.unit and num.unit != second.unit):
            return None
        if num.currency and num.currency != second.currency:
            return None
        if num.value and second.value / num.value > 100:
            return None
    return second


def _kinds_agree(first: Numeral, second: Numeral) -> bool:
    """Digits with digits and words with words; "eight to 10" mixes them for small numbers."""
    if (first.kind == "words") == (second.kind == "words"):
        return True
    return min(first.value, second.value) <= 10


def skip_number_chain(text: str, pos: int, s_end: int) -> int:
    m = _NUMBER_CHAIN_ALL.match(text, pos, s_end)
    return m.end() if m else pos
