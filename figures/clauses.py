"""Clauses: the part of a sentence a figure belongs to, for attribution and projection."""

from __future__ import annotations

import re
from functools import lru_cache

# Where one clause ends and the next begins: semicolons and conjunctions after a comma.
_BOUNDARY = re.compile(
    r";\s*|,\s+(?:and|but|while|whereas|although|though|which|who)\s+|\s+but\s+|\s+while\s+"
)


def clause_span(sentence: str, start: int, end: int) -> tuple[int, int]:
    """(start, end) of the clause of `sentence` holding the figure at [start, end)."""
    clause_start, clause_end = 0, len(sentence)
    for b_start, b_end in _boundaries(sentence):
        if b_end <= start:
            clause_start = b_end
        elif b_start >= end:
            clause_end = b_start
            break
    return clause_start, clause_end


@lru_cache(maxsize=256)
def _boundaries(sentence: str) -> tuple[tuple[int, int], ...]:
    """Every clause boundary of a sentence, read once however many figures it holds."""
    return tuple((m.start(), m.end()) for m in _BOUNDARY.finditer(sentence))
