"""assign_quantities: which tracked quantity each figure belongs to."""

from __future__ import annotations

from figures import assign_quantities, extract_figures

TRACKED = {
    "nk-troops/troops-in-russia": ["troops", "Soldiers", "servicemen", "personnel"],
    "nk-troops/casualties": ["casualties", "killed", "dead", "wounded"],
    "markets/inflation": ["%"],
}
TEXT = (
    "At least 3,000 soldiers have arrived and 4,700 casualties were reported, officials said. "
    "Inflation slowed to 2.4%. Rescuers pulled 14 survivors from the rubble. "
    "The total rose to 187."
)


def test_units_are_compared_as_lemmas_and_first_matching_key_wins() -> None:
    figures = assign_quantities(extract_figures(TEXT), TRACKED)
    assert [(f.unit, f.quantity) for f in figures] == [
        ("soldier", "nk-troops/troops-in-russia"),
        ("casualty", "nk-troops/casualties"),
        ("percent", "markets/inflation"),
        ("survivor", None),
        (None, None),
    ]


def test_unmatched_figures_are_kept_with_their_unit_and_input_is_unchanged() -> None:
    original = extract_figures(TEXT)
    assigned = assign_quantities(original, {"x/y": ["drones"]})
    assert [f.quantity for f in assigned] == [None] * len(original)
    assert [f.unit for f in assigned] == [f.unit for f in original]
    assert all(f.quantity is None for f in original)


def test_two_quantities_sharing_a_unit_leave_the_figure_untracked() -> None:
    (fig,) = extract_figures("Some 600 troops arrived.")
    tracked = {"a/first": (u for u in ["troop"]), "b/second": ["troops"]}
    assert assign_quantities([fig], tracked)[0].quantity is None
