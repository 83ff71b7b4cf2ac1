"""Quantity assignment: which tracked quantity a figure counts, read from its unit *and* from
what its clause says happened to what it counts.

"at least 40 soldiers were killed or wounded" names soldiers, but counts casualties: a clause
that states an event (killed, captured, displaced...) goes to a quantity that names that event,
never to one that only names the counted noun. A figure's *part* of its clause is the clause cut
at the last comma or conjunction between it and a neighbouring figure ("killed 236 people | and
injured 1,100"). Rules, per figure:

1. The old end of a "from X to Y" (role `previous`) is never tracked; nothing below the
   quantity's `min_value` (default 2) is: "one soldier tried to..." is narrative, not a count.
2. A rate ("1,500 soldiers a day") goes only to a quantity declaring the same `per`, and a level
   only to a quantity without one.
3. The quantity's `context.not` words must not occur in the figure's part of the clause, and one
   of its `context.any` words must occur in the clause.
4. Candidates: quantities whose units hold the figure's unit; when the figure's part states an
   event (deaths, injuries, casualties naming both, captured, missing, arrested, evacuated,
   displaced), also quantities naming that event, and quantities whose unit word stands there
   ("8,900 had been infected"), if the figure counts people, nothing named, or one of the
   topics' nouns. With an event stated, a quantity naming none of it is never chosen, and one
   naming it or a unit word outranks one matched by unit alone.
5. Two candidates of equal rank: the figure stays untracked rather than guessed.

The chosen quantity's reason ("unit soldier; event death/injury; context killed") goes into the
figure's `assigned_by`, so `newsmon show` and `extract --topics` can explain it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from newsmon.figures.clauses import clause_span
from newsmon.figures.lemmas import UNIT_ALIASES, unit_lemma
from newsmon.figures.lexicon import word_set
from newsmon.figures.record import Figure

__all__ = ["PER_UNITS", "QuantitySpec", "assign_quantities", "unit_lemma"]

# What a rate may be "per" (figures/rates.py finds them in text).
PER_UNITS = word_set(
    "second minute hour day week month quarter year capita person head barrel mmbtu gallon "
    "litre tonne kg kwh mwh share game match unit ounce"
)

# Event families: words stating what happened to what a figure counts. A quantity names a
# family when one of its units or context words is in it.
_EVENT_FAMILIES: dict[str, str] = {
    "death": "killed kill kills killing dead death deaths die died dying fatality fatalities "
    "fatally perished slain toll bodies",
    "injury": "wounded wounding injured injuries injury injuring hurt",
    # names both deaths and injuries: "casualties", "losses"
    "casualty": "casualty casualties lost losing losses loss",
    "captured": "captured capture capturing prisoner prisoners pow pows surrendered",
    "missing": "missing disappeared",
    "arrested": "arrested arrest arrests detained detention detainee detainees jailed",
    "evacuated": "evacuated evacuation evacuee evacuees",
    "displaced": "displaced displacement fled fleeing refugee refugees homeless",
}
# A quantity naming the general family names its parts, and the other way round.
_FAMILY_PARTS = {"casualty": {"death", "injury"}}
_EVENT_OF: dict[str, str] = {
    word: family for family, words in _EVENT_FAMILIES.items() for word in words.split()
}
_EVENT_WORD = re.compile(
    r"\b(" + "|".join(sorted(_EVENT_OF, key=len, reverse=True)) + r")\b", re.IGNORECASE
)
# Counted nouns that are people: an event stated about them may make them casualties.
_PEOPLE = word_set(
    "person man woman child civilian soldier troop fighter servicemen serviceman militant "
    "resident migrant worker patient prisoner passenger victim inhabitant citizen member "
    "student miner sailor officer pilot marine recruit conscript mercenary combatant "
    "demonstrator protester protestor villager adult teenager infant baby"
)
_DEFAULT_MIN_VALUE = 2.0


@dataclass(frozen=True, slots=True)
class QuantitySpec:
    """What decides whether a figure counts towards a tracked quantity (config: quantities.<id>)."""

    units: tuple[str, ...]
    context_any: tuple[str, ...] = ()
    context_not: tuple[str, ...] = ()
    min_value: float = _DEFAULT_MIN_VALUE
    per: str | None = None


@dataclass(frozen=True, slots=True)
class _Compiled:
    key: str
    spec: QuantitySpec
    lemmas: frozenset[str]
    events: frozenset[str]  # event families the quantity names
    any_re: re.Pattern[str] | None
    not_re: re.Pattern[str] | None
    units_re: re.Pattern[str] | None  # the quantity's units as words in text


def assign_quantities(
    figures: Sequence[Figure], tracked: Mapping[str, QuantitySpec | Iterable[str]]
) -> list[Figure]:
    """Copies of `figures` with `.quantity` ("topic/quantity") and `.assigned_by` set where a
    tracked quantity takes the figure (module docstring), else None. Order is kept and figures
    that match nothing are returned too: they are stored with their unit. `tracked` values are
    specs, or plain unit lists (every other setting at its default)."""
    compiled = [
        _compile(key, spec if isinstance(spec, QuantitySpec) else QuantitySpec(tuple(spec)))
        for key, spec in tracked.items()
    ]
    measures = set(UNIT_ALIASES.values())  # "percent" is no noun a clause may count
    topic_nouns = {lemma for c in compiled for lemma in c.lemmas if lemma not in measures}
    out: list[Figure] = []
    for i, fig in enumerate(figures):
        narrow, clause = _scope(fig, figures[i - 1] if i else None, figures[i + 1 : i + 2])
        if fig.attribution:  # who says so is not what is counted: "according to Ukraine's ..."
            narrow = narrow.replace(fig.attribution, " ")
            clause = clause.replace(fig.attribution, " ")
        choice = _choose(fig, narrow, clause, compiled, topic_nouns)
        quantity, why = choice if choice else (None, None)
        out.append(dataclasses.replace(fig, quantity=quantity, assigned_by=why))
    return out


@lru_cache(maxsize=256)  # once per quantity, not once per stored article
def _compile(key: str, spec: QuantitySpec) -> _Compiled:
    lemmas = frozenset(unit_lemma(u) for u in spec.units)
    words = [w.lower() for entry in (*spec.units, *spec.context_any) for w in _alternatives(entry)]
    named = {_EVENT_OF[token] for w in words for token in (w, *w.split()) if token in _EVENT_OF}
    for family, parts in _FAMILY_PARTS.items():
        if family in named:
            named |= parts
    events = frozenset(named)
    return _Compiled(
        key,
        spec,
        lemmas,
        events,
        _phrase_re(spec.context_any),
        _phrase_re(spec.context_not),
        _phrase_re(u for u in spec.units if u.isalpha() and len(u) > 2),
    )


def _alternatives(entry: str) -> list[str]:
    return [a.strip() for a in entry.split("|") if a.strip()]


def _phrase_re(entries: Iterable[str]) -> re.Pattern[str] | None:
    """Whole words or phrases, any case, a plural "s"/"es" allowed at the end."""
    phrases = [a for entry in entries for a in _alternatives(entry)]
    if not phrases:
        return None
    body = "|".join(r"\s+".join(map(re.escape, p.split())) for p in phrases)
    return re.compile(rf"(?<![\w-])(?:{body})(?:e?s)?(?![\w-])", re.IGNORECASE)


def _scope(fig: Figure, prev: Figure | None, following: Sequence[Figure]) -> tuple[str, str]:
    """(narrow, clause): the figure's clause, and that clause cut where the neighbouring figures'
    own parts begin: at the last conjunction or comma between two figures ("killed 236 people |
    and injured 1,100"), else where the other figure ends or starts."""
    base = fig.start - _sentence_offset(fig)
    start, end = fig.start - base, fig.end - base
    c_start, c_end = clause_span(fig.sentence, start, end)
    n_start, n_end = c_start, c_end
    if prev is not None and prev.sentence == fig.sentence and prev.end <= fig.start:
        gap_start = prev.end - base
        cut = _last_conjunction(fig.sentence, gap_start, start)
        n_start = max(n_start, cut[1] if cut else gap_start)
    if following and following[0].sentence == fig.sentence and following[0].start >= fig.end:
        gap_end = following[0].start - base
        cut = _last_conjunction(fig.sentence, end, gap_end)
        n_end = min(n_end, cut[0] if cut else gap_end)
    return fig.sentence[n_start:n_end], fig.sentence[c_start:c_end]


_CONJUNCTION = re.compile(r",\s*|\s+(?:and|but|while|whereas|or)\s+|;\s*")


def _last_conjunction(sentence: str, start: int, end: int) -> tuple[int, int] | None:
    found = None
    for m in _CONJUNCTION.finditer(sentence, start, end):
        found = (m.start(), m.end())
    return found


def _sentence_offset(fig: Figure) -> int:
    """Where the figure starts inside its sentence (its `start` counts from the text's start)."""
    found = fig.sentence.find(fig.text)
    return found if found >= 0 else 0


def _choose(
    fig: Figure, scope: str, clause: str, compiled: list[_Compiled], topic_nouns: set[str]
) -> tuple[str, str] | None:
    if fig.role == "previous":
        return None  # "from 3,000 to 12,000": the alert is about the current end
    lemma = unit_lemma(fig.unit) if fig.unit else None
    events = {_EVENT_OF[m.group(1).lower()] for m in _EVENT_WORD.finditer(scope)}
    if lemma is not None and lemma in _EVENT_OF:
        events.add(_EVENT_OF[lemma])  # "300 killed", "1,200 casualties"
    # what may count people: no noun, a person noun, a topic's noun, or the event itself
    # ("North Korean losses had reached 4,000", "1,000 deaths")
    countable = lemma is None or lemma in _PEOPLE or lemma in topic_nouns or lemma in _EVENT_OF
    ranked: list[tuple[int, str, str]] = []
    for c in compiled:
        if fig.value < c.spec.min_value or fig.per != c.spec.per:
            continue
        if c.not_re is not None and c.not_re.search(scope):
            continue
        context = c.any_re.search(clause) if c.any_re is not None else None
        if c.any_re is not None and context is None:
            continue
        unit_match = lemma is not None and lemma in c.lemmas
        named = sorted(events & c.events)
        if events and not named:
            continue  # an event is stated and this quantity names none of it (or another)
        # a unit word stated as a verb near the figure: "8,900 had been infected" (cases)
        mentioned = (
            c.units_re.search(scope) if c.units_re and countable and not unit_match else None
        )
        if not unit_match and not ((named or mentioned) and countable):
            continue
        reasons = [f"unit {lemma}"] if unit_match else []
        if named:
            reasons.append(f"event {'/'.join(named)}")
        elif mentioned is not None:
            reasons.append(f"word {mentioned.group(0).lower()}")
        if context is not None:
            reasons.append(f"context {context.group(0).lower()}")
        rank = 2 * bool(named or mentioned) + unit_match
        ranked.append((rank, c.key, "; ".join(reasons)))
    if not ranked:
        return None
    ranked.sort(key=lambda r: -r[0])
    if len(ranked) > 1 and ranked[1][0] == ranked[0][0]:
        return None  # a tie: better untracked than guessed
    return ranked[0][1], ranked[0][2]
