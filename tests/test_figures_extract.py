"""extract_figures end to end: the seed story, offsets, order and the issue's example record."""

from __future__ import annotations

from pathlib import Path

from figures import extract_figures

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
