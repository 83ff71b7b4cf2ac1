"""Clauses: the part of a sentence a figure belongs to, for attribution and projection."""

from __future__ import annotations

import re

# Where one clause ends and the next begins: semicolons and conjunctions after a comma.
_BOUNDARY = re.compile(
    r";\s*|,\s+(?:and|but|while|whereas|although|though|which|who)\s+|\s+but\s+|\s+while\s+"
)


def clause_span(sentence: str, start: int, end: int) -> tuple[int, int]:
    """(start, end) of the clause of `sentence` holding the figure at [start, end)."""
    clause_start, clause_end = 0, len(sentence)
    for m in _BOUNDARY.finditer(sentence):
        if m.end() <= start:
            clause_start = m.end()
        elif m.start() >= end:
            clause_end = m.start()
            break
    return clause_start, clause_end
