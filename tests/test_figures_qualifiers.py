"""Qualifiers: how exact a figure is, from the words before it."""

from __future__ import annotations

import pytest

from newsmon.figures import extract_figures


@pytest.mark.parametrize(
    ("phrase", "qualifier"),
    [
        ("", "exact"),
        ("about", "approx"),
        ("around", "approx"),
        ("some", "approx"),
        ("roughly", "approx"),
        ("an estimated", "approx"),
        ("nearly", "approx"),
        ("almost", "approx"),
        ("close to", "approx"),
        ("approximately", "approx"),
        ("at least", "at_least"),
        ("no fewer than", "at_least"),
        ("more than", "more_than"),
        ("over", "more_than"),
        ("upwards of", "more_than"),
        ("in excess of", "more_than"),
        ("up to", "up_to"),
        ("as many as", "up_to"),
        ("as much as", "up_to"),
        ("fewer than", "less_than"),
        ("less than", "less_than"),
        ("under", "less_than"),
        ("below", "less_than"),
    ],
)
def test_qualifier_phrases(phrase: str, qualifier: str) -> None:
    text = f"Officials counted {phrase} 3,000 soldiers near the border.".replace("  ", " ")
    (fig,) = extract_figures(text)
    assert fig.qualifier == qualifier
    assert fig.value == 3000
    assert fig.text == f"{phrase} 3,000 soldiers".strip()


def test_qualifier_before_a_currency_symbol() -> None:
    (fig,) = extract_figures("The deal is worth more than $2 billion.")
    assert (fig.qualifier, fig.value, fig.unit) == ("more_than", 2e9, "usd")


def test_plus_suffix_means_more_than() -> None:
    (fig,) = extract_figures("A 12,000-plus force of soldiers was sent.")
    assert (fig.value, fig.qualifier) == (12000, "more_than")


def test_over_after_a_measured_amount_is_a_preposition() -> None:
    figures = extract_figures("The race covers 3,492 km over 21 stages.")
    assert [(f.value, f.unit, f.qualifier) for f in figures] == [
        (3492, "km", "exact"),
        (21, "stage", "exact"),
    ]


def test_determiner_between_phrase_and_number_breaks_the_qualifier() -> None:
    figures = extract_figures("Inflation came in below the 2.6% economists had forecast.")
    assert figures[0].qualifier == "exact"


def test_a_dozen_is_exact_but_dozens_is_approximate() -> None:
    assert extract_figures("A dozen drones were downed.")[0].qualifier == "exact"
    assert extract_figures("Dozens of drones were downed.")[0].qualifier == "approx"
