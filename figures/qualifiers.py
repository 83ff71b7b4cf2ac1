"""Qualifiers: the words before a number that say how exact it is ("at least", "about", "up to")."""

from __future__ import annotations

import re

from newsmon.figures.lemmas import UNIT_ALIASES

_PHRASES: dict[str, str] = {
    "at least": "at_least", "no fewer than": "at_least", "no less than": "at_least",
    "a minimum of": "at_least",
    "more than": "more_than", "over": "more_than", "upwards of": "more_than",
    "upward of": "more_than", "in excess of": "more_than", "above": "more_than",
    "exceed": "more_than", "exceeds": "more_than", "exceeded": "more_than",
    "exceeding": "more_than", "topped": "more_than", "tops": "more_than",
    "surpassed": "more_than", "passed": "more_than",
    "up to": "up_to", "as many as": "up_to", "as much as": "up_to", "as high as": "up_to",
    "no more than": "up_to", "at most": "up_to", "a maximum of": "up_to",
    "fewer than": "less_than", "less than": "less_than", "under": "less_than",
    "below": "less_than",
    "about": "approx", "around": "approx", "some": "approx", "roughly": "approx",
    "approximately": "approx", "an estimated": "approx", "estimated": "approx",
    "nearly": "approx", "almost": "approx", "close to": "approx", "circa": "approx",
    "between": "between",
}  # fmt: skip
_ALTERNATION = "|".join(sorted((p.replace(" ", r"\s+") for p in _PHRASES), key=len, reverse=True))
_BEFORE = re.compile(
    rf"\b(?:(?:just|well|slightly|far|only)\s+)?(?P<q>{_ALTERNATION})\s+$", re.IGNORECASE
)
_PREPOSITIONS = frozenset(("over", "under", "above", "below"))
_PREVIOUS_WORD = re.compile(r"([\w%]+)\W*$")
_VERB_S = frozenset({"has", "was", "is", "does", "its", "this", "says", "plus", "thus"})


def qualifier_before(text: str, start: int, floor: int) -> tuple[str, int]:
    """(qualifier, where its phrase starts) for a number at `start`; ("exact", start) if none.
    "between" is returned as is: the caller decides whether a range follows."""
    m = _BEFORE.search(text, max(floor, start - 40), start)
    if not m:
        return "exact", start
    phrase = re.sub(r"\s+", " ", m.group("q").lower())
    if phrase in _PREPOSITIONS and _used_as_preposition(text, m.start("q"), floor):
        return "exact", start
    return _PHRASES[phrase], m.start()


def _used_as_preposition(text: str, pos: int, floor: int) -> bool:
    """ "3,492 km over 21 stages": after a counted noun or unit, "over" is a preposition."""
    prev = _PREVIOUS_WORD.search(text, max(floor, pos - 30), pos)
    if not prev:
        return False
    word = prev.group(1).lower()
    if word in _VERB_S:
        return False
    return word[0].isdigit() or word in UNIT_ALIASES or (word.endswith("s") and len(word) > 3)
