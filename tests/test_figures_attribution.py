"""Attribution: the source a sentence credits for its figures."""

from __future__ import annotations

import pytest

from newsmon.figures import extract_figures


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("About 10,000 troops are in Kursk, the Pentagon said.", "the Pentagon"),
        ("About 10,000 troops are in Kursk, the Pentagon said on Monday.", "the Pentagon"),
        ("About 10,000 troops are in Kursk, according to Ukraine's military intelligence.",
         "Ukraine's military intelligence"),
        ("According to the Pentagon, about 10,000 troops are in Kursk.", "the Pentagon"),
        ("Zelensky warned that 12,000 troops could be on Russian soil within weeks.", "Zelensky"),
        ("Seoul's spy agency said on Friday that about 1,500 troops had moved.",
         "Seoul's spy agency"),
        ("More than 4,000 soldiers were hurt, the intelligence service told parliament.",
         "the intelligence service"),
        ("Nearly 2,000 migrants crossed last week, Home Office figures show.",
         "Home Office figures"),
        ("The Pentagon now puts the number at roughly 10,000.", "The Pentagon"),
        ("Kyiv estimates that between 10,000 and 12,000 servicemen are deployed.", "Kyiv"),
        ("Police arrested 31 people and said two officers were injured.", "Police"),
        ("The bank raised its forecast for growth to 1.8 per cent.", "The bank"),
        ("The vaccine was 91% effective, said John Smith, the lead researcher.", "John Smith"),
        ("Casualties reached 4,000, the WHO said.", "the WHO"),
        ("About 8% of the aid arrived, the report said.", "the report"),
        ("Analysts polled by Reuters had expected a rise of 0.3%.", "Analysts polled by Reuters"),
        ("A dozen drones were downed, the governor wrote on Telegram.", "the governor"),
    ],
)  # fmt: skip
def test_source_patterns(text: str, source: str) -> None:
    assert extract_figures(text)[0].attribution == source


def test_no_source_is_null() -> None:
    assert extract_figures("Rescuers pulled 14 survivors from the rubble.")[0].attribution is None


def test_actions_are_not_sources() -> None:
    for text in (
        "Lawmakers approved a $95 billion aid package.",
        "US employers added 254,000 jobs in September.",
        "The coalition has pledged 1,000 more interceptors.",
    ):
        assert extract_figures(text)[0].attribution is None, text


def test_each_clause_keeps_its_own_source() -> None:
    figures = extract_figures(
        "Some 12,000 people marched, police said; organisers put the crowd at 40,000."
    )
    assert [f.attribution for f in figures] == ["police", "organisers"]


def test_final_reporting_clause_governs_the_whole_sentence() -> None:
    figures = extract_figures(
        "At least 3,000 soldiers have arrived, and officials expect the total to reach "
        "10,000 by December, lawmakers briefed by the agency said."
    )
    assert [f.attribution for f in figures] == ["lawmakers briefed by the agency"] * 2


def test_relative_clause_credits_its_own_source() -> None:
    figures = extract_figures(
        "Inflation slowed to 2.4% in October, the statistics office said, below the 2.6% "
        "economists had forecast."
    )
    assert [(f.attribution, f.projection) for f in figures] == [
        ("the statistics office", False),
        ("economists", True),
    ]
