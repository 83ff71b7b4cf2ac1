"""Evaluation of the extractor against a labelled set: parsing, matching and scoring.

Pure (it takes the labelled file's text, not a path) so the test suite and bench/figures.py
score exactly the same way.

Rules:
- A predicted figure matches a gold one when their units are equal (both null counts as equal)
  and their values agree: inside the gold low..high span for vague amounts (gold with low/high
  and a qualifier other than "range"), otherwise within 0.5 % relative. Each gold figure takes
  the first unmatched prediction of its sentence that matches.
- Precision, recall and F1 count matched (value, unit) pairs over all sentences.
- Qualifier, attribution and projection accuracy are measured on matched pairs.
- Attribution agrees when both are null, or when, normalised (lower case, curly quotes made
  straight, a leading "the/a/an" and surrounding punctuation removed, spaces collapsed), one
  equals or contains the other.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from figures.record import Figure

VALUE_TOLERANCE = 0.005


@dataclass(frozen=True, slots=True)
class GoldFigure:
    value: float
    low: float | None
    high: float | None
    qualifier: str
    unit: str | None
    attribution: str | None
    projection: bool

    @property
    def vague(self) -> bool:
        return self.low is not None and self.high is not None and self.qualifier != "range"


@dataclass(frozen=True, slots=True)
class LabelledSentence:
    text: str
    figures: tuple[GoldFigure, ...]
    split: str | None = None


@dataclass(slots=True)
class Mistake:
    """One disagreement, for reading: what was expected and what came out."""

    text: str
    kind: str  # missed, spurious, qualifier, attribution, projection
    detail: str


@dataclass(slots=True)
class Scores:
    sentences: int = 0
    gold: int = 0
    predicted: int = 0
    matched: int = 0
    qualifier_ok: int = 0
    attribution_ok: int = 0
    projection_ok: int = 0
    mistakes: list[Mistake] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def _on_matched(self, n: int) -> float:
        return n / self.matched if self.matched else 1.0

    @property
    def qualifier_accuracy(self) -> float:
        return self._on_matched(self.qualifier_ok)

    @property
    def attribution_accuracy(self) -> float:
        return self._on_matched(self.attribution_ok)

    @property
    def projection_accuracy(self) -> float:
        return self._on_matched(self.projection_ok)


def parse_labelled(jsonl: str) -> list[LabelledSentence]:
    """The labelled sentences of a corpus file's text; the first line (the format) is skipped."""
    out: list[LabelledSentence] = []
    for number, line in enumerate(jsonl.splitlines(), start=1):
        if number == 1 or not line.strip():
            continue
        try:
            row = json.loads(line)
            figures = tuple(
                GoldFigure(
                    value=float(f["value"]),
                    low=None if f["low"] is None else float(f["low"]),
                    high=None if f["high"] is None else float(f["high"]),
                    qualifier=f["qualifier"],
                    unit=f["unit"],
                    attribution=f["attribution"],
                    projection=bool(f["projection"]),
                )
                for f in row["figures"]
            )
            out.append(LabelledSentence(row["text"], figures, row.get("split")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"labelled set line {number}: {exc}") from exc
    return out


def values_agree(predicted: float, gold: GoldFigure) -> bool:
    if gold.vague and gold.low is not None and gold.high is not None:
        return gold.low <= predicted <= gold.high
    if gold.value == 0:
        return predicted == 0
    return abs(predicted - gold.value) <= VALUE_TOLERANCE * abs(gold.value)


def match_figures(
    predicted: Sequence[Figure], gold: Sequence[GoldFigure]
) -> list[tuple[Figure, GoldFigure]]:
    """Pairs of (prediction, gold) that match; each side is used at most once."""
    used: set[int] = set()
    pairs: list[tuple[Figure, GoldFigure]] = []
    for g in gold:
        for i, p in enumerate(predicted):
            if i not in used and p.unit == g.unit and values_agree(p.value, g):
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
    """Score `extract` on the labelled sentences; mistakes are kept for reading."""
    s = Scores()
    for item in labelled:
        predicted = extract(item.text)
        pairs = match_figures(predicted, item.figures)
        s.sentences += 1
        s.gold += len(item.figures)
        s.predicted += len(predicted)
        s.matched += len(pairs)
        matched_p = {id(p) for p, _ in pairs}
        matched_g = {id(g) for _, g in pairs}
        for g in item.figures:
            if id(g) not in matched_g:
                s.mistakes.append(Mistake(item.text, "missed", f"{g.value:g} {g.unit}"))
        for p in predicted:
            if id(p) not in matched_p:
                s.mistakes.append(
                    Mistake(item.text, "spurious", f"{p.value:g} {p.unit} {p.text!r}")
                )
        for p, g in pairs:
            if p.qualifier == g.qualifier:
                s.qualifier_ok += 1
            else:
                s.mistakes.append(
                    Mistake(item.text, "qualifier", f"{p.qualifier} != {g.qualifier}")
                )
            if attributions_agree(p.attribution, g.attribution):
                s.attribution_ok += 1
            else:
                s.mistakes.append(
                    Mistake(item.text, "attribution", f"{p.attribution!r} != {g.attribution!r}")
                )
            if p.projection == g.projection:
                s.projection_ok += 1
            else:
                s.mistakes.append(
                    Mistake(item.text, "projection", f"{p.projection} != {g.projection} ({p.text})")
                )
    return s
