"""Sentence spans: where each sentence of a text starts and ends, by offsets into the text."""

from __future__ import annotations

import re

# A full stop, ! or ? (with closing quotes/brackets) followed by space and a capital, digit or
# opening quote ends a sentence; a line break always does.
_END = re.compile(r"[.!?…][\"'”’)\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9£$€])|\n\s*")
# Words whose trailing full stop is an abbreviation, not a sentence end.
_ABBREVIATION_WORDS = (
    "jan feb mar apr jun jul aug sep sept oct nov dec mr mrs ms dr st no nos vs gen lt col "
    "sgt capt cpl maj adm sen rep gov prof rev inc corp ltd co fig vol approx est jr sr mt ft"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
_LAST_WORD = re.compile(r"([A-Za-z.]+)[.!?…]$")
# Longer "sentences" (tables, run-on text without full stops) are cut into pieces of at most
# this many characters at a space, so every rule reads a bounded window: linear time overall.
MAX_SENTENCE = 1000
_CUT = re.compile(r"[;,|]\s|\s")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every non-blank sentence, whitespace trimmed, in text order."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _END.finditer(text):
        if m.group().startswith(".") and _is_abbreviation(text, m.start() + 1):
            continue
        _add(text, start, m.start() + len(m.group().rstrip()), spans)
        start = m.end()
    _add(text, start, len(text), spans)
    return spans


def _is_abbreviation(text: str, dot_end: int) -> bool:
    m = _LAST_WORD.search(text, max(0, dot_end - 12), dot_end)
    if not m:
        return False
    word = m.group(1).lower()
    # "U.S." and single initials ("J. Smith") are abbreviations too
    return word.rstrip(".") in _ABBREVIATIONS or "." in word.rstrip(".") or len(word) == 1


def _add(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    while end - start > MAX_SENTENCE:
        cut = None
        for m in _CUT.finditer(text, start + MAX_SENTENCE // 2, start + MAX_SENTENCE):
            cut = m.end()  # the last separator in the window
        cut = cut or start + MAX_SENTENCE
        _add(text, start, cut, spans)
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        spans.append((start, end))
