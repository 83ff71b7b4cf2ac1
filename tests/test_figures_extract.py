"""extract_figures end to end: the seed story, offsets, order and the issue's example record."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmon.figures import extract_figures

LABELLED = Path(__file__).parent / "data" / "figures-labelled.jsonl"

SEED_PARAGRAPH = (
    "North Korea has sent at least 3,000 soldiers to Russia to support its war against "
    "Ukraine, and more are on the way. About 12,000 troops are expected to be deployed by "
    "December, South Korea's National Intelligence Service (NIS) told lawmakers on Wednesday. "
    "A 26-year-old soldier captured on Jan. 9 said his unit, part of the 11th Corps, trained "
    "for 3 weeks in the Far East before leaving in 2024."
)


def test_seed_story_paragraph() -> None:
    figures = extract_figures(SEED_PARAGRAPH)
    by_value = {f.value: f for f in figures}
    assert sorted(by_value) == [3, 3000, 12000]
    first, second = by_value[3000], by_value[12000]
    assert (first.qualifier, first.unit, first.text) == (
        "at_least",
        "soldier",
        "at least 3,000 soldiers",
    )
    assert first.projection is False
    assert (second.unit, second.qualifier, second.projection) == ("troop", "approx", True)
    assert second.attribution is not None and "National Intelligence Service" in second.attribution
    assert by_value[3].unit == "week"


def test_issue_example_record() -> None:
    text = (
        "Russia has stepped up recruitment. At least 3,000 soldiers have been sent so far, "
        "South Korea's National Intelligence Service said."
    )
    (fig,) = extract_figures(text)
    assert fig.to_dict() | {"sentence": "…"} == {
        "value": 3000.0,
        "low": None,
        "high": None,
        "qualifier": "at_least",
        "unit": "soldier",
        "text": "At least 3,000 soldiers",
        "start": 35,
        "end": 58,
        "sentence": "…",
        "attribution": "South Korea's National Intelligence Service",
        "projection": False,
        "quantity": None,
        "per": None,
        "change": None,
        "role": None,
        "assigned_by": None,
    }


def test_offsets_point_at_the_text_and_figures_come_in_text_order() -> None:
    texts = [line for line in LABELLED.read_text(encoding="utf-8").splitlines()[1:]]
    article = "\n".join(texts)  # every labelled line in one long text, JSON and all
    figures = extract_figures(article)
    assert len(figures) > 300
    for f in figures:
        assert article[f.start : f.end] == f.text
        assert f.sentence in article
        assert f.text in f.sentence
    starts = [f.start for f in figures]
    assert starts == sorted(starts)


def test_empty_and_number_free_text() -> None:
    assert extract_figures("") == []
    assert extract_figures("The Kremlin declined to comment.") == []


@pytest.mark.parametrize(
    ("text", "value", "qualifier"),
    [
        ("Nearly one in five adults has obesity.", 20.0, "approx"),
        ("Two-thirds of voters backed the plan.", 66.67, "exact"),
        ("A third of the aid never arrived.", 33.33, "exact"),
        ("Half of the children were vaccinated.", 50.0, "exact"),
        ("Only 3 out of 10 voters agreed.", 30.0, "exact"),
    ],
)
def test_shares_are_percentages(text: str, value: float, qualifier: str) -> None:
    (fig,) = extract_figures(text)
    assert (fig.value, fig.unit, fig.qualifier) == (value, "percent", qualifier)


def test_a_share_named_by_position_is_no_figure() -> None:
    assert extract_figures("Sales rose in the second half of the year.") == []


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("The firm paid $US41,250,000 for the site.", 41_250_000, "usd"),
        ("The deal was worth RM4.5mil.", 4_500_000, "myr"),
        ("Revenue reached US$2.4 billion.", 2.4e9, "usd"),
        ("The plan costs 7 billion yuan.", 7e9, "cny"),
        ("Seoul will spend 3 trillion won.", 3e12, "krw"),
        ("The project costs Rs 500 crore.", 5e9, "inr"),
        ("It has a four-cylinder engine.", 4, "cylinder"),
        ("The talks agreed a 30-day truce.", 30, "day"),
        ("The 31-nation alliance met.", 31, "nation"),
        ("The navy will commission two 7,000-tonne destroyers.", 2, "destroyer"),
        ("Prices have fallen by a fifth since their peak.", 20, "percent"),
        ("The river rose half a metre.", 0.5, "metre"),
        ("It performs 1.1 quintillion calculations.", 1.1e18, "calculation"),
        ("The Fed has raised rates 11 times since March 2022.", 11, "time"),
        ("They are building a 500-megawatt plant.", 500, "mw"),
        ("The ship has a 37m-long hull.", 37, "metre"),
        ("The engine makes 500 pound-feet of torque.", 500, "pound-foot"),
        ("Temperatures fell to −5 degrees overnight.", -5, "degree"),
        ("The sample held 1.2e6 cells.", 1.2e6, "cell"),
        ("There are 10\u2009000 residents.", 10_000, "resident"),
        ("The crowd numbered thirty-four thousand two hundred seventeen.", 34_217, None),
    ],
)
def test_general_forms(text: str, value: float, unit: str | None) -> None:
    fig = extract_figures(text)[0]
    assert (fig.value, fig.unit) == (pytest.approx(value), unit)


@pytest.mark.parametrize(
    ("text", "per"),
    [
        ("Moscow was losing around 1,500 soldiers a day.", "day"),
        ("Russia fires 3 million shells a year.", "year"),
        ("Brent traded at $58 per barrel.", "barrel"),
        ("The car reaches 62 mph.", "hour"),
        ("Income is $2,000 per capita.", "capita"),
        ("Some 300 people died a day earlier.", None),
    ],
)
def test_rates_name_what_they_are_per(text: str, per: str | None) -> None:
    (fig,) = extract_figures(text)
    assert fig.per == per


def test_movement_and_from_to_roles() -> None:
    rose, level = extract_figures("Shares rose 5% and the index rose to 352.")
    assert (rose.change, level.change) == ("up", "up")
    (shot,) = extract_figures("Kyiv says it shot down 84 drones.")
    assert shot.change is None
    (fell,) = extract_figures("Output fell by about 3 percent.")
    assert fell.change == "down"
    before, after = extract_figures("The index went from 310 to 352.")
    assert (before.role, after.role) == ("previous", "current")
    now, then = extract_figures("Troops now number 12,000, up from 3,000 in October.")
    assert (now.role, now.unit, then.role) == ("current", "troop", "previous")
    assert now.change == then.change == "up"
    (alone,) = extract_figures("Tesla delivered 462,890 vehicles, up 6.4% on a year earlier.")[1:]
    assert (alone.role, alone.change) == (None, "up")
    (span,) = extract_figures("Estimates ranged from 3,000 to 5,000 troops.")
    assert span.role is None and span.qualifier == "range"


@pytest.mark.parametrize(
    "text",
    [
        "troops said about 3,000 killed from to rose " * 25_000,  # a 1 MB run-on sentence
        " | ".join(f"{i * 37 % 99_991:,}" for i in range(10_000)),  # a table of numbers
        "".join(chr(c) for c in range(0, 0x3000) if not 0xD800 <= c < 0xE000),  # any Unicode
        "1" * 1_000_000,
    ],
)
def test_hostile_input_gives_figures_not_exceptions(text: str) -> None:
    figures = extract_figures(text)
    assert all(text[f.start : f.end] == f.text for f in figures)
    assert all(len(f.sentence) <= 1000 for f in figures)  # a bounded window per figure
