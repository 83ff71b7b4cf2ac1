"""unit_lemma: the form under which units and counted nouns are compared."""

from __future__ import annotations

import pytest

from newsmon.figures import unit_lemma


@pytest.mark.parametrize(
    ("word", "lemma"),
    [
        ("Soldiers", "soldier"), ("soldier", "soldier"), ("troops", "troop"),
        ("casualties", "casualty"), ("servicemen", "serviceman"), ("people", "person"),
        ("children", "child"), ("women", "woman"), ("houses", "house"), ("churches", "church"),
        ("buses", "bus"), ("lives", "life"), ("personnel", "personnel"), ("dead", "dead"),
        ("%", "percent"), ("per cent", "percent"), ("Percent", "percent"),
        ("$", "usd"), ("dollars", "usd"), ("€", "eur"), ("euros", "eur"), ("£", "gbp"),
        ("kilometres", "km"), ("km", "km"), ("miles", "mile"), ("feet", "foot"),
        ("tonnes", "tonne"), ("hectares", "hectare"), ("percentage points", "percentage point"),
        ("artillery shells", "artillery shell"), ("  Troops ", "troop"),
    ],
)  # fmt: skip
def test_unit_lemma(word: str, lemma: str) -> None:
    assert unit_lemma(word) == lemma
