"""`newsmon search` and storage.search: one web-search query syntax on both backends, ranking,
filters, highlighted snippets, every output format, and bad queries as one clear line."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from archive_data import fill_archive, newsmon, write_archive_config
from click.testing import CliRunner

from newsmon.cli import main
from newsmon.storage import Database
from newsmon.storage.models import Article, Source
from newsmon.storage.phrase_pairs import pairs_query, rank_query
from newsmon.storage.search import (
    MATCH_END,
    MATCH_START,
    RANK_WINDOW,
    QueryError,
    SearchFilters,
    SearchHit,
    Term,
    fts5_match,
    parse_query,
    search_articles,
)


@pytest.fixture
def archive(database: Database) -> dict[str, int]:
    return fill_archive(database)


def search(database: Database, query: str, **filters: object) -> list[str]:
    limit = int(filters.pop("limit", 20))  # type: ignore[call-overload]
    with database.session() as session:
        hits = search_articles(session, query, SearchFilters(**filters), limit)  # type: ignore[arg-type]
    return ranked(hits)


def ranked(hits: list[SearchHit]) -> list[str]:
    """The hits' URL names, in the order found."""
    return [hit.url.rsplit("/", 1)[1] for hit in hits]


# --- the query syntax (no database) -------------------------------------------------------


def test_parse_query_words_phrases_or_and_exclusions() -> None:
    assert parse_query('troops "North Korean" -drill OR kursk') == [
        [Term("troops"), Term("North Korean"), Term("drill", exclude=True)],
        [Term("kursk")],
    ]


def test_dangling_and_doubled_or_are_ignored() -> None:
    assert parse_query("OR troops or OR kursk OR") == [[Term("troops")], [Term("kursk")]]


def test_fts5_expression_quotes_every_term() -> None:
    groups = parse_query('title:troops NEAR(x) "say ""hi""" -a*')
    assert fts5_match(groups) == ('(("title:troops" AND "NEAR(x)" AND "say " AND "hi") NOT "a*")')


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "has no words to search for"),
        ("   ", "has no words to search for"),
        ('"" ( ) * OR', "has no words to search for"),
        ("-troops", "is excluded; add at least one word"),
        ("kursk OR -troops", "is excluded; add at least one word"),
    ],
)
def test_queries_that_ask_for_nothing_are_refused(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_query(query)


# --- searching, both backends --------------------------------------------------------------


def test_words_must_all_occur_and_title_matches_rank_first(database, archive) -> None:
    assert set(search(database, "troops russia")) == {"kursk", "pentagon-troops"}
    assert search(database, "soldiers russia") == ["kursk"]
    # "kursk" is in two titles and in one text only: the title hits rank above it
    assert search(database, "kursk")[-1] == "pentagon-troops"
    assert set(search(database, "kursk")) == {"kursk", "front", "pentagon-troops"}


def test_phrase_or_and_exclusion(database, archive) -> None:
    assert search(database, '"kremlin declined"') == ["kursk"]
    assert search(database, '"declined kremlin"') == []  # word order matters in a phrase
    assert set(search(database, "rain OR pentagon")) == {"seoul-rain", "pentagon-troops"}
    assert set(search(database, "kursk -pentagon")) == {"kursk", "front"}
    assert search(database, 'troops -"Kremlin declined"') == ["pentagon-troops"]


def test_stemming_matches_other_word_forms(database, archive) -> None:
    assert search(database, "soldier") == ["kursk"]  # the text says "soldiers"
    assert "kursk" in search(database, "arriving")  # "arrive", "arrived"


def test_filters_topic_source_dates_and_limit(database, archive) -> None:
    assert search(database, "seoul", topic="nk") == ["kursk"]
    assert search(database, "seoul", source="wire") == ["seoul-rain"]
    oct_21 = datetime(2024, 10, 21, tzinfo=UTC)
    assert set(search(database, "kursk", since=oct_21)) == {"front", "pentagon-troops"}
    assert search(database, "kursk", until=oct_21) == ["kursk"]
    # the Pentagon article has no published date: first_seen_at (Oct 28) dates it
    assert search(database, "pentagon", until=oct_21) == []
    assert len(search(database, "kursk", limit=1)) == 1


@pytest.mark.parametrize(
    ("query", "filters", "expected"),
    [
        ("kursk", {"topic": "nk", "source": "yonhap", "since": 19, "until": 26}, ["front"]),
        ("kursk", {"topic": "nk", "source": "wire", "since": 26}, ["pentagon-troops"]),
        ("kursk", {"topic": "nk", "source": "wire", "until": 26}, []),
        ("seoul", {"topic": "nk", "source": "wire"}, []),  # rain: wire, no topic; kursk: yonhap
        ("russia", {"source": "yonhap", "since": 18, "until": 19}, ["kursk"]),  # since inclusive
        ("russia", {"topic": "nk", "since": 18, "until": 29}, ["kursk", "pentagon-troops"]),
    ],
)
def test_filters_combined_must_all_hold(
    database, archive, query: str, filters: dict[str, object], expected: list[str]
) -> None:
    days = {key: datetime(2024, 10, int(filters[key]), tzinfo=UTC)  # type: ignore[call-overload]
            for key in ("since", "until") if key in filters}  # fmt: skip
    assert sorted(search(database, query, **{**filters, **days})) == expected


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        ({"until": 21}, "kursk"),  # eight dated of ten stored: each match's date is looked up
        ({"since": 1, "until": 26}, "front"),
        ({"since": 26}, "pentagon-troops"),  # one dated: the dated ids are listed
        ({"since": 20, "until": 26}, "front"),
    ],
)
def test_date_filters_with_a_rank_window(
    database, archive, dates: dict[str, int], expected: str
) -> None:
    """With a window of one, the hit is the newest match inside the dates on both backends; on
    SQLite whether the range holds many articles (a date lookup per match) or few (a list of
    their ids)."""
    with database.session() as session:
        for day in range(1, 7):  # newer than the sample, dated before it, matching nothing
            session.add(
                Article(url=f"https://example.org/notice-{day}", title="Notice", text="None.",
                        published_at=datetime(2024, 10, day, tzinfo=UTC),
                        first_seen_at=datetime(2024, 10, day, tzinfo=UTC))
            )  # fmt: skip
    filters = SearchFilters(
        **{key: datetime(2024, 10, day, tzinfo=UTC) for key, day in dates.items()}
    )
    with database.session() as session:
        hits = search_articles(session, "kursk", filters, limit=5, rank_window=1)
    assert ranked(hits) == [expected]


def test_snippet_marks_each_match(database, archive) -> None:
    with database.session() as session:
        [hit] = search_articles(session, '"Kremlin declined"', limit=5)
    # SQLite marks each word of a phrase, PostgreSQL the phrase as one span
    marked = hit.highlighted("<", ">")
    assert "<Kremlin" in marked and "declined>" in marked, marked
    assert hit.snippet.count(MATCH_START) == hit.snippet.count(MATCH_END) >= 1
    assert "Kremlin declined to comment" in hit.plain_snippet
    assert hit.score > 0 and hit.source == "yonhap"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("title:kursk", []),  # a column filter in FTS5, here the words "title" and "kursk"
        ("kursk NEAR troops", []),  # no article says "near"
        ("kursk*", ["front", "kursk", "pentagon-troops"]),
        ("^kursk", ["front", "kursk", "pentagon-troops"]),
        ('"declined to comment', ["kursk"]),  # an unterminated phrase runs to the end
        ("escalation.", ["pentagon-troops"]),
    ],
)
def test_fts_syntax_in_user_text_is_read_as_words(
    database, archive, query: str, expected: list[str]
) -> None:
    assert sorted(search(database, query)) == expected


def test_ranks_the_newest_matches_of_a_very_common_query(database, archive) -> None:
    """Past the window (10,000 by default) only the newest matches are ranked, on both
    backends; the kept ones are still ranked by score, not by age."""
    with database.session() as session:
        hits = search_articles(session, "kursk", limit=10, rank_window=2)
        everything = search_articles(session, "kursk", limit=10)
    found = ranked(hits)
    # "kursk" (stored first) is left out: "front" and "pentagon-troops" are the newest two
    assert sorted(found) == ["front", "pentagon-troops"]
    assert [name for name in ranked(everything) if name != "kursk"] == found


def test_by_default_the_newest_1000_matches_are_ranked(database: Database) -> None:
    """An article stored before 1,000 newer matches is not found by a query they all match,
    even with the query in its title (it would rank first); a narrower query still finds it."""
    assert RANK_WINDOW == 1_000
    first_seen = datetime(2024, 10, 1, tzinfo=UTC)
    with database.session() as session:
        session.execute(
            sa.insert(Article),
            [{"url": "https://example.org/oldest", "title": "Zeppelin zeppelin zeppelin",
              "text": "A zeppelin over Kursk.", "authors": [], "first_seen_at": first_seen}]
            + [{"url": f"https://example.org/newer-{n}", "title": "Notice",
                "text": "A zeppelin was seen.", "authors": [], "first_seen_at": first_seen}
               for n in range(RANK_WINDOW)],
        )  # fmt: skip
    found = search(database, "zeppelin", limit=RANK_WINDOW + 1)
    assert len(found) == RANK_WINDOW and "oldest" not in found
    assert search(database, "zeppelin kursk") == ["oldest"]


def test_the_window_holds_the_newest_matches_however_old_they_are(database: Database) -> None:
    """Matches stored long before many newer articles that do not match are still the newest
    matches (PostgreSQL looks for them among ever wider ranges of the newest ids)."""
    first_seen = datetime(2024, 10, 1, tzinfo=UTC)
    with database.session() as session:
        session.execute(
            sa.insert(Article),
            [{"url": f"https://example.org/match-{n}", "title": "Zeppelin",
              "text": "A zeppelin " * n, "authors": [], "first_seen_at": first_seen}
             for n in (3, 2, 1)]  # the most mentions first
            + [{"url": f"https://example.org/notice-{n}", "title": "Notice", "text": "None.",
                "authors": [], "first_seen_at": first_seen} for n in range(60)],
        )  # fmt: skip
    with database.session() as session:
        hits = search_articles(session, "zeppelin", limit=5, rank_window=2)
    assert sorted(ranked(hits)) == ["match-1", "match-2"]  # not match-3, the oldest


@pytest.mark.parametrize(
    ("query", "filters", "rank_window"),
    [
        ("zeppelin", {}, 2),  # in the newest range
        ("zeppelin", {"source": "wire"}, 3),  # wire's matches are rarer: wider ranges
        ("zeppelin", {"until": datetime(2024, 10, 3, tzinfo=UTC)}, 2),  # only the oldest pass
        ('"zeppelin hovered"', {}, 4),  # a phrase, from the pair index on PostgreSQL
        ("airship", {}, 5),  # fewer matches than the window: every one of them
    ],
    ids=["newest", "source", "until", "phrase", "rare"],
)
def test_the_window_is_the_newest_filtered_matches_across_the_archive(
    database: Database, query: str, filters: dict[str, object], rank_window: int
) -> None:
    """In an archive much larger than the window, with matches spread over it, the ranked
    matches are exactly the newest rank_window that pass the filters (PostgreSQL reads them
    range by range, newest ids first, then wider ranges, then the rest)."""
    with database.session() as session:
        wire = Source(name="wire", url="https://example.org/wire.xml", type="feed")
        other = Source(name="other", url="https://example.org/other.xml", type="feed")
        session.add_all([wire, other])
        session.flush()
        for n in range(400):
            day = datetime(2024, 10, 1 + n // 20, tzinfo=UTC)
            text = "Notice."
            if n % 37 == 0:
                text = "A zeppelin hovered over the town. " + "zeppelin " * (n % 5)
            if n in (5, 390):
                text = "An airship, not a zeppelin."
            session.add(
                Article(url=f"https://example.org/a{n}", title="Notice", text=text,
                        source_id=(wire if n % 3 == 0 else other).id,
                        published_at=day, first_seen_at=day)
            )  # fmt: skip
            session.flush()
    with database.session() as session:
        hits = search_articles(session, query, SearchFilters(**filters), 50, rank_window)  # type: ignore[arg-type]
        source_names = {source.id: source.name for source in session.scalars(sa.select(Source))}
        rows = session.execute(sa.select(Article).order_by(Article.id.desc())).scalars().all()
        expected = [
            row.url
            for row in rows
            if query.strip('"') in row.text.lower()
            if filters.get("source") in (None, source_names[row.source_id])
            if "until" not in filters or row.published_at < filters["until"]  # type: ignore[operator]
        ][:rank_window]
    assert expected and sorted(hit.url for hit in hits) == sorted(expected)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"topic": "nk", "until": datetime(2024, 10, 26, tzinfo=UTC)}, ["front", "kursk"]),
        ({"source": "yonhap"}, ["front", "kursk"]),  # the window counts matches of the source
        ({"until": datetime(2024, 10, 26, tzinfo=UTC)}, ["front", "kursk"]),
    ],
)
def test_rank_window_counts_filtered_matches(
    database, archive, filters: dict[str, object], expected: list[str]
) -> None:
    """The window holds the newest matches that pass the filters, not the newest matches."""
    with database.session() as session:
        hits = search_articles(session, "kursk", SearchFilters(**filters), 10, rank_window=2)  # type: ignore[arg-type]
    assert sorted(ranked(hits)) == expected


def test_postgres_planner_settings_do_not_outlive_the_search(database, archive) -> None:
    """Search plans its statement with seq and plain index scans off; the caller's transaction
    gets its own settings back."""
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL planner settings")
    settings = sa.select(
        sa.func.current_setting("enable_seqscan"), sa.func.current_setting("plan_cache_mode")
    )
    with database.session() as session:
        session.execute(sa.text("SET LOCAL plan_cache_mode = force_generic_plan"))
        assert ranked(search_articles(session, "kursk", limit=1)) == ["kursk"]
        assert tuple(session.execute(settings).one()) == ("on", "force_generic_plan")
        # put back by the statement that finds nothing too, and by a refused query
        assert search_articles(session, "zeppelin") == []
        assert tuple(session.execute(settings).one()) == ("on", "force_generic_plan")
        with pytest.raises(QueryError, match="very common words"):
            search_articles(session, "the of")
        assert tuple(session.execute(settings).one()) == ("on", "force_generic_plan")


def test_no_match_is_an_empty_list(database, archive) -> None:
    assert search(database, "zeppelin") == []


def test_empty_archive(database) -> None:
    assert search(database, "troops") == []


# --- the command -----------------------------------------------------------------------------


@pytest.fixture
def config_path(tmp_path: Path, database_url: str, archive) -> Path:
    return write_archive_config(tmp_path, database_url)


def run(config_path: Path, *args: str):
    return CliRunner().invoke(main, ["--config", str(config_path), "search", *args])


def test_search_table_as_a_user_runs_it(config_path: Path) -> None:
    result = newsmon("--config", config_path, "search", "kremlin")
    assert result.returncode == 0, result.stderr
    assert "North Korean troops arrive in Russia's Kursk region" in result.stdout
    assert "https://yonhap.example.org/kursk" in result.stdout
    assert "Kremlin declined to comment" in result.stdout
    assert "pentagon" not in result.stdout.lower()


def test_search_json_marks_matches_with_double_asterisks(config_path: Path) -> None:
    result = run(config_path, "kursk", "--source", "yonhap", "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert {record["url"] for record in records} == {
        "https://yonhap.example.org/kursk",
        "https://yonhap.example.org/front",
    }
    assert all("**Kursk**" in record["snippet"] for record in records)
    assert set(records[0]) == {"id", "date", "source", "title", "url", "score", "snippet"}


def test_search_csv(config_path: Path) -> None:
    result = run(config_path, "rain", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [row["title"] for row in rows] == ["Rain in Seoul"]
    assert rows[0]["date"].startswith("2024-10-20") and "**rain**" in rows[0]["snippet"].lower()


@pytest.mark.parametrize(
    ("output", "expected"),
    [("table", "no articles match 'zeppelin'\n"), ("json", "[]\n"), ("csv", None)],
)
def test_search_with_no_hits(config_path: Path, output: str, expected: str | None) -> None:
    result = run(config_path, "zeppelin", "--format", output)
    assert result.exit_code == 0, result.output
    if expected is None:
        assert result.output == "id,date,source,title,url,score,snippet\n"
    else:
        assert result.output == expected


def test_search_filters_on_the_command_line(config_path: Path) -> None:
    result = run(config_path, "kursk", "--topic", "nk", "--since", "2024-10-21", "--until",
                 "2024-10-26", "--format", "json")  # fmt: skip
    assert [record["title"] for record in json.loads(result.output)] == ["Kursk front quiet"]


def test_bad_query_is_one_line_exit_2(config_path: Path) -> None:
    result = newsmon("--config", config_path, "search", "--", "-troops")
    assert result.returncode == 2
    assert result.stderr.startswith("newsmon: search query '-troops': every word")
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["troops", "--since", "last tuesday"], "--since 'last tuesday': give a duration"),
        (["troops", "--until", "soon"], "--until 'soon': give a duration"),
        (["troops", "--topic", "weather"], "--topic 'weather': no such topic; topics: nk, quake"),
        (["troops", "--limit", "0"], "Invalid value for '--limit'"),
        (["troops", "--format", "xml"], "Invalid value for '--format'"),
    ],
)
def test_bad_arguments_exit_2(config_path: Path, args: list[str], message: str) -> None:
    result = run(config_path, *args)
    assert result.exit_code == 2 and message in result.output


def test_stop_words_only(config_path: Path, database_url: str) -> None:
    """PostgreSQL does not index 'the'; SQLite does. Either way no SQL error reaches the user."""
    result = run(config_path, "the")
    if database_url.startswith("sqlite"):
        assert result.exit_code == 0 and "Kursk" in result.output
    else:
        assert result.exit_code == 2 and "only very common words" in result.output


# --- PostgreSQL phrases through the pair index (storage.phrase_pairs) ------------------------


@pytest.mark.parametrize(
    ("tsquery", "pairs"),
    [
        ("'front' <-> 'line'", "'front line' | '*'"),
        ("'troop'", None),  # no phrase: no pair needed
        ("'a' <-> 'b' <-> 'c' & 'd'", "('a b' & 'b c') | '*'"),
        ("'a' <-> 'b' | 'c' <-> 'd'", "('a b' | 'c d') | '*'"),
        ("'a' <-> 'b' | 'c'", None),  # one side of the OR needs no pair
        ("'front' <2> 'line'", None),  # a stop word between: not adjacent lexemes
        ("!( 'a' <-> 'b' ) & 'c'", None),  # an excluded phrase narrows nothing
        ("'it''s' <-> 'x'", "'it''s x' | '*'"),
        ("'a':* <-> 'b'", None),  # a prefix is no single lexeme
        ("'a' & & 'b'", None),  # text the parser does not know: no pair index
    ],
)
def test_pairs_a_phrase_query_needs(tsquery: str, pairs: str | None) -> None:
    assert pairs_query(tsquery) == pairs


@pytest.mark.parametrize(
    ("tsquery", "words"),
    [
        ("'offici' & 'said'", "'offici' | 'said'"),
        ("'front' <-> 'line' & 'troop'", "'front' | 'line' | 'troop'"),
        ("'elect' & !'protest'", "'elect'"),  # excluded: in no match
        ("'drone' | 'missil' & 'drone'", "'drone' | 'missil'"),
        ("'kursk':*", None),  # a prefix: ranked as asked
        ("'unbalanced' & (", None),
    ],
)
def test_postgres_ranks_the_query_words_as_alternatives(tsquery: str, words: str | None) -> None:
    assert rank_query(tsquery) == words


PHRASE_TEXTS = [
    "The front line moved east. Officials said the line held.",
    "A line at the front of the shop; officials said nothing.",
    "Troops reached the front, then the line broke.",
    "North-Korean troops at the front line, the ministry said.",
    "Front lines everywhere: officials said so.",
    "The state of the art and the front of the line.",
]


@pytest.mark.parametrize(
    "query",
    [
        '"front line"',
        '"officials said"',
        '"north-korean troops"',
        '"front of the line"',
        '"front line" OR "officials said"',
        'officials -"front line"',
        '"line front"',
    ],
)
def test_postgres_phrases_from_the_pair_index_are_the_phrase_matches(
    database: Database, query: str
) -> None:
    """Every phrase query finds exactly the articles PostgreSQL's own `@@` finds: the pair index
    only narrows the candidates, ranked in the same order."""
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL's phrase index")
    with database.session() as session:
        for number, text in enumerate(PHRASE_TEXTS):
            session.add(Article(url=f"https://ex.org/{number}", title=f"story {number}", text=text))
    with database.session() as session:
        hits = search_articles(session, query, limit=50)
        expected = session.scalars(
            sa.text(
                "SELECT url FROM articles, websearch_to_tsquery('english', :q) AS q "
                "WHERE search @@ q ORDER BY ts_rank(search, q) DESC, id"
            ),
            {"q": query},
        ).all()
    assert [hit.url for hit in hits] == expected
    assert expected or query == '"line front"'  # a phrase in the wrong order finds nothing


def test_postgres_phrase_in_an_article_too_long_for_its_pairs(database: Database) -> None:
    """An article whose pairs pass a tsvector's 1 MB is stored all the same, and its phrases
    are found (it stays a candidate of every phrase query)."""
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL's phrase index")
    words = " ".join(hashlib.sha1(str(n).encode()).hexdigest()[:20] for n in range(26_000))
    with database.session() as session:
        session.add(Article(url="https://ex.org/long", title="long", text="front line " + words))
        session.add(Article(url="https://ex.org/short", title="short", text="the line in front"))
    with database.session() as session:
        assert [hit.url for hit in search_articles(session, '"front line"')] == [
            "https://ex.org/long"
        ]
