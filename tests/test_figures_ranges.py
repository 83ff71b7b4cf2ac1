"""Ranges: one figure with bounds and midpoint; changes, scores and phone numbers are not."""

from __future__ import annotations

import pytest

from newsmon.figures import extract_figures


@pytest.mark.parametrize(
    ("text", "low", "high", "unit"),
    [
        ("Kyiv estimates that between 10,000 and 12,000 servicemen are deployed.", 1e4, 1.2e4,
         "serviceman"),
        ("Officials say 10,000-12,000 troops are deployed.", 1e4, 1.2e4, "troop"),
        ("Officials say 10,000 to 12,000 troops are deployed.", 1e4, 1.2e4, "troop"),
        ("Officials say 10,000–12,000 troops are deployed.", 1e4, 1.2e4, "troop"),
        ("The project will cost $5-6 billion.", 5e9, 6e9, "usd"),
        ("Rates may reach 5–5.5% by June.", 5, 5.5, "percent"),
        ("Estimates of the crowd ranged from 50,000 to 80,000.", 5e4, 8e4, None),
    ],
)  # fmt: skip
def test_ranges(text: str, low: float, high: float, unit: str | None) -> None:
    (fig,) = extract_figures(text)
    assert (fig.low, fig.high, fig.unit, fig.qualifier) == (low, high, unit, "range")
    assert fig.value == (low + high) / 2


def test_from_to_is_a_change_not_a_range() -> None:
    figures = extract_figures("The number of displaced people rose from 3,000 to 9,000.")
    assert [(f.value, f.unit, f.qualifier) for f in figures] == [
        (3000, "person", "exact"),
        (9000, "person", "exact"),
    ]


def test_descending_pair_is_two_figures_not_a_range() -> None:
    figures = extract_figures("Lawmakers voted 68 to 31 to advance the bill.")
    assert [(f.value, f.low) for f in figures] == [(68, None), (31, None)]


def test_scores_and_phone_numbers_are_not_ranges() -> None:
    assert extract_figures("Real Madrid won 3-1 at Anfield.") == []
    assert extract_figures("Call 1-800-555-0199 now.") == []
