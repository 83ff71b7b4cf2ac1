"""assign_quantities: which tracked quantity each figure belongs to."""

from __future__ import annotations

import pytest

from newsmon.figures import assign_quantities, extract_figures
from newsmon.figures.quantities import QuantitySpec

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


def test_units_are_compared_as_lemmas() -> None:
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


# The shipped config's story, as a user would write it (config.yaml).
NK = {
    "nk/troops": QuantitySpec(
        units=("troops", "soldiers", "servicemen", "personnel", "forces"),
        context_not=("killed", "wounded", "captured", "a day", "per day"),
    ),
    "nk/casualties": QuantitySpec(
        units=("casualties", "killed", "dead", "wounded", "injured"),
        context_any=("killed", "wounded", "dead", "injured", "casualties", "died", "lost"),
    ),
}


def _assigned(text: str, tracked: dict = NK) -> list[tuple[float, str | None]]:
    return [(f.value, f.quantity) for f in assign_quantities(extract_figures(text), tracked)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("At least 40 soldiers from the North were killed or wounded.", [(40, "nk/casualties")]),
        (
            "Roughly 1,200 of its soldiers have been killed or injured, officials said.",
            [(1200, "nk/casualties")],
        ),
        ("One soldier tried to blow himself up.", [(1, None)]),
        ("Moscow was losing around 1,500 soldiers a day.", [(1500, None)]),
        (
            "Pyongyang has deployed about 10,000 soldiers, who are likely to join the fighting.",
            [(10000, "nk/troops")],
        ),
        ("North Korea has lost 3,000 soldiers in Kursk.", [(3000, "nk/casualties")]),
        (
            "Russia sent 12,000 troops after 300 were killed.",
            [(12000, "nk/troops"), (300, "nk/casualties")],
        ),
        ("Some 1,100 North Korean casualties were reported.", [(1100, "nk/casualties")]),
        ("About 200 soldiers were captured.", [(200, None)]),
        ("Troops now number 12,000, up from 3,000.", [(12000, "nk/troops"), (3000, None)]),
    ],
)
def test_the_clause_decides_what_a_figure_counts(
    text: str, expected: list[tuple[float, str | None]]
) -> None:
    assert _assigned(text) == expected


def test_the_reason_is_recorded() -> None:
    troops, dead = assign_quantities(
        extract_figures("About 11,000 soldiers arrived; 40 soldiers were killed."), NK
    )
    assert troops.assigned_by == "unit soldier"
    assert dead.assigned_by == "event death; context killed"
    (untracked,) = assign_quantities(extract_figures("A dozen drones were seen."), NK)
    assert untracked.quantity is None and untracked.assigned_by is None


def test_a_tie_between_two_quantities_leaves_the_figure_untracked() -> None:
    tracked = {"a/troops": QuantitySpec(units=("soldiers",)), "b/army": QuantitySpec(("troops",))}
    assert _assigned("About 5,000 soldiers arrived.", tracked) == [(5000, "a/troops")]
    both = {"a/troops": QuantitySpec(("soldiers",)), "b/more": QuantitySpec(("soldiers",))}
    assert _assigned("About 5,000 soldiers arrived.", both) == [(5000, None)]


def test_min_value_and_per_gate_tracking() -> None:
    small = {"x/boats": QuantitySpec(("boats",), min_value=10)}
    assert _assigned("Five boats and 12 boats sank.", small) == [(5, None), (12, "x/boats")]
    rate = {"x/shells": QuantitySpec(("shells",), per="day"), "x/stock": QuantitySpec(("shells",))}
    assert _assigned("Russia fires 10,000 shells a day and holds 3 million shells.", rate) == [
        (10000, "x/shells"),
        (3_000_000, "x/stock"),
    ]


def test_a_context_word_must_occur_where_any_is_given() -> None:
    tracked = {"h/cases": QuantitySpec(("cases",), context_any=("measles",))}
    assert _assigned("Measles cases rose to 5,000. Flu cases hit 9,000.", tracked) == [
        (5000, "h/cases"),
        (9000, None),
    ]


def test_who_says_so_is_not_what_is_counted() -> None:
    tracked = {
        "nk/casualties": QuantitySpec(
            units=("killed", "casualties"), context_not=("Ukrainian", "Russia has")
        )
    }
    said = "At least 40 North Korean soldiers were killed, according to Ukrainian officials."
    assert _assigned(said, tracked) == [(40, "nk/casualties")]
    other_army = "Russia has lost more than 600,000 soldiers, according to Ukrainian officials."
    assert _assigned(other_army, tracked) == [(600_000, None)]
