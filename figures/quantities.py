"""Quantity matching: which tracked quantity a figure's unit belongs to."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from figures.lemmas import unit_lemma
from figures.record import Figure

__all__ = ["assign_quantities", "unit_lemma"]


def assign_quantities(figures: list[Figure], tracked: Mapping[str, Iterable[str]]) -> list[Figure]:
    """Copies of `figures` with `.quantity` set to the first key of `tracked` ("topic/quantity")
    whose configured units share the figure's unit lemma, else None. Order is kept and figures
    that match nothing are returned too: they are stored with their unit."""
    lemma_sets = [(key, {unit_lemma(u) for u in units}) for key, units in tracked.items()]
    out: list[Figure] = []
    for fig in figures:
        quantity = None
        if fig.unit is not None:
            lemma = unit_lemma(fig.unit)
            quantity = next((key for key, lemmas in lemma_sets if lemma in lemmas), None)
        out.append(dataclasses.replace(fig, quantity=quantity))
    return out
