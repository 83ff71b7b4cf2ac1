"""Search snippets built from the stored text (storage.snippets): the matched word forms marked,
a window around the place with most of the query's words, an ellipsis where the text goes on;
on PostgreSQL the marked words are the ones its own `english` configuration matches."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from archive_data import fill_archive

from newsmon.storage import Database
from newsmon.storage.models import Article
from newsmon.storage.search import MATCH_END, MATCH_START, SNIPPET_WORDS, search_articles
from newsmon.storage.snippets import ELLIPSIS, build_snippet


def snippet(document: str, lexemes: list[str], words: int = 12) -> str:
    return build_snippet(document, lexemes, words, "[", "]")


FILLER = " ".join(f"word{n}" for n in range(60))


def test_marks_every_form_of_a_query_word() -> None:
    text = "Soldiers and a soldier's kit: the soldiering went on."
    assert (
        snippet(text, ["soldier"]) == "[Soldiers] and a [soldier]'s kit: the [soldiering] went on."
    )


def test_the_window_is_where_most_query_words_are() -> None:
    """One word early, both words later: the window holds both, with the text cut around it."""
    text = f"Troops moved. {FILLER}. Troops crossed the river near Kursk today. {FILLER}"
    found = snippet(text, ["troop", "kursk"])
    assert found.startswith(f"{ELLIPSIS}[Troops] crossed the river near [Kursk]")
    assert found.endswith(ELLIPSIS) and len(found.split()) <= 12 + 1


def test_the_window_starts_at_the_sentence_of_the_match() -> None:
    text = f"{FILLER}. The Kremlin declined to comment on the report. {FILLER}"
    assert snippet(text, ["kremlin"]).startswith(f"{ELLIPSIS}The [Kremlin] declined to comment")


def test_a_match_near_the_end_still_gets_a_full_window() -> None:
    text = f"{FILLER} and finally Kursk."
    found = snippet(text, ["kursk"])
    assert found.startswith(ELLIPSIS) and found.endswith("finally [Kursk].")
    assert len(found.split()) == 12


def test_no_matching_word_gives_the_start_of_the_text() -> None:
    assert snippet(f"Title\n{FILLER}", ["zeppelin"]) == (
        "Title\n" + " ".join(FILLER.split()[:11]) + ELLIPSIS
    )


def test_a_short_document_is_whole_and_without_ellipsis() -> None:
    assert snippet("Rain in Seoul\nHeavy rain expected.", ["rain"]) == (
        "[Rain] in Seoul\nHeavy [rain] expected."
    )


WORD_FORMS = (
    "Dying soldiers cried as the organization's generously funded hospitals were flooding; "
    "North-Korean officials said the skies were dry, the cries ignored, the boxes emptied, "
    "relational databases and possibilities abounded; agreed, hopping, hoping, happily."
)


@pytest.mark.parametrize(
    "query",
    [
        "die OR dying OR soldier",
        "cry OR cries OR organization",
        "generous hospital flood",
        '"north korean" official',
        "sky OR dry OR box",
        "relation OR possibility OR agree",
        "hop OR hope OR happy OR happily",
    ],
)
def test_postgres_snippets_mark_the_words_postgres_matches(database: Database, query: str) -> None:
    """Every word of the snippet is marked exactly when PostgreSQL's `english` configuration
    makes it one of the query's lexemes (the same stemming as `@@`); OR, so that every form
    is tried."""
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL's stemming")
    with database.session() as session:
        session.add(Article(url="https://ex.org/forms", title="Word forms", text=WORD_FORMS))
    with database.session() as session:
        [hit] = search_articles(session, query)
        words = re.findall(r"\x02?\w+\x03?", hit.snippet)
        lexemes = set(
            session.scalar(
                sa.select(sa.func.tsvector_to_array(sa.func.to_tsvector("english", query)))
            )
            or []
        )
        for word in words:
            plain = word.strip(MATCH_START + MATCH_END)
            stems = set(
                session.scalar(
                    sa.select(sa.func.tsvector_to_array(sa.func.to_tsvector("english", plain)))
                )
                or []
            )
            assert word.startswith(MATCH_START) == bool(stems & lexemes), (word, hit.snippet)
    assert MATCH_START in hit.snippet and len(words) <= SNIPPET_WORDS * 2


@pytest.mark.parametrize(
    ("query", "snippets"),
    [
        (
            '"north korean" OR rain',
            {
                "seoul-rain": "<Rain> in Seoul — Heavy <rain> is expected in Seoul on Friday, "
                "the weather agency said. Umbrellas advised.",
                "pentagon-troops": "Pentagon: 10,000 <North> <Korean> troops in Russia — The "
                "Pentagon said about 10,000 <North> <Korean> troops were in Russia, and the "
                "number could rise to…",
                "kursk": "<North> <Korean> troops arrive in Russia's Kursk region — South "
                "Korea's spy agency said 12,000 <North> <Korean> soldiers had arrived in "
                "Russia. They are training…",
            },
        ),
        (
            "soldier",  # "soldiers" in the text: stemmed as the backend's index does
            {
                "kursk": "…South Korea's spy agency said 12,000 North Korean <soldiers> had "
                "arrived in Russia. They are training in the far east before moving to the…",
            },
        ),
    ],
)
def test_both_backends_show_the_same_snippets(
    database: Database, query: str, snippets: dict[str, str]
) -> None:
    fill_archive(database)
    with database.session() as session:
        hits = search_articles(session, query, limit=5)
    found = {hit.url.rsplit("/", 1)[1]: hit.highlighted("<", ">") for hit in hits}
    assert found == snippets
