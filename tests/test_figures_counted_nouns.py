"""Units: what a figure counts, as a singular lower-case lemma or a unit."""

from __future__ import annotations

import pytest

from newsmon.figures import extract_figures
from newsmon.figures.counted_nouns import is_plural_noun


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("Seoul said 3,000 North Korean soldiers had arrived.", "soldier"),
        ("Pyongyang shipped 1.5 million artillery shells.", "shell"),
        ("About 1,500 North Korean special forces troops moved east.", "troop"),
        ("Officials said 6,000 military builders and deminers would go.", "builder"),
        ("Kyiv counts 11,000 North Korean servicemen.", "serviceman"),
        ("The agency reported 4,700 casualties.", "casualty"),
        ("The raid killed 12 civilians.", "civilian"),
        ("The quake killed 2,100 people.", "person"),
        ("The attack left 600 dead.", "dead"),
        ("The attack left 300 killed and dozens hurt.", "killed"),
        ("Ukraine fired 50 KN-23 missiles.", "missile"),
        ("Pyongyang sent 1,000 more troops.", "troop"),
        ("Inflation slowed to 2.4% in October.", "percent"),
        ("Unemployment held at 4.1 per cent.", "percent"),
        ("The bank raised rates by 75 basis points.", "basis point"),
        ("Lawmakers approved a $95 billion aid package.", "usd"),
        ("The budget allocates €2.3bn for defence.", "eur"),
        ("Russia will spend 13.2 trillion roubles.", "rub"),
        ("The airfield lies some 300 km from the front.", "km"),
        ("The storm could dump 30 cm of rain.", "cm"),
        ("Winds reached 120 mph.", "mph"),
        ("Fires burned 1.2 million hectares.", "hectare"),
        ("A door plug blew out at 16,000 feet.", "foot"),
        ("Ships carried 40,000 tonnes of grain.", "tonne"),
        ("One soldier was killed in the attack.", "soldier"),
        ("The EU will send 1 million rounds of ammunition.", "round"),
    ],
)
def test_unit_is_the_lemma_of_the_counted_noun(text: str, unit: str) -> None:
    assert extract_figures(text)[0].unit == unit


@pytest.mark.parametrize(
    "text",
    [
        "The death toll rose to 187 on Tuesday.",
        "Organisers put the crowd at 40,000.",
        "The town had a pre-war population of about 20,000.",
        "About 10,000 arrived last week.",
    ],
)
def test_bare_number_has_no_unit(text: str) -> None:
    (fig,) = extract_figures(text)
    assert fig.unit is None


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("The ministry said 38 of the 45 drones were downed.", ["drone", "drone"]),
        ("At least 3,000 soldiers arrived and the total may reach 10,000.", ["soldier", "soldier"]),
        ("The number of troops deployed has tripled, to some 10,000.", ["troop"]),
        ("The agency put total North Korean casualties at 4,700.", ["casualty"]),
        ("Measles cases in Europe surged to 58,000 last year.", ["case"]),
        ("The opposition says 1,000 of its supporters were detained.", ["supporter"]),
    ],
)
def test_unit_carried_from_the_clause(text: str, units: list[str]) -> None:
    assert [f.unit for f in extract_figures(text)] == units


def test_relative_clause_source_is_not_the_counted_noun() -> None:
    figures = extract_figures(
        "Employers added 254,000 jobs, more than the 150,000 analysts had expected."
    )
    assert [(f.value, f.unit) for f in figures] == [(254000, "job"), (150000, None)]
    assert figures[1].attribution == "analysts"


@pytest.mark.parametrize(
    ("word", "plural"),
    [("troops", True), ("people", True), ("servicemen", True), ("casualties", True),
     ("soldier", False), ("news", False), ("this", False), ("status", False)],
)  # fmt: skip
def test_is_plural_noun(word: str, plural: bool) -> None:
    assert is_plural_noun(word) is plural
