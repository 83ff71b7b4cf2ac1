"""Projection: forecasts, plans and conditionals are flagged; counts are not."""

from __future__ import annotations

import pytest

from newsmon.figures import extract_figures


@pytest.mark.parametrize(
    "text",
    [
        "Officials expect the total to reach 10,000 by December.",
        "The number is expected to reach 10,000.",
        "The company plans to hire 2,000 workers.",
        "North Korea may send as many as 100,000 troops.",
        "As many as 12,000 troops could be on Russian soil within weeks.",
        "The EU will send 1 million rounds of ammunition.",
        "Officials said 6,000 builders and deminers would be sent.",
        "Upwards of 80,000 fans are expected at the final.",
        "The bank raised its forecast for growth to 1.8 per cent.",
        "Retail sales beat forecasts of 0.2%.",
        "The central bank projects growth of 2.2% next year.",
        "The firm raised its guidance to $4.2 billion.",
    ],
)
def test_projection(text: str) -> None:
    assert extract_figures(text)[0].projection is True


@pytest.mark.parametrize(
    "text",
    [
        "At least 3,000 soldiers have already arrived.",
        "Kyiv estimates that 11,000 troops are deployed.",
        "An estimated 9 million shells have been shipped.",
        "Growth was 0.4%, more than expected.",
        "Firefighters had contained 45 percent of the fire by Wednesday evening.",
    ],
)
def test_count(text: str) -> None:
    assert extract_figures(text)[0].projection is False


def test_projection_is_decided_per_clause() -> None:
    figures = extract_figures(
        "The storm left 250,000 homes without power and could dump up to 30 cm of rain."
    )
    assert [(f.value, f.projection) for f in figures] == [(250000, False), (30, True)]
    figures = extract_figures(
        "At least 3,000 soldiers have arrived, and officials expect the total to reach 10,000."
    )
    assert [f.projection for f in figures] == [False, True]
