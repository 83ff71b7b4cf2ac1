"""Sentence spans: figures carry the sentence they were found in."""

from __future__ import annotations

from newsmon.figures import extract_figures
from newsmon.figures.sentences import sentence_spans


def test_sentences_split_on_full_stops_but_not_abbreviations() -> None:
    text = "A soldier captured on Jan. 9 spoke. The U.S. said 3,000 troops.\nPhoto 3 of 12."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "A soldier captured on Jan. 9 spoke.",
        "The U.S. said 3,000 troops.",
        "Photo 3 of 12.",
    ]


def test_decimal_points_do_not_end_a_sentence() -> None:
    text = "Prices rose 4.5% to $182.30 in early trading. Volumes fell."
    assert len(sentence_spans(text)) == 2


def test_figure_sentence_is_its_own_sentence() -> None:
    text = "The war goes on. At least 3,000 soldiers arrived, Seoul said. Talks stalled."
    (fig,) = extract_figures(text)
    assert fig.sentence == "At least 3,000 soldiers arrived, Seoul said."
