"""Evaluation of the extractor against a labelled set: parsing, matching and scoring.

Pure (it takes the labelled file's text, not a path) so the test suite and bench/figures.py
score exactly the same way.

Rules:
- Values agree when the prediction lies inside the gold low..high span for vague amounts (gold
  with low/high and a qualifier other than "range"), otherwise within 0.5 % relative.
- Units agree when both are null, or when `unit_lemma` of both is the same ("troops" = "troop").
- Value match: each gold figure takes the first unmatched prediction of its sentence whose value
  agrees, whatever its unit. Value precision, recall and F1 count these pairs.
- (Value, unit) match: the same, but the units must agree too; its F1 is reported beside.
- On value-matched pairs: unit accuracy (units agree), and qualifier, attribution and
  projection accuracy. Rate (`per`), movement (`change`) and `role` accuracy are measured on the
  value-matched pairs whose gold figure labels them (the key is present in the file, even null).
- Attribution agrees when both are null, or when, normalised (lower case, curly quotes made
  straight, a leading "the/a/an" and surrounding punctuation removed, spaces collapsed), one
  equals or contains the other.
- Quantity assignment (a quantity-assignment file): extract, then `assign_quantities` with the
  row's quantities; a gold figure is right when the prediction value-matched to it got its gold
  quantity, or, for a gold null quantity, when that prediction is untracked or nothing matched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from newsmon.figures.lemmas import unit_lemma
from newsmon.figures.quantities import QuantitySpec
from newsmon.figures.record import Figure

VALUE_TOLERANCE = 0.005
_RATE_KEYS = ("per", "change", "role")


@dataclass(frozen=True, slots=True)
class GoldFigure:
    value: float
    low: float | None
    high: float | None
    qualifier: str
    unit: str | None
    attribution: str | None
    projection: bool
    per: str | None = None
    change: str | None = None
    role: str | None = None
    labelled: frozenset[str] = frozenset()  # which of per/change/role the file labels

    @property
    def vague(self) -> bool:
        return self.low is not None and self.high is not None and self.qualifier != "range"


@dataclass(frozen=True, slots=True)
class LabelledSentence:
    text: str
    figures: tuple[GoldFigure, ...]
    split: str | None = None
    origin: str | None = None


@dataclass(slots=True)
class Mistake:
    """One disagreement, for reading: what was expected and what came out."""

    text: str
    kind: str  # missed, spurious, unit, qualifier, attribution, projection, per, change, role,
    # quantity
    detail: str
    split: str | None = None


@dataclass(slots=True)
class Scores:
    sentences: int = 0
    gold: int = 0
    predicted: int = 0
    matched: int = 0  # value matches
    unit_matched: int = 0  # (value, unit) matches
    unit_ok: int = 0
    qualifier_ok: int = 0
    attribution_ok: int = 0
    projection_ok: int = 0
    per_n: int = 0
    per_ok: int = 0
    change_n: int = 0
    change_ok: int = 0
    role_n: int = 0
    role_ok: int = 0
    seconds: float = 0.0
    mistakes: list[Mistake] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    @property
    def unit_precision(self) -> float:
        return self.unit_matched / self.predicted if self.predicted else 1.0

    @property
    def unit_recall(self) -> float:
        return self.unit_matched / self.gold if self.gold else 1.0

    @property
    def unit_f1(self) -> float:
        """F1 on (value, unit) pairs."""
        return _f1(self.unit_precision, self.unit_recall)

    def _on_matched(self, n: int) -> float:
        return n / self.matched if self.matched else 1.0

    @property
    def unit_accuracy(self) -> float:
        return self._on_matched(self.unit_ok)

    @property
    def qualifier_accuracy(self) -> float:
        return self._on_matched(self.qualifier_ok)

    @property
    def attribution_accuracy(self) -> float:
        return self._on_matched(self.attribution_ok)

    @property
    def projection_accuracy(self) -> float:
        return self._on_matched(self.projection_ok)

    @property
    def per_accuracy(self) -> float | None:
        return self.per_ok / self.per_n if self.per_n else None

    @property
    def change_accuracy(self) -> float | None:
        return self.change_ok / self.change_n if self.change_n else None

    @property
    def role_accuracy(self) -> float | None:
        return self.role_ok / self.role_n if self.role_n else None


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _gold_figure(f: Mapping[str, Any]) -> GoldFigure:
    return GoldFigure(
        value=float(f["value"]),
        low=None if f["low"] is None else float(f["low"]),
        high=None if f["high"] is None else float(f["high"]),
        qualifier=f["qualifier"],
        unit=f["unit"],
        attribution=f["attribution"],
        projection=bool(f["projection"]),
        per=f.get("per"),
        change=f.get("change"),
        role=f.get("role"),
        labelled=frozenset(k for k in _RATE_KEYS if k in f),
    )


def parse_labelled(jsonl: str) -> list[LabelledSentence]:
    """The labelled sentences of a corpus file's text; the first line (the format) is skipped."""
    out: list[LabelledSentence] = []
    for number, line in enumerate(jsonl.splitlines(), start=1):
        if number == 1 or not line.strip():
            continue
        try:
            row = json.loads(line)
            figures = tuple(_gold_figure(f) for f in row["figures"])
            out.append(LabelledSentence(row["text"], figures, row.get("split"), row.get("origin")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"labelled set line {number}: {exc}") from exc
    return out


def values_agree(predicted: float, gold: GoldFigure) -> bool:
    if gold.vague and gold.low is not None and gold.high is not None:
        return gold.low <= predicted <= gold.high
    if gold.value == 0:
        return predicted == 0
    return abs(predicted - gold.value) <= VALUE_TOLERANCE * abs(gold.value)


def units_agree(predicted: str | None, gold: str | None) -> bool:
    if predicted is None or gold is None:
        return predicted is None and gold is None
    return unit_lemma(predicted) == unit_lemma(gold)


def match_figures(
    predicted: Sequence[Figure], gold: Sequence[GoldFigure], *, by_unit: bool = True
) -> list[tuple[Figure, GoldFigure]]:
    """Pairs of (prediction, gold) that match; each side is used at most once. With
    `by_unit=False` the value alone decides (the value match)."""
    used: set[int] = set()
    pairs: list[tuple[Figure, GoldFigure]] = []
    for g in gold:
        for i, p in enumerate(predicted):
            if (
                i not in used
                and values_agree(p.value, g)
                and (not by_unit or units_agree(p.unit, g.unit))
            ):
                used.add(i)
                pairs.append((p, g))
                break
    return pairs


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+")
_SPACES = re.compile(r"\s+")


def normalise_source(source: str) -> str:
    s = _SPACES.sub(" ", source.translate(_QUOTES).lower()).strip(" .,;:\"'")
    return _LEADING_ARTICLE.sub("", s)


def attributions_agree(predicted: str | None, gold: str | None) -> bool:
    if predicted is None or gold is None:
        return predicted is None and gold is None
    p, g = normalise_source(predicted), normalise_source(gold)
    return bool(p and g) and (p == g or p in g or g in p)


def score(labelled: Iterable[LabelledSentence], extract: Callable[[str], list[Figure]]) -> Scores:
    """Score `extract` on the labelled sentences; mistakes are kept for reading, each with the
    split of its sentence (callers decide which splits they may show)."""
    s = Scores()
    for item in labelled:
        predicted = extract(item.text)
        pairs = match_figures(predicted, item.figures, by_unit=False)
        s.sentences += 1
        s.gold += len(item.figures)
        s.predicted += len(predicted)
        s.matched += len(pairs)
        s.unit_matched += len(match_figures(predicted, item.figures))

        def note(
            kind: str, detail: str, text: str = item.text, split: str | None = item.split
        ) -> None:
            s.mistakes.append(Mistake(text, kind, detail, split))

        matched_p = {id(p) for p, _ in pairs}
        matched_g = {id(g) for _, g in pairs}
        for g in item.figures:
            if id(g) not in matched_g:
                note("missed", f"{g.value:g} {g.unit}")
        for p in predicted:
            if id(p) not in matched_p:
                note("spurious", f"{p.value:g} {p.unit} {p.text!r}")
        for p, g in pairs:
            _score_pair(s, p, g, note)
    return s


def _score_pair(s: Scores, p: Figure, g: GoldFigure, note: Callable[[str, str], None]) -> None:
    if units_agree(p.unit, g.unit):
        s.unit_ok += 1
    else:
        note("unit", f"{p.unit!r} != {g.unit!r} ({p.text})")
    if p.qualifier == g.qualifier:
        s.qualifier_ok += 1
    else:
        note("qualifier", f"{p.qualifier} != {g.qualifier} ({p.text})")
    if attributions_agree(p.attribution, g.attribution):
        s.attribution_ok += 1
    else:
        note("attribution", f"{p.attribution!r} != {g.attribution!r}")
    if p.projection == g.projection:
        s.projection_ok += 1
    else:
        note("projection", f"{p.projection} != {g.projection} ({p.text})")
    for key in _RATE_KEYS:
        if key not in g.labelled:
            continue
        setattr(s, f"{key}_n", getattr(s, f"{key}_n") + 1)
        got, want = getattr(p, key), getattr(g, key)
        if got == want:
            setattr(s, f"{key}_ok", getattr(s, f"{key}_ok") + 1)
        else:
            note(key, f"{got!r} != {want!r} ({p.text})")


# --- quantity assignment ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuantityGold:
    figure: GoldFigure  # value (and span) only; the rest is not scored here
    quantity: str | None


@dataclass(frozen=True, slots=True)
class QuantityPassage:
    text: str
    quantities: Mapping[str, QuantitySpec]
    figures: tuple[QuantityGold, ...]
    split: str | None = None
    origin: str | None = None


@dataclass(slots=True)
class QuantityScores:
    sentences: int = 0
    gold: int = 0
    correct: int = 0
    seconds: float = 0.0
    mistakes: list[Mistake] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.gold if self.gold else 1.0


def quantity_spec(config: Mapping[str, Any]) -> QuantitySpec:
    """A QuantitySpec from a config-shaped mapping: units, context {any, not}, min_value, per."""
    context = config.get("context") or {}
    return QuantitySpec(
        units=tuple(config.get("units") or ()),
        context_any=tuple(context.get("any") or ()),
        context_not=tuple(context.get("not") or ()),
        min_value=float(config.get("min_value", 2)),
        per=config.get("per"),
    )


def is_quantity_set(jsonl: str) -> bool:
    """Whether a labelled file is a quantity-assignment set (its rows carry `quantities`)."""
    lines = [line for line in jsonl.splitlines()[1:] if line.strip()]
    return bool(lines) and "quantities" in json.loads(lines[0])


def parse_quantity_set(jsonl: str) -> list[QuantityPassage]:
    """The passages of a quantity-assignment file's text; the first line (the format) skipped."""
    out: list[QuantityPassage] = []
    for number, line in enumerate(jsonl.splitlines(), start=1):
        if number == 1 or not line.strip():
            continue
        try:
            row = json.loads(line)
            specs = {key: quantity_spec(cfg) for key, cfg in row["quantities"].items()}
            figures = tuple(
                QuantityGold(
                    GoldFigure(
                        value=float(f["value"]),
                        low=None if f.get("low") is None else float(f["low"]),
                        high=None if f.get("high") is None else float(f["high"]),
                        qualifier=f.get("qualifier", "exact"),
                        unit=None,
                        attribution=None,
                        projection=False,
                    ),
                    f["quantity"],
                )
                for f in row["figures"]
            )
            out.append(
                QuantityPassage(row["text"], specs, figures, row.get("split"), row.get("origin"))
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"quantity set line {number}: {exc}") from exc
    return out


def score_quantities(
    passages: Iterable[QuantityPassage],
    extract: Callable[[str], list[Figure]],
    assign: Callable[[Sequence[Figure], Mapping[str, QuantitySpec]], list[Figure]],
) -> QuantityScores:
    """Quantity-assignment accuracy over the gold figures (module docstring)."""
    s = QuantityScores()
    for item in passages:
        predicted = assign(extract(item.text), item.quantities)
        golds = [g.figure for g in item.figures]
        pairs = {id(g): p for p, g in match_figures(predicted, golds, by_unit=False)}
        s.sentences += 1
        for gold in item.figures:
            s.gold += 1
            p = pairs.get(id(gold.figure))
            got = p.quantity if p is not None else None
            if got == gold.quantity:
                s.correct += 1
            else:
                what = "no figure" if p is None else f"{got!r} ({p.text})"
                s.mistakes.append(
                    Mistake(
                        item.text,
                        "quantity",
                        f"{gold.figure.value:g}: {what} != {gold.quantity!r}",
                        item.split,
                    )
                )
    return s
