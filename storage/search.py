"""Full-text search over article titles and texts, ranked, with a highlighted snippet per hit.

One query syntax on both backends, the web-search style of PostgreSQL's `websearch_to_tsquery`:
plain words must all occur, `"an exact phrase"`, `word OR word` (OR binds looser than the implied
AND), `-word` / `-"a phrase"` excludes. SQLite (FTS5, bm25 ranking) gets the query translated
into MATCH syntax with every term quoted, so FTS5 operators or column filters typed by a user
(`title:`, `NEAR`, `*`, `^`) are read as words, never as SQL or FTS5 syntax errors. PostgreSQL
ranks with `ts_rank` over the generated `articles.search` column (title weight A, text B), the
query's words taken as alternatives (how often and where each occurs, as bm25; not how close
they stand), and finds phrases through the adjacent-pair index of storage.phrase_pairs.
Both backends rank at most the newest RANK_WINDOW matches of a query (see search_articles);
PostgreSQL finds them through ix_articles_search_id (migration 0010) among the newest ids.

Snippets mark each match with MATCH_START / MATCH_END (control characters that cannot occur in
stored text); `SearchHit.highlighted(open, close)` swaps them for whatever the output wants.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session

from newsmon.errors import NewsmonError
from newsmon.storage.models import Article, ArticleTopic, Source
from newsmon.storage.phrase_pairs import PAIRS_FUNCTION, pairs_query, rank_query
from newsmon.storage.timeouts import StatementTimeout, statement_timeout

MATCH_START = "\x02"
MATCH_END = "\x03"
SNIPPET_WORDS = 24
RANK_WINDOW = 2_000  # both backends rank at most this many (the newest) matches of a query
TITLE_WEIGHT = 10.0  # SQLite bm25 column weight of the title against the text's 1.0


# a query's cost grows with its words (each an index lookup, each a term to rank): limits
# that no real search reaches, and a time limit for whatever still runs long
MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 32
SEARCH_TIMEOUT = 10.0  # seconds


class QueryError(NewsmonError, ValueError):
    """A search query that cannot be run; str() says what to type instead."""


@dataclass(frozen=True)
class Term:
    """One word or quoted phrase of a query; `exclude` for a leading minus."""

    text: str
    exclude: bool = False


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    url: str
    title: str | None
    source: str | None
    published_at: datetime | None
    first_seen_at: datetime
    score: float  # higher is better on both backends
    snippet: str  # matches between MATCH_START and MATCH_END

    @property
    def date(self) -> datetime:
        return self.published_at or self.first_seen_at

    def highlighted(self, open_mark: str, close_mark: str) -> str:
        return self.snippet.replace(MATCH_START, open_mark).replace(MATCH_END, close_mark)

    @property
    def plain_snippet(self) -> str:
        return self.highlighted("", "")


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def parse_query(query: str) -> list[list[Term]]:
    """A web-search query as OR-ed groups of AND-ed terms; raises QueryError when it asks for
    nothing that can be searched, or is too long."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(
            f"search query {_shown(query)} is {len(query):,} characters long; "
            f"give at most {MAX_QUERY_CHARS} characters and {MAX_QUERY_TERMS} words"
        )
    groups: list[list[Term]] = [[]]
    for match in _TOKEN.finditer(query):
        minus, phrase, word = match.groups()
        if phrase is not None:
            text, exclude = phrase, bool(minus)
        elif word.upper() == "OR":
            if groups[-1]:
                groups.append([])  # a dangling or doubled OR is ignored, as PostgreSQL does
            continue
        elif word.startswith("-") and len(word) > 1:
            text, exclude = word[1:], True
        else:
            text, exclude = word, False
        if _searchable(text):
            groups[-1].append(Term(text, exclude))
    groups = [group for group in groups if group]
    terms = sum(len(group) for group in groups)
    if terms > MAX_QUERY_TERMS:
        raise QueryError(
            f"search query {_shown(query)} has {terms} words; "
            f"give at most {MAX_QUERY_CHARS} characters and {MAX_QUERY_TERMS} words"
        )
    if not groups:
        raise QueryError(
            f"search query {query!r} has no words to search for; "
            'try words, "an exact phrase", word OR word, -excluded'
        )
    for group in groups:
        if all(term.exclude for term in group):
            raise QueryError(
                f"search query {query!r}: every word of "
                f"{' '.join('-' + term.text for term in group)!r} is excluded; "
                "add at least one word that must occur"
            )
    return groups


def _shown(query: str) -> str:
    return repr(query if len(query) <= 60 else query[:57] + "...")


def _searchable(text: str) -> bool:
    """Whether the text holds a letter or digit (punctuation alone indexes nothing)."""
    return any(char.isalnum() for char in text)


def fts5_match(groups: list[list[Term]]) -> str:
    """The FTS5 MATCH expression of a parsed query; every term is a quoted string."""

    def quoted(term: Term) -> str:
        return '"' + term.text.replace('"', '""') + '"'

    clauses = []
    for group in groups:
        required = " AND ".join(quoted(term) for term in group if not term.exclude)
        clause = f"({required})"
        for term in group:
            if term.exclude:
                clause = f"({clause} NOT {quoted(term)})"
        clauses.append(clause)
    return " OR ".join(clauses)


@dataclass(frozen=True)
class SearchFilters:
    topic: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search_articles(
    session: Session,
    query: str,
    filters: SearchFilters | None = None,
    limit: int = 20,
    rank_window: int = RANK_WINDOW,
    timeout: float = SEARCH_TIMEOUT,
) -> list[SearchHit]:
    """The best `limit` articles for a web-search style query, best first. A query matching
    more than `rank_window` articles (after the filters) ranks the newest `rank_window` of them,
    by article id (the order newsmon stored them), on both backends."""
    groups = parse_query(query)
    filters = filters or SearchFilters()
    try:
        with statement_timeout(session, timeout):
            if session.get_bind().dialect.name == "sqlite":
                return _search_sqlite(session, fts5_match(groups), filters, limit, rank_window)
            return _search_postgres(session, query, filters, limit, rank_window)
    except StatementTimeout:
        raise QueryError(
            f"search query {_shown(query)} took longer than {timeout:g}s and was stopped; "
            "use fewer or more specific words, or add --since, --topic or --source"
        ) from None


def _postgres_filters(filters: SearchFilters) -> list[sa.ColumnElement[bool]]:
    """The filters as tests of an articles row (PostgreSQL keeps long texts out of line, so
    reading a matching row's dates is cheap there)."""
    clauses: list[sa.ColumnElement[bool]] = []
    date = sa.func.coalesce(Article.published_at, Article.first_seen_at)
    if filters.topic is not None:
        clauses.append(
            sa.exists().where(
                ArticleTopic.article_id == Article.id, ArticleTopic.topic == filters.topic
            )
        )
    if filters.source is not None:
        clauses.append(
            Article.source_id.in_(sa.select(Source.id).where(Source.name == filters.source))
        )
    clauses.extend(_date_range(date, filters.since, filters.until))
    return clauses


_ARTICLE_COLUMNS = (
    Article.id,
    Article.url,
    Article.title,
    Source.name.label("source"),
    Article.published_at,
    Article.first_seen_at,
)

ENGLISH: sa.ColumnClause[Any] = sa.literal_column(
    "'english'::regconfig"
)  # the configuration of articles.search
_fts = sa.table("articles_fts", sa.column("rowid", sa.Integer))


def _search_sqlite(
    session: Session, match: str, filters: SearchFilters, limit: int, rank_window: int
) -> list[SearchHit]:
    # One statement, so each filter's id set is built once. Rank inside the FTS table alone:
    # joining articles for every match would read each row's long text (the date columns come
    # after it). Filters are rowid sets answered from indexes; article columns and snippets are
    # read for the kept hits only.
    fts: sa.ColumnClause[Any] = sa.literal_column("articles_fts")
    matches = fts.op("MATCH")(match)
    # bm25 costs about a microsecond per matching article: a query that matches more than
    # rank_window articles ranks the newest rank_window of them (rowid = article id, in the
    # order newsmon stored them). FTS5 walks the matches newest first and stops there.
    recent = (
        sa.select(_fts.c.rowid.label("id"), sa.func.bm25(fts, TITLE_WEIGHT, 1.0).label("score"))
        .select_from(_fts)
        .where(matches, *_rowid_filters(session, filters, rank_window))
        .order_by(_fts.c.rowid.desc())
        .limit(rank_window)
        .subquery("recent")
    )
    best = (
        sa.select(recent.c.id, recent.c.score)
        .order_by(recent.c.score, recent.c.id)
        .limit(limit)
        .subquery("best")
    )
    # snippet() re-reads the document, so it runs per kept hit (FTS5 seeks to the rowid)
    snippet = (
        sa.select(sa.func.snippet(fts, -1, MATCH_START, MATCH_END, "…", SNIPPET_WORDS))
        .select_from(_fts)
        .where(matches, _fts.c.rowid == best.c.id)
        .correlate(best)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(*_ARTICLE_COLUMNS, best.c.score, snippet.label("snippet"))
        .select_from(best)
        .join(Article, Article.id == best.c.id)
        .outerjoin(Source, Source.id == Article.source_id)
        .order_by(best.c.score, best.c.id)
    ).all()
    # bm25 is lower-is-better; negate so that both backends report higher-is-better
    return [_hit(row, -row.score, row.snippet or "") for row in rows]


def _rowid_filters(
    session: Session, filters: SearchFilters, rank_window: int
) -> list[sa.ColumnElement[bool]]:
    """The filters as tests of an FTS match's rowid, answered from indexes, never from the
    articles' rows (their long text comes before the date columns)."""
    # "+rowid": an expression, so SQLite tests membership per match instead of handing the
    # IN-list to FTS5 (which would run the MATCH once per listed rowid)
    rowid = sa.literal_column("+articles_fts.rowid", sa.Integer)
    clauses: list[sa.ColumnElement[bool]] = []
    if filters.topic is not None:
        clauses.append(
            rowid.in_(sa.select(ArticleTopic.article_id).where(ArticleTopic.topic == filters.topic))
        )
    if filters.source is not None:
        source_ids = sa.select(Source.id).where(Source.name == filters.source)
        clauses.append(rowid.in_(sa.select(Article.id).where(Article.source_id.in_(source_ids))))
    if filters.since is not None or filters.until is not None:
        clauses.append(_date_filter(session, rowid, filters.since, filters.until, rank_window))
    return clauses


def _date_filter(
    session: Session,
    rowid: sa.ColumnElement[int],
    since: datetime | None,
    until: datetime | None,
    rank_window: int,
) -> sa.ColumnElement[bool]:
    """`rowid IN (the dated ids)` when the range holds few articles, else a lookup of each
    match's date by id. Building the id list costs about 0.4 µs per dated article; the lookup
    the same per match tested, and the newest-first walk stops once rank_window matches passed,
    which takes about rank_window × stored / dated tests. The list wins while dated² is below
    rank_window × stored."""
    # coalesce(published_at, first_seen_at) in a form ix_articles_dates answers as two ranges,
    # UNION ALL (they cannot overlap; OR would de-duplicate them through a rowset)
    dated_ids = sa.union_all(
        sa.select(Article.id).where(*_date_range(Article.published_at, since, until)),
        sa.select(Article.id).where(
            Article.published_at.is_(None), *_date_range(Article.first_seen_at, since, until)
        ),
    )
    dated, stored = session.execute(
        sa.select(
            sa.select(sa.func.count()).select_from(dated_ids.subquery()).scalar_subquery(),
            sa.select(sa.func.max(Article.id)).scalar_subquery(),
        )
    ).one()
    if dated * dated <= rank_window * (stored or 0):
        return rowid.in_(dated_ids)
    # SQLite would look the id up in the table (its rowid), reading past the long text to the
    # dates; INDEXED BY makes it read them from the index. SQLAlchemy renders no SQLite hints,
    # hence the textual FROM.
    date_type = Article.__table__.c.published_at.type
    date = sa.literal_column("coalesce(dated.published_at, dated.first_seen_at)", date_type)
    return (
        sa.select(sa.literal_column("dated.id"))
        .select_from(sa.text("articles AS dated INDEXED BY ix_articles_id_dates"))
        .where(sa.literal_column("dated.id") == _fts.c.rowid, *_date_range(date, since, until))
        .exists()
    )


def _date_range(
    date: sa.SQLColumnExpression[datetime | None], since: datetime | None, until: datetime | None
) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = []
    if since is not None:
        clauses.append(date >= since)
    if until is not None:
        clauses.append(date < until)
    return clauses


def _search_postgres(
    session: Session, query: str, filters: SearchFilters, limit: int, rank_window: int
) -> list[SearchHit]:
    tsquery = sa.func.websearch_to_tsquery(ENGLISH, sa.literal(query, sa.Text))
    # with the newest id, from the primary key (before plain index scans are turned off)
    newest_id = sa.select(sa.func.max(Article.id)).scalar_subquery()
    nodes, text, newest = session.execute(
        sa.select(sa.func.numnode(tsquery), sa.cast(tsquery, sa.Text), newest_id)
    ).one()
    if nodes == 0:
        raise QueryError(
            f"search query {query!r} holds only very common words (the, a, of…), "
            "which are not indexed; add a more specific word"
        )
    search: sa.ColumnClause[Any] = sa.literal_column("articles.search")
    # ts_rank reads (and decompresses) each ranked match's stored tsvector, about 15 µs per
    # match: a query that matches more than rank_window articles ranks the newest rank_window
    # of them, as on SQLite. The GIN index finds the matches without reading their tsvectors
    # (plain words need no recheck); the heap rows it visits hold the filters' columns.
    pairs = pairs_query(text)
    words = rank_query(text)
    rank_by = tsquery if words is None else sa.cast(sa.literal(words, sa.Text), TSQUERY)

    def matching(lowest_id: int | None) -> sa.Subquery:
        """The matches passing the filters, with ids from lowest_id up when it is given."""
        rows = sa.select(Article.id, search.label("search")).where(*_postgres_filters(filters))
        if lowest_id is not None:
            # the blocks from the index, then the exact id from the row (no tsvector read)
            rows = rows.where(_id_block >= lowest_id // ID_BLOCK_SIZE, _id_plus_zero >= lowest_id)
        if pairs is None:
            return rows.where(search.op("@@")(tsquery)).subquery("matching")
        # A phrase: the candidates are the articles holding its adjacent word pairs, from the
        # pair index (storage.phrase_pairs); `@@` then checks each. OFFSET 0 keeps `@@` out of
        # the index scan: ANDed with the word index, whose phrase matches need a recheck, it
        # would recheck the pairs too, computing each candidate's pairs again (~1 ms).
        pairs_of = getattr(sa.func, PAIRS_FUNCTION)(search)
        candidates = (
            rows.where(pairs_of.op("@@")(sa.cast(sa.literal(pairs, sa.Text), TSQUERY)))
            .offset(0)
            .subquery("candidates")
        )
        return (
            sa.select(candidates.c.id, candidates.c.search)
            .where(candidates.c.search.op("@@")(tsquery))
            .subquery("matching")
        )

    with _planner_settings(session, _MATCHES_FROM_GIN):
        lowest_id = _newest_matches_start(session, matching, newest, rank_window)
        rows = session.execute(
            _ranked_statement(matching(lowest_id), tsquery, rank_by, limit, rank_window)
        ).all()
    return [_hit(row, float(row.score), row.snippet) for row in rows]


# Migration 0010 indexes each article's block of ID_BLOCK_SIZE ids with its words, in
# ix_articles_search_id, so one index scan answers "these words among the newest ids" without
# visiting other matches' rows. Blocks rather than ids: a range of ids is a GIN entry per id (a
# range of 30,000 ids took 33 ms), a range of blocks an entry per block. Neither expression is
# one the primary key answers: on `id >= N` the planner would take the range from the primary
# key and test the words row by row, reading each row's tsvector.
ID_BLOCK_SIZE = 1024
_id_block = sa.literal_column(f"articles.id / {ID_BLOCK_SIZE}", sa.Integer)
_id_plus_zero = sa.literal_column("articles.id + 0", sa.Integer)


def _newest_matches_start(
    session: Session,
    matching: Callable[[int | None], sa.Subquery],
    newest: int | None,
    rank_window: int,
) -> int | None:
    """The id of the rank_window-th newest match, or None when there are fewer matches.
    Listing every match to keep the newest visits each one's row (~1 µs, 0.1 s for a word in
    most of 100,000 articles): ask for the matches among the newest ids first, then among a
    range as wide as the matches found so far say the window needs (with a margin), so a
    common word is answered from a range a few times rank_window wide and a rare one from few
    matches."""
    span = rank_window * 4
    while newest is not None and span < newest:
        found = matching(newest - span + 1)
        window = sa.select(found.c.id).order_by(found.c.id.desc()).limit(rank_window).subquery()
        count, start = session.execute(sa.select(sa.func.count(), sa.func.min(window.c.id))).one()
        if count == rank_window:
            return int(start)
        # 1.5 times the span the density so far needs; at least twice, at most 16 times as wide
        span = int(span * min(16.0, max(2.0, 1.5 * rank_window / max(count, 1))))
    return None


def _ranked_statement(
    matching: sa.Subquery,
    tsquery: sa.ColumnElement[Any],
    rank_by: sa.ColumnElement[Any],
    limit: int,
    rank_window: int,
) -> sa.Select[*tuple[Any, ...]]:
    recent = (
        sa.select(matching.c.id, matching.c.search)
        .order_by(matching.c.id.desc())
        .limit(rank_window)
        .subquery("recent")
    )
    score = sa.func.ts_rank(recent.c.search, rank_by)
    best = (
        sa.select(recent.c.id, score.label("score"))
        .order_by(score.desc(), recent.c.id)
        .limit(limit)
        .subquery("best")
    )
    # ts_headline re-parses the document, so it runs on the kept hits only
    document = sa.func.coalesce(Article.title, "") + "\n" + sa.func.coalesce(Article.text, "")
    options = (
        f"StartSel={MATCH_START}, StopSel={MATCH_END}, MaxWords={SNIPPET_WORDS}, "
        f'MinWords={SNIPPET_WORDS // 2}, MaxFragments=2, FragmentDelimiter=" … "'
    )
    headline = sa.func.ts_headline(ENGLISH, document, tsquery, sa.literal(options, sa.Text))
    return (
        sa.select(*_ARTICLE_COLUMNS, best.c.score, headline.label("snippet"))
        .select_from(best)
        .join(Article, Article.id == best.c.id)
        .outerjoin(Source, Source.id == Article.source_id)
        .order_by(best.c.score.desc(), best.c.id)
    )


# The planner costs `search @@ query` on a row as one operator, but it reads and decompresses
# the row's out-of-line tsvector (about 4 µs): it would walk the primary key newest first, or
# scan the table, testing every row (0.4 s on 100,000 articles when the filters or a phrase
# pass few). Matches come from the GIN index instead, which reads no tsvector unless a phrase
# needs a recheck. A prepared statement's generic plan would not know the query's words, so
# every search is planned with them. Parallel workers cost more to start (~10 ms on a busy
# machine) than the few thousand rows a search reads take.
_MATCHES_FROM_GIN = {
    "enable_seqscan": "off",
    "enable_indexscan": "off",
    "plan_cache_mode": "force_custom_plan",
    "max_parallel_workers_per_gather": "0",
}


@contextmanager
def _planner_settings(session: Session, settings: dict[str, str]) -> Iterator[None]:
    """Plan the block's statements with these settings, then put back the transaction's own
    values (on an error the transaction's rollback puts them back)."""
    names = list(settings)
    # one round trip: the subquery (OFFSET 0: not merged into the outer query) reads the
    # values before the outer list sets them
    previous = (
        sa.select(*(sa.func.current_setting(name).label(f"s{n}") for n, name in enumerate(names)))
        .offset(0)
        .subquery("previous")
    )
    set_all = [sa.func.set_config(name, value, True) for name, value in settings.items()]
    values = session.execute(sa.select(*previous.c, *set_all)).one()[: len(names)]
    yield
    restore = [
        sa.func.set_config(name, value, True) for name, value in zip(names, values, strict=True)
    ]
    session.execute(sa.select(*restore))


def _hit(row: sa.Row[*tuple[Any, ...]], score: float, snippet: str) -> SearchHit:
    return SearchHit(
        article_id=row.id,
        url=row.url,
        title=row.title,
        source=row.source,
        published_at=row.published_at,
        first_seen_at=row.first_seen_at,
        score=score,
        snippet=" ".join(snippet.split()),  # one line: newlines of the text would break tables
    )
