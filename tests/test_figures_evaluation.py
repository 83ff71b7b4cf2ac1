"""The evaluation rules, and the quality gate on the labelled set."""

from __future__ import annotations

from pathlib import Path

import pytest

from figures import Figure, extract_figures
from figures.evaluation import (
    GoldFigure,
    attributions_agree,
    match_figures,
    parse_labelled,
    score,
)

LABELLED = Path(__file__).parent / "data" / "figures-labelled.jsonl"
F1_TARGET = 0.95
QUALIFIER_TARGET = 0.90


def gold(value: float, unit: str | None, low=None, high=None, qualifier="exact") -> GoldFigure:
    return GoldFigure(value, low, high, qualifier, unit, None, False)


def pred(value: float, unit: str | None) -> Figure:
    return Figure(value, None, None, "exact", unit, "x", 0, 1, "x", None, False)


def test_values_match_within_half_a_percent_and_units_must_agree() -> None:
    assert match_figures([pred(10040, "troop")], [gold(10000, "troop")])
    assert not match_figures([pred(10060, "troop")], [gold(10000, "troop")])
    assert not match_figures([pred(10000, "soldier")], [gold(10000, "troop")])
    assert match_figures([pred(10000, None)], [gold(10000, None)])


def test_vague_gold_matches_anywhere_in_its_span_but_a_range_needs_its_midpoint() -> None:
    assert match_figures([pred(300, "soldier")], [gold(500, "soldier", 200, 900, "approx")])
    assert not match_figures([pred(1000, "soldier")], [gold(500, "soldier", 200, 900, "approx")])
    assert not match_figures([pred(10500, "x")], [gold(11000, "x", 10000, 12000, "range")])


def test_each_prediction_matches_one_gold_figure() -> None:
    pairs = match_figures([pred(5, "x")], [gold(5, "x"), gold(5, "x")])
    assert len(pairs) == 1


@pytest.mark.parametrize(
    ("predicted", "expected", "agree"),
    [
        ("The Pentagon", "the Pentagon", True),
        ("South Korea’s NIS", "South Korea's NIS", True),
        ("lawmakers briefed by the agency", "lawmakers", True),
        ("police", "organisers", False),
        (None, None, True),
        ("police", None, False),
        (None, "police", False),
    ],
)
def test_attribution_rule(predicted: str | None, expected: str | None, agree: bool) -> None:
    assert attributions_agree(predicted, expected) is agree


def test_parse_labelled_skips_the_format_line_and_reports_bad_lines() -> None:
    text = '{"format": "..."}\n{"text": "A", "figures": [], "split": "dev"}\n'
    (item,) = parse_labelled(text)
    assert (item.text, item.figures, item.split) == ("A", (), "dev")
    with pytest.raises(ValueError, match="line 2"):
        parse_labelled('{"format": "..."}\n{"text": "A"}\n')


def test_scores_count_misses_and_spurious_figures() -> None:
    items = parse_labelled(
        '{"format": ""}\n'
        '{"text": "Rescuers pulled 14 survivors out.", "figures": [{"value": 14, "low": null, '
        '"high": null, "qualifier": "exact", "unit": "survivor", "attribution": null, '
        '"projection": false}, {"value": 3, "low": null, "high": null, "qualifier": "exact", '
        '"unit": "dog", "attribution": null, "projection": false}]}\n'
    )
    s = score(items, extract_figures)
    assert (s.gold, s.predicted, s.matched) == (2, 1, 1)
    assert (s.precision, s.recall) == (1.0, 0.5)
    assert [m.kind for m in s.mistakes] == ["missed"]


def test_labelled_set_is_large_and_varied_enough() -> None:
    items = parse_labelled(LABELLED.read_text(encoding="utf-8"))
    own = [i for i in items if i.split in ("dev", "test")]
    assert len(own) >= 200
    assert sum(1 for i in own if not i.figures) >= 40  # hard negatives
    assert {g.qualifier for i in own for g in i.figures} >= {
        "exact", "approx", "at_least", "more_than", "up_to", "less_than", "range",
    }  # fmt: skip


def test_quality_gate_on_the_labelled_set() -> None:
    s = score(parse_labelled(LABELLED.read_text(encoding="utf-8")), extract_figures)
    assert s.f1 >= F1_TARGET, f"F1 {s.f1:.3f} < {F1_TARGET}"
    assert s.qualifier_accuracy >= QUALIFIER_TARGET
