"""Clauses: the part of a sentence a figure's source and projection are read from."""

from __future__ import annotations

from newsmon.figures.clauses import clause_span

SENTENCE = "Some 12,000 people marched, police said; organisers put the crowd at 40,000."


def test_semicolon_and_comma_conjunctions_bound_clauses() -> None:
    start = SENTENCE.index("40,000")
    c_start, c_end = clause_span(SENTENCE, start, start + 6)
    assert SENTENCE[c_start:c_end] == "organisers put the crowd at 40,000."
    start = SENTENCE.index("12,000")
    c_start, c_end = clause_span(SENTENCE, start, start + 6)
    assert SENTENCE[c_start:c_end] == "Some 12,000 people marched, police said"


def test_plain_comma_does_not_end_a_clause() -> None:
    text = "The company will cut up to 1,200 jobs, or about 8 percent of its workforce."
    start = text.index("8 percent")
    assert clause_span(text, start, start + 9) == (0, len(text))
