"""Numbers that are not figures: years, dates, times, ages, ordinals, identifiers, furniture."""

from __future__ import annotations

import pytest

from newsmon.figures import extract_figures


@pytest.mark.parametrize(
    "text",
    [
        # years and dates
        "The pact was signed in 2024 after years of talks.",
        "Fighting has continued since 2022, the report said.",
        "The 2004 tsunami is still remembered.",
        "The treaty was signed on June 19 in Pyongyang.",
        "A soldier captured on Jan. 9 told interrogators about it.",
        "The outbreak began on 3 March.",
        "The summit runs from June 13 to 15.",
        "The ruling came on 21.10.2024 in Kyiv.",
        "The 9/11 attacks changed the region.",
        # times
        "Updated 14:05 GMT, 21 Oct 2024",
        "The quake struck at 4:17 a.m. local time.",
        "Polls close at 10 p.m. on Sunday.",
        "The helicopter was shot down at around 3pm.",
        # ages
        "A 26-year-old soldier was captured.",
        "The striker, 24, has signed a new contract.",
        "Volunteers aged 18 to 65 took part.",
        "The man, who is in his 60s, is recovering.",
        # ordinals and decades
        "The 11th Corps is an elite unit.",
        "Sweden became NATO's 32nd member.",
        "Prices peaked in the 1990s.",
        # identifiers
        "Under Article 4 of the treaty, both sides pledged assistance.",
        "The Su-27 jets took off at dawn.",
        "Resolution 2270 bans such transfers.",
        "The G7 leaders met in Italy.",
        "Flight MH17 was shot down over Ukraine.",
        "The Boeing 737 was grounded.",
        "Hurricane Milton made landfall as a Category 3 storm.",
        "The COVID-19 pandemic began in Wuhan.",
        "Windows 11 will stop receiving updates.",
        "Paris 2024 was a success, officials said.",
        "A 155mm shell is the standard NATO calibre.",
        # page furniture and tickers
        "12 comments",
        "Share 34",
        "Page 2 of 5",
        "Photo 3 of 12.",
        "5 min read",
        "1.2K views",
        "DOW 38,120.5 +0.4%",
        "Read more: 5 things to know about the summit",
        "Listen: 12 minutes",
        # contact details and addresses
        "Call 1-800-555-0199 for details.",
        "Call 020 7946 0958 or email the newsroom.",
        "Visit our office at 221 Main Street for more information.",
        # scores, multipliers, proportions, fractions, hyphenated modifiers
        "Real Madrid won 3-1 at Anfield.",
        "The match ended in a 2-2 draw.",
        "The number is more than three times last week's estimate.",
        # references and bare spelled-out numbers
        "The two leaders agreed to meet again.",
        "The ruling party won a majority of just two.",
        "Only one of the reactors is operating.",
        "The law passed two years ago.",
    ],
)
def test_not_a_figure(text: str) -> None:
    assert [f.text for f in extract_figures(text)] == []


def test_year_like_number_followed_by_a_counted_noun_is_a_figure() -> None:
    (fig,) = extract_figures("Some 2000 troops crossed the river.")
    assert (fig.value, fig.unit) == (2000, "troop")


def test_exclusion_keeps_the_real_figure_in_the_same_sentence() -> None:
    figures = extract_figures("Flight MH17 was shot down on July 17, 2014, killing all 298 people.")
    assert [(f.value, f.unit) for f in figures] == [(298, "person")]


def test_furniture_unit_is_dropped_but_a_counted_noun_is_kept() -> None:
    figures = extract_figures("The post drew 245 comments after 31 people were arrested.")
    assert [(f.value, f.unit) for f in figures] == [(31, "person")]


def test_measurement_hyphen_keeps_the_figure() -> None:
    figures = extract_figures("The dam sent a 5-metre wall of water into a 1,500-strong camp.")
    assert [(f.value, f.unit) for f in figures] == [(5, "metre"), (1500, "camp")]


def test_magnitude_is_a_figure() -> None:
    (fig,) = extract_figures("A magnitude 7.8 earthquake struck southern Turkey.")
    assert (fig.value, fig.unit) == (7.8, "magnitude")


@pytest.mark.parametrize(
    "text",
    [
        "The 26-year-old striker scored.",
        "It was a one-off payment.",
        "Profits rose in the third quarter and in the first half.",
        "The number is more than three times last week's estimate.",
    ],
)
def test_hyphenated_ages_one_offs_and_positions_are_not_figures(text: str) -> None:
    assert extract_figures(text) == []
