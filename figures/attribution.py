"""Attribution: the source a sentence credits for its figures ("..., the Pentagon said",
"according to Ukraine's military intelligence", "Zelensky warned ...")."""

from __future__ import annotations

import re
from functools import lru_cache

from newsmon.figures.clauses import clause_span
from newsmon.figures.lemmas import unit_lemma
from newsmon.figures.lexicon import (
    ADVERBS,
    NOT_SPEAKERS,
    ONES,
    SCALES,
    SPEAKER_NOUNS,
    STOP_WORDS,
    TENS,
    word_set,
)

_VERBS = (
    r"said|says|say|told|tells|wrote|writes|reported|reports|report|warned|warns|added|adds"
    r"|announced|announces|estimated|estimates|estimate|claimed|claims|claim|stated|states"
    r"|confirmed|confirms|noted|notes|believes|believe|found|finds|show|shows|showed"
    r"|suggest|suggests|suggested|indicated|indicates|revealed|reveals|tweeted|posted"
    r"|predicted|predicts|forecast|forecasts|projected|projects|expects|expect|acknowledged"
    r"|admitted|insisted|alleged|disclosed|ruled|calculated|recorded|put|puts|concluded"
    r"|cautioned|explained|argued|testified|assessed|assesses|informed|promised|pledged|vowed"
    r"|understands|understood|learned|learnt"
    r"|(?<=had\s)(?:expected|predicted|projected)"
)
# Verbs that credit a source only in a trailing clause (", he added"); opening a sentence they
# are actions ("US employers added 254,000 jobs").
_TRAILING_ONLY = word_set("added adds posted recorded promised pledged vowed")
_DETERMINERS = "the|a|an|its|their|his|her|our"
_DETERMINER_WORDS = frozenset(_DETERMINERS.split("|"))
# A reporting clause: a noun phrase (no commas) then a reporting verb, at the start of the
# sentence or after a comma/colon/dash.
_REPORTING = re.compile(
    r"(?:^|[,:;—–]\s*)(?:and\s+|but\s+|while\s+)?"
    rf"(?P<np>(?:(?:{_DETERMINERS})\s+)?(?!(?:{_DETERMINERS})\s)[^\s,;:][^,;:]{{0,90}}?)\s+"
    r"(?:(?:also|now|previously|earlier|later|separately|has|have|had)\s+)?"
    rf"(?P<verb>{_VERBS})\b"
)
_ACCORDING = re.compile(
    r"\b(?i:according\s+to|,\s+said|,\s+says)\s+(?P<np>[^,;]+?)(?=\s*(?:[,;]|\.?$))"
)
_CITING = re.compile(r"\b(?i:citing)\s+(?P<np>[^,;]+?)(?=\s*(?:[,;]|\.?$))")
_AND_SAID = re.compile(r"\band\s+(?:said|told|added|warned)\b")
_SUBJECT = re.compile(r"^(?P<np>[A-Z][^,;:]{0,60}?)\s+\w+(?:ed|s)\b")
_REVISED = re.compile(
    r"^(?P<np>[A-Z][^,;:]{0,60}?)\s+(?:raised|lowered|cut|revised|upgraded|downgraded|trimmed)"
    r"\s+(?:its|their)\s+(?:forecasts?|estimates?|projections?|outlook)\b"
)
_NOT_IN_SOURCE = (
    word_set(
        "is are was were be been being will would could can may might should it he she they we "
        "i you there this which who that what where when if as"
    )
    | frozenset(ONES)
    | frozenset(TENS)
    | frozenset(SCALES)
)
_NOT_FIRST = word_set("it he she they we i you there this which who that what where when if")
_DIGIT = re.compile(r"\d")
_NUMERIC_ADJECTIVE = re.compile(r"\b\d[\d,.]*-[A-Za-z]")  # "the 31-nation alliance" may speak
_FUNCTION_WORDS = STOP_WORDS - {"police"}
_MAX_WORDS = 9


def attribution(sentence: str, start: int, end: int) -> str | None:
    """The source credited for the figure at [start, end) of `sentence`: looked for in the
    figure's clause first, then in the whole sentence."""
    c_start, c_end = clause_span(sentence, start, end)
    found = sentence_source(sentence[c_start:c_end])
    if found is None and (c_start, c_end) != (0, len(sentence)):
        found = sentence_source(sentence)
    return found


@lru_cache(maxsize=1024)  # every figure of a sentence asks about the same clause or sentence
def sentence_source(text: str) -> str | None:
    """The source a sentence or clause credits, or None."""
    m = _ACCORDING.search(text)
    if m and _is_source(m.group("np")):
        return _clean(m.group("np"))
    initial = trailing = None
    for m in _REPORTING.finditer(text):
        np = m.group("np")
        if not _is_source(np):
            continue
        if m.start() > 0:
            trailing = _clean(np)  # the last ", X said" governs the sentence
        elif m.group("verb") not in _TRAILING_ONLY:
            initial = _clean(np)
    if trailing or initial:
        return trailing or initial
    for pattern in (_REVISED, _SUBJECT):
        if pattern is _SUBJECT and not _AND_SAID.search(text):
            continue
        m = pattern.match(text)
        if m and _is_source(m.group("np")):
            return _clean(m.group("np"))
    m = _CITING.search(text)  # "citing X" credits X only when nobody else speaks
    if m and _is_source(m.group("np")):
        return _clean(m.group("np"))
    return None


def _is_source(np: str) -> bool:
    words = np.split()
    if not words or len(words) > _MAX_WORDS:
        return False
    if _DIGIT.search(_NUMERIC_ADJECTIVE.sub("", np) if words[0].lower() == "the" else np):
        return False
    # acronyms keep their case: "the WHO" is a source, "who" is not
    lows = [w if w.isupper() else w.lower().strip("()\"'“”") for w in words]
    if lows[0] in _NOT_FIRST or lows[-1].endswith("ing") or lows[-1] in _DETERMINER_WORDS:
        return False  # "The bank raised its [forecast]" is not a noun phrase
    if lows[0] == "the":  # "the two companies said": a small number inside a named source
        lows = [w for w in lows if w not in ONES]
    elif lows[0] == "one" and len(lows) > 1:  # "one official said"
        lows = lows[1:]
    if any(w in _NOT_IN_SOURCE for w in lows):
        return False
    return _can_speak(words)


def _can_speak(words: list[str]) -> bool:
    """A name or a noun phrase that can say something ("Seoul", "the WHO", "health officials",
    "the ministry's data"), not a fragment ("a sharp rise from", "the first such", "Earlier")."""
    bare = [w.strip("()\"'“”.,") for w in words]
    lows = [w if w.isupper() else w.lower() for w in bare]
    if not lows[-1] or lows[0] in ADVERBS or lows[-1] in _FUNCTION_WORDS:
        return False
    head = unit_lemma(lows[-1].removesuffix("'s").removesuffix("’s"))
    return head in SPEAKER_NOUNS or head not in NOT_SPEAKERS


def _clean(np: str) -> str:
    np = np.strip().rstrip(".")
    for lead in ("and ", "but ", "while "):
        if np.lower().startswith(lead):
            np = np[len(lead) :]
    return np
