"""Counted nouns: what a number counts, read from the words after it ("3,000 North Korean
soldiers" -> soldier) or, for a bare number, from the clause around it."""

from __future__ import annotations

import re

from newsmon.figures.lemmas import UNIT_ALIASES, unit_lemma
from newsmon.figures.lexicon import (
    CASUALTY_WORDS,
    IRREGULAR_PLURALS,
    MONTH_NAMES,
    SKIPPABLE_MODIFIERS,
    STOP_WORDS,
    WEEKDAYS,
    word_set,
)

# "KN-23" is a modifier too, and so is a numeric adjective ("two 1,100-megawatt reactors")
_NEXT_WORD = re.compile(r"\s+([A-Za-z][\w'’-]*|\d[\d,.]*-[A-Za-z][\w-]*)")
_MULTIWORD_UNIT = re.compile(
    r"\s*(per\s+cent|percentage\s+points?|basis\s+points?|square\s+(?:kilomet(?:re|er)s?|miles?)"
    r"|sq\s+km|metric\s+tons?|km/h|°[CF])\b",
    re.IGNORECASE,
)
_NOT_PLURAL = word_set(
    "its this has was does goes less plus thus perhaps always sometimes overseas towards "
    "afterwards besides whereas across news series alias says"
)
_MAX_WORDS = 6
# verbs that end a subject ("Measles cases rose to 5,000") without the -ed a regular one has
_IRREGULAR_PAST = word_set("rose fell grew hit stood stand stands reach reaches number numbers")


def is_plural_noun(word: str) -> bool:
    """Whether a lower-case word looks like a plural noun ("troops", "people", "casualties")."""
    if word in IRREGULAR_PLURALS:
        return True
    if word.endswith("men") and len(word) > 4:
        return unit_lemma(word) != word  # servicemen, gunmen (not specimen)
    return (
        len(word) > 3
        and word.endswith("s")
        and not word.endswith(("ss", "us", "is", "'s", "’s"))
        and word not in _NOT_PLURAL
    )


def counted_noun(
    text: str, pos: int, endpos: int, *, single: bool = False
) -> tuple[str | None, int]:
    """(unit lemma, end offset) of the noun phrase starting at `pos`, or (None, pos).

    The head is the last of the first run of plural nouns ("special forces troops"), after any
    modifiers ("North Korean", "long-range"). With `single` (a count of one, "a 1,500-strong
    contingent") the last word of the phrase is the head even when it is singular."""
    m = _MULTIWORD_UNIT.match(text, pos, endpos)
    if m:
        return unit_lemma(m.group(1)), m.end()
    head: tuple[str, int] | None = None
    modifiers: list[tuple[str, int]] = []
    p = pos
    for i in range(_MAX_WORDS):
        m = _NEXT_WORD.match(text, p, endpos)
        if not m:
            break
        word = m.group(1)
        low = word.lower()
        if low.endswith(("'s", "’s")) or word in MONTH_NAMES or low in WEEKDAYS:
            break
        if i == 0 and len(low) > 1 and low in UNIT_ALIASES:
            return UNIT_ALIASES[low], m.end()
        if low in STOP_WORDS and low not in SKIPPABLE_MODIFIERS:
            break
        if single and modifiers and low.endswith(("ed", "ing")):
            break  # "one soldier tried to ...": the verb ends the phrase
        if is_plural_noun(low) and not (single and modifiers):
            head = (word, m.end())
        elif head is not None:
            break
        else:
            modifiers.append((word, m.end()))
        p = m.end()
    if head is not None:
        return unit_lemma(head[0]), head[1]
    if modifiers:
        first = modifiers[0][0].lower()
        if first in CASUALTY_WORDS:
            return CASUALTY_WORDS[first], modifiers[0][1]
        if single:
            return unit_lemma(modifiers[-1][0]), modifiers[-1][1]
    return None, pos


def subject_head(clause: str) -> str | None:
    """Lemma of the plural head noun opening a clause ("Measles cases in Europe surged to ..."
    -> case; "Troop numbers are ..." -> troop), else None."""
    words = clause.split(None, 8)
    if words and words[0].lower() in ("the", "a", "an"):
        words = words[1:]
    run: list[str] = []
    for w in words:
        low = w.strip(",.;:").lower()
        if (
            low in STOP_WORDS
            or low in _IRREGULAR_PAST
            or low.endswith("ed")
            or low.endswith(("'s", "’s"))
            or not low.isalpha()
        ):
            break
        run.append(low)
    if not run:
        return None
    head = run[-1]
    if head in ("numbers", "figures", "totals", "levels") and len(run) > 1:
        return unit_lemma(run[-2])  # "troop numbers" count troops
    return unit_lemma(head) if is_plural_noun(head) else None
