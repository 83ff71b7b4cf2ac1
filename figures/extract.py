"""Extraction: every figure in a text, with qualifier, counted unit, source and projection."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from newsmon.figures.attribution import attribution, sentence_source
from newsmon.figures.clauses import clause_span
from newsmon.figures.counted_nouns import counted_noun, is_plural_noun, subject_head
from newsmon.figures.exclusions import HYPHEN_UNITS, is_furniture_sentence, rejection
from newsmon.figures.lemmas import UNIT_ALIASES, unit_lemma
from newsmon.figures.lexicon import FURNITURE_UNITS, SOURCE_NOUNS
from newsmon.figures.movement import changes_of, roles
from newsmon.figures.numerals import CANDIDATE, Numeral, read_numeral
from newsmon.figures.projection import is_projection
from newsmon.figures.qualifiers import qualifier_before
from newsmon.figures.ranges import range_end, skip_number_chain
from newsmon.figures.rates import UNIT_PER, rate_after
from newsmon.figures.record import Figure
from newsmon.figures.sentences import sentence_spans

_FROM_BEFORE = re.compile(r"\bfrom\s+$", re.I)
_MAGNITUDE_BEFORE = re.compile(r"\bmagnitude[-\s]$", re.I)  # "a magnitude 7.8 earthquake"
_OF_DETERMINER = re.compile(r"\s+of\s+(?:the|its|their|his|her|our|these|those)(?=\s+[A-Za-z])")
_OF = re.compile(r"\s+of(?=\s)")
_RELATIVE_SOURCE = re.compile(
    r"\s+(?P<np>(?:[A-Za-z'’-]+\s+){0,3}?(?P<head>[A-Za-z'’-]+))\s+(?:had|have|has)\s+"
    r"(?:been\s+)?(?:forecast|expected|predicted|estimated|projected|anticipated)\b"
)
_COMPARISON_AFTER = re.compile(r"\s+(?:more|less|fewer|higher|lower|above|below)\s+than\b")
_OF_THE_NEXT = re.compile(
    r"^\s+of\s+(?:the|its|their|his|her|our|these|those)?\s*(?:last\s+|first\s+|total\s+)?$"
)
_TO_BETWEEN = re.compile(r"^\s+to\s+$")
_NUMBER_OF = re.compile(r"\bnumbers?\s+of\s+((?:[A-Za-z'’-]+\s+){0,2}[A-Za-z'’-]+)\b", re.I)
_NOUN_NUMBERS = re.compile(r"\b([a-z]+)\s+numbers\b", re.I)
_PUT_AT = re.compile(
    r"\b(?:put|puts|putting|placed|places|estimated|estimates)\s+(?:the\s+|its\s+|their\s+)?"
    r"(?:(?:[A-Za-z'’-]+\s+){0,4}?)(?P<head>[A-Za-z'’-]+)\s+at\s+$"
)
_TOTAL = re.compile(r"\btotal\b", re.I)
_SUBJECT_VERB_BEFORE = re.compile(
    r"\b(?:reached|reach|risen\s+to|rose\s+to|climbed\s+to|surged\s+to|jumped\s+to|fell\s+to"
    r"|dropped\s+to|stood\s+at|stands\s+at|stand\s+at|totalled|totaled|passed|topped|hit"
    r"|exceeded|number|numbers|numbered(?:\s+in\s+the)?"
    r"|(?:rose|fell|climbed|jumped|dropped|grew|surged|increased|decreased|declined)\s+from"
    r"(?:\s+\S+\s+to)?)\s+$"
)
# A bare number opening a coordinated clause counts what the figure before it counted:
# "lost 46,000 jobs, while services added 180,000", "killed 236 people and injured 1,100".
_DIGIT = re.compile(r"\d")
# How far before a figure its rules read: a clause or sentence longer than this (a table, a
# run-on text) must not make every figure re-read all of it.
LOOKBACK = 200
_OF_AROUND = re.compile(r"\bof\s+$|\s+of\b", re.IGNORECASE)
_ELLIPSIS_GAP = re.compile(
    r"^[^.;]{0,60}?(?:,|\band\b|\bbut\b|\bwhile\b|\bwhereas\b)[^.;]{0,40}$", re.IGNORECASE
)
_YEAR_CONTEXT = re.compile(
    r"(?:\b(?:in|since|by|from|until|till|to|of|the|a|an|its|their|this|last|next|early|late"
    r"|mid|before|after|during|and|or|between|year|fiscal|spring|summer|autumn|winter)\s+"
    r"|'s\s+|’s\s+|[-–]\s*)$",
    re.I,
)
_NOUN_NUMBER_MODIFIERS = frozenset(
    {"record", "high", "low", "large", "small", "big", "growing", "rising", "falling", "the"}
)


@dataclass(slots=True)
class _Draft:
    """A figure being assembled; offsets are absolute."""

    value: float
    low: float | None
    high: float | None
    qualifier: str
    unit: str | None
    start: int  # of the qualifier, or the numeral
    num_start: int  # of the numeral
    num_end: int  # end of the numeral or range
    end: int  # end of the whole span (counted noun included)
    kind: str
    attribution: str | None = None
    projection: bool = False
    from_before: bool = False  # "from X to Y": X may take Y's unit


def extract_figures(text: str) -> list[Figure]:
    """Every figure in `text`, in text order."""
    figures: list[Figure] = []
    spans = sentence_spans(text)
    drafts = [
        [] if is_furniture_sentence(text[a:b]) else _sentence_drafts(text, a, b) for a, b in spans
    ]
    for i, (s_start, s_end) in enumerate(spans):
        if drafts[i]:
            found = _finish(text, text[s_start:s_end], s_start, drafts[i])
            if any(f.attribution is None for f in found):
                source = _neighbour_source(text, spans, drafts, i)
                found = [replace(f, attribution=f.attribution or source) for f in found]
            figures.extend(found)
    return figures


def _neighbour_source(
    text: str, spans: list[tuple[int, int]], drafts: list[list[_Draft]], i: int
) -> str | None:
    """The source credited in the next sentence of the same paragraph when it states no figure
    of its own ("..., the agency said in a briefing."), else in the previous one."""
    s_start, s_end = spans[i]
    if i + 1 < len(spans) and not drafts[i + 1] and "\n" not in text[s_end : spans[i + 1][0]]:
        source = sentence_source(text[spans[i + 1][0] : spans[i + 1][1]])
        if source:
            return source
    if i > 0 and "\n" not in text[spans[i - 1][1] : s_start]:
        return sentence_source(text[spans[i - 1][0] : spans[i - 1][1]])
    return None


def _sentence_drafts(text: str, s_start: int, s_end: int) -> list[_Draft]:
    drafts: list[_Draft] = []
    pos = s_start
    while True:
        m = CANDIDATE.search(text, pos, s_end)
        if not m:
            return drafts
        num = read_numeral(text, m)
        if num is None:
            pos = m.end()
            continue
        pos = num.end
        draft, pos = _draft(text, num, s_start, s_end, pos)
        if draft is not None:
            drafts.append(draft)


def _draft(
    text: str, num: Numeral, s_start: int, s_end: int, pos: int
) -> tuple[_Draft | None, int]:
    """The draft figure for `num` (None if it is not a figure) and where to search next."""
    magnitude = _MAGNITUDE_BEFORE.search(text, max(s_start, num.start - 12), num.start)
    # "up to magnitude 5.1": the qualifier stands before the unit word
    qualifier, lead = qualifier_before(text, magnitude.start() if magnitude else num.start, s_start)
    low = high = None
    num_end = num.end
    second = range_end(text, num, qualifier, lead, s_start, s_end)
    if second == "reject":
        return None, skip_number_chain(text, num.end, s_end)
    if isinstance(second, Numeral):
        low, high = sorted((num.value, second.value))
        if num.scale == 1.0 and second.scale > 1.0 and low < high / second.scale:
            low *= second.scale  # "$5-6 billion"
        num.currency = num.currency or second.currency
        num.unit = num.unit or second.unit
        qualifier, num_end, pos = "range", second.end, second.end
    elif qualifier == "between":
        qualifier = "exact"
    reason = rejection(text, num, s_start, lead, num_end)
    if reason:
        return None, pos
    if num.kind == "vague":
        low, high = num.low, num.high
        if qualifier == "exact":
            qualifier = "approx"
    elif num.plus and qualifier == "exact":
        qualifier = "more_than"
    value = (low + high) / 2 if low is not None and high is not None else num.value
    draft = _Draft(value, low, high, qualifier, None, lead, num.start, num_end, num_end, num.kind)
    draft.from_before = bool(_FROM_BEFORE.search(text, max(s_start, lead - 10), lead))
    _attach_unit(text, num, draft, s_start, s_end)
    if draft.unit in FURNITURE_UNITS:
        return None, pos
    if (
        num.scale_text in ("m", "M")
        and not num.currency
        and draft.unit is None
        and num.value % 1e6 == 0
    ):
        return None, pos  # "Bolt's 100m record": metres or millions, no way to tell
    if _is_year(text, num, draft, s_start):
        return None, pos
    if _DIGIT.search(text, draft.num_end, draft.end):
        return draft, pos  # "two 1,100-megawatt reactors": the inner figure is read too
    return draft, max(pos, draft.end)


def _attach_unit(text: str, num: Numeral, draft: _Draft, s_start: int, s_end: int) -> None:
    """Set the draft's unit and span end from what follows the numeral."""
    end = draft.num_end
    if _MAGNITUDE_BEFORE.search(text, max(s_start, draft.num_start - 12), draft.num_start):
        draft.unit = "magnitude"
        return
    if num.currency or num.unit:
        draft.unit = num.currency or num.unit
        if num.currency and num.unit == "percent":
            draft.unit = "percent"
        _relative_source(text, draft, end, s_end)
        return
    if text.startswith("-", end):
        word = re.match(r"-([A-Za-z]+)", text[end : end + 20])
        if word and word.group(1).lower() in HYPHEN_UNITS:
            hyphen = word.group(1).lower()
            if hyphen == "strong":  # "a 1,500-strong contingent"
                draft.unit, draft.end = counted_noun(text, end + word.end(), s_end, single=True)
                draft.end = max(draft.end, end + word.end())
            elif hyphen == "plus":
                if draft.qualifier == "exact":
                    draft.qualifier = "more_than"
                draft.unit, draft.end = counted_noun(text, end + word.end(), s_end)
                draft.end = max(draft.end, end + word.end())
            else:
                draft.unit, draft.end = unit_lemma(hyphen), end + word.end()
            return
        if word:  # "a 30-day truce", "the 31-nation alliance": what the adjective counts
            draft.unit, draft.end = unit_lemma(word.group(1)), end + word.end()
            return
    if _relative_source(text, draft, end, s_end):
        return
    start = end
    if num.kind == "vague" or num.kind == "words":
        of = _OF.match(text, end, s_end)
        if of:
            start = of.end()
    elif draft.unit is None:
        of_det = _OF_DETERMINER.match(text, end, s_end)
        if of_det:
            start = of_det.end()  # "1,000 of its supporters"
    draft.unit, noun_end = counted_noun(text, start, s_end, single=0 < num.value <= 1)
    if draft.unit is not None:
        draft.end = noun_end


def _relative_source(text: str, draft: _Draft, end: int, s_end: int) -> bool:
    """ "the 2.6% economists had forecast": the words after the number name a source."""
    if _COMPARISON_AFTER.match(text, end, s_end):
        return False  # "£2bn more than economists had expected": a fact, compared
    m = _RELATIVE_SOURCE.match(text, end, s_end)
    if not m or unit_lemma(m.group("head")) not in SOURCE_NOUNS:
        return False
    draft.attribution = m.group("np")
    draft.projection = True
    return True


def _is_year(text: str, num: Numeral, draft: _Draft, s_start: int) -> bool:
    if not (num.plain_integer and 1800 <= num.value <= 2100 and draft.low is None):
        return False
    before = text[max(s_start, draft.start - 12) : draft.start]
    return draft.unit is None or bool(_YEAR_CONTEXT.search(before))


def _finish(text: str, sentence: str, s_start: int, drafts: list[_Draft]) -> list[Figure]:
    """Carry units to bare numbers, drop bare spelled-out numbers, add source and projection."""
    _carry_units(text, sentence, s_start, drafts)
    s_end = s_start + len(sentence)
    # a bare small number in words counts nothing ("a majority of just two"); a long one does
    drafts = [d for d in drafts if d.unit is not None or d.kind != "words" or d.value >= 100]
    figure_roles = roles(text, [(d.start, d.num_end) for d in drafts], s_start)
    changes = changes_of(text, [(d.start, d.end) for d in drafts], figure_roles, s_start)
    figures: list[Figure] = []
    for d, role, change in zip(drafts, figure_roles, changes, strict=True):
        per = UNIT_PER.get(d.unit or "")
        rate = rate_after(text, d.end, s_end)
        if rate is not None:
            per, d.end = rate
        start, end = d.start - s_start, d.end - s_start
        source = d.attribution or attribution(sentence, start, end)
        figures.append(
            Figure(
                value=d.value,
                low=d.low,
                high=d.high,
                qualifier=d.qualifier,
                unit=d.unit,
                text=text[d.start : d.end],
                start=d.start,
                end=d.end,
                sentence=sentence,
                attribution=source,
                # "will rise from £11.44 to £12.21": the old end is today's level, not a forecast
                projection=role != "previous"
                and (d.projection or is_projection(sentence, start, end)),
                per=per,
                change=change,
                role=role,
            )
        )
    return figures


def _carry_units(text: str, sentence: str, s_start: int, drafts: list[_Draft]) -> None:
    for i, d in enumerate(drafts):
        if d.unit is not None or d.attribution is not None:
            continue
        nxt = drafts[i + 1] if i + 1 < len(drafts) else None
        between = text[d.num_end : nxt.start] if nxt else ""
        if nxt and nxt.unit and _OF_THE_NEXT.match(between):
            d.unit = nxt.unit  # "38 of the 45 drones"
            continue
        if nxt and d.from_before and _TO_BETWEEN.match(between):
            d.unit = nxt.unit  # "from 3,000 to 9,000 troops"
            if d.unit:
                continue
        d.unit = _unit_from_clause(sentence, d.start - s_start, d.num_start - s_start, drafts[:i])
        prev = drafts[i - 1] if i > 0 else None
        if (
            d.unit is None
            and prev
            and prev.from_before
            and _TO_BETWEEN.match(text[prev.num_end : d.start])
        ):
            d.unit = prev.unit  # "from 3,000 troops to 9,000"
        elif (
            d.unit is None
            and prev is not None
            and d.kind == "digits"
            and _ELLIPSIS_GAP.match(text[prev.end : d.start])
            and not _OF_AROUND.search(text, max(s_start, d.start - 4), d.start)
            and not _OF_AROUND.match(text, d.end)
        ):
            # the sentence's first counted noun (not %, $ or km): "employs 12,000 people in 40
            # countries and plans to hire another 2,000" counts people
            d.unit = next(
                (e.unit for e in drafts[:i] if e.unit and e.unit not in UNIT_ALIASES.values()),
                None,
            )


def _unit_from_clause(
    sentence: str, start: int, num_start: int, earlier: list[_Draft]
) -> str | None:
    """Unit of a bare number from its clause: "the number of troops ... to some 10,000",
    "put total casualties at 4,700", "the total ... 14,000", "Measles cases surged to 58,000"."""
    c_start, _ = clause_span(sentence, start, start + 1)
    c_start = max(c_start, start - LOOKBACK)
    before = sentence[c_start:start]
    m = _PUT_AT.search(before)
    if m:
        head = m.group("head").lower()
        return unit_lemma(head) if is_plural_noun(head) else None
    for m in _NUMBER_OF.finditer(before):
        for word in m.group(1).split():
            if is_plural_noun(word.lower()):
                return unit_lemma(word)
    m = _NOUN_NUMBERS.search(before)
    if m and m.group(1).lower() not in _NOUN_NUMBER_MODIFIERS:
        return unit_lemma(m.group(1))
    if _TOTAL.search(sentence, max(0, start - LOOKBACK), start):
        for d in reversed(earlier):
            if d.unit:
                return d.unit
    # the verb may be read as a qualifier ("passed 6 million"): look up to the numeral itself
    if _SUBJECT_VERB_BEFORE.search(sentence, c_start, num_start):
        return subject_head(sentence[c_start:num_start])
    return None
