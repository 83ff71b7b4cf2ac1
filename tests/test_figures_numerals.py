"""Number forms: every common way of writing a number reads as the right value."""

from __future__ import annotations

import pytest

from newsmon.figures import extract_figures


def only(text: str):
    figures = extract_figures(text)
    assert len(figures) == 1, [f.text for f in figures]
    return figures[0]


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("Officials said 3,000 soldiers arrived.", 3000, "soldier"),
        ("Officials said 3000 soldiers arrived.", 3000, "soldier"),
        ("The country has 1.5 million shells in stock.", 1.5e6, "shell"),
        ("The fund is worth 2bn dollars.", 2e9, "usd"),
        ("The army has 12k drones in reserve.", 12000, "drone"),
        ("Congress approved $2 billion for the plan.", 2e9, "usd"),
        ("The budget sets aside €2.3bn for defence.", 2.3e9, "eur"),
        ("The club paid £300m for the squad.", 3e8, "gbp"),
        ("The flood displaced 1.3m people.", 1.3e6, "person"),
        ("Twelve thousand people marched.", 12000, "person"),
        ("A dozen drones were shot down.", 12, "drone"),
        ("Nearly two dozen soldiers were captured.", 24, "soldier"),
        ("One hundred and fifty people were rescued.", 150, "person"),
        ("Half a million people fled.", 500000, "person"),
        ("Twenty-five ships were damaged.", 25, "ship"),
        ("The Fed cut rates by half a percentage point.", 0.5, "percentage point"),
        ("Prices rose 2.4% in October.", 2.4, "percent"),
        ("Turnout was 67 per cent.", 67, "percent"),
        ("The fire burned 3,5 million hectares.", 3.5e6, "hectare"),
        ("Shares closed at $182.30 on Friday.", 182.3, "usd"),
        ("Temperatures hit 48.8C in Sicily.", 48.8, "celsius"),
    ],
)
def test_number_forms(text: str, value: float, unit: str) -> None:
    fig = only(text)
    assert fig.value == pytest.approx(value)
    assert fig.unit == unit


def test_doubled_zero_typo_reads_as_thousands_never_a_hundred_thousand() -> None:
    fig = only("The agency said 10,0000 troops were stationed near the border.")
    assert fig.value == 10000
    assert fig.unit == "troop"


def test_malformed_digit_groups_are_not_read_as_a_number() -> None:
    assert extract_figures("The code was 12,34,5678 on the form.") == []


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("Hundreds of soldiers were seen boarding trains.", 200, 900),
        ("The quake left tens of thousands homeless.", 20000, 90000),
        ("Hundreds of thousands of people fled.", 200000, 900000),
        ("Thousands of people lined the streets.", 2000, 9000),
        ("Millions of dollars were frozen.", 2e6, 9e6),
        ("Dozens of men were detained.", 24, 108),
        ("Several hundred migrants were rescued.", 300, 900),
        ("A few dozen protesters stayed.", 24, 60),
    ],
)
def test_vague_amounts_carry_their_order_of_magnitude_span(
    text: str, low: float, high: float
) -> None:
    fig = only(text)
    assert (fig.low, fig.high) == (low, high)
    assert fig.value == (low + high) / 2
    assert fig.qualifier == "approx"


def test_vague_amount_counts_the_noun_after_of() -> None:
    assert only("Tens of thousands of people were displaced.").unit == "person"
    assert only("The quake left tens of thousands homeless.").unit == "person"
