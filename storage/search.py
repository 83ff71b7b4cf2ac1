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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session

from newsmon.errors import NewsmonError
from newsmon.storage.models import Article, ArticleTopic, Source
from newsmon.storage.phrase_pairs import PAIRS_FUNCTION, pairs_query, query_lexemes, rank_query
from newsmon.storage.snippets import TITLE_END, build_snippet, english_stem, porter_stem
from newsmon.storage.timeouts import StatementTimeout, postgres_timeout, statement_timeout

MATCH_START = "\x02"
MATCH_END = "\x03"
SNIPPET_WORDS = 24
RANK_WINDOW = 1_000  # both backends rank at most this many (the newest) matches of a query
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
        postgres = session.get_bind().dialect.name == "postgresql"
        with statement_timeout(session, timeout, set_by_caller=postgres):
            if not postgres:
                return _search_sqlite(session, groups, filters, limit, rank_window)
            return _search_postgres(session, query, filters, limit, rank_window, timeout)
    except StatementTimeout:
        raise QueryError(
            f"search query {_shown(query)} took longer than {timeout:g}s and was stopped; "
            "use fewer or more specific words, or add --since, --topic or --source"
        ) from None


def _postgres_filters(shape: _Shape) -> list[sa.ColumnElement[bool]]:
    """The filters the shape has, as tests of an articles row with bound parameters (PostgreSQL
    keeps long texts out of line, so reading a matching row's dates is cheap there)."""
    clauses: list[sa.ColumnElement[bool]] = []
    date = sa.func.coalesce(Article.published_at, Article.first_seen_at)
    date_type = Article.__table__.c.published_at.type
    if shape.topic:
        clauses.append(
            sa.exists().where(
                ArticleTopic.article_id == Article.id,
                ArticleTopic.topic == sa.bindparam("topic", type_=sa.Text),
            )
        )
    if shape.source:
        named = Source.name == sa.bindparam("source", type_=sa.Text)
        clauses.append(Article.source_id.in_(sa.select(Source.id).where(named)))
    if shape.since:
        clauses.append(date >= sa.bindparam("since", type_=date_type))
    if shape.until:
        clauses.append(date < sa.bindparam("until", type_=date_type))
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
    session: Session,
    groups: list[list[Term]],
    filters: SearchFilters,
    limit: int,
    rank_window: int,
) -> list[SearchHit]:
    match = fts5_match(groups)
    lexemes = fts5_lexemes(groups)
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
    # the kept hits' title and text, for their snippets (storage.snippets, as on PostgreSQL)
    rows = session.execute(
        sa.select(*_ARTICLE_COLUMNS, best.c.score, Article.text)
        .select_from(best)
        .join(Article, Article.id == best.c.id)
        .outerjoin(Source, Source.id == Article.source_id)
        .order_by(best.c.score, best.c.id)
    ).all()
    # bm25 is lower-is-better; negate so that both backends report higher-is-better
    return [
        _hit(row, -row.score, _snippet(row.title, row.text, lexemes, porter_stem)) for row in rows
    ]


def fts5_lexemes(groups: list[list[Term]]) -> list[str]:
    """The tokens FTS5's porter tokenizer makes of the query's words that are not excluded."""
    words = (
        word
        for group in groups
        for term in group
        if not term.exclude
        for word in re.findall(r"\w+", term.text.lower())
    )
    return list(dict.fromkeys(porter_stem(word) for word in words))


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


@dataclass(frozen=True)
class _Shape:
    """What a PostgreSQL search statement holds; the values are its bound parameters, so each
    shape's statement is built once (building it took ~4 ms of Python per search)."""

    topic: bool
    source: bool
    since: bool
    until: bool
    phrase: bool  # the candidates come from the pair index
    rank_words: bool  # ts_rank over the query's words as alternatives (else the query)
    ranges: bool  # the newest matches are read range by range (else all of them)


def _search_postgres(
    session: Session,
    query: str,
    filters: SearchFilters,
    limit: int,
    rank_window: int,
    timeout: float,
) -> list[SearchHit]:
    # Two round trips (a round trip costs 1-3 ms on a busy machine): the first reads the
    # query's tsquery (storage.phrase_pairs derives the phrase pairs and the rank's words from
    # its text), the newest id (from the primary key, planned before plain index scans are
    # turned off) and the settings it then changes for the transaction; the second finds the
    # newest matches, ranks them, reads the kept hits' text for the snippets and puts the
    # settings back.
    row = session.execute(
        _first_statement(), {"query": query, "timeout": postgres_timeout(timeout)[1]}
    ).one()
    nodes, text, newest = row[:3]
    # statement_timeout stays the transaction's own (as the caller's statement_timeout sets it)
    restore = {f"restore{n}": value for n, value in enumerate(row[3 : 3 + len(_MATCHES_FROM_GIN)])}
    if nodes == 0:
        session.execute(_restore_statement(), restore)
        raise QueryError(
            f"search query {query!r} holds only very common words (the, a, of…), "
            "which are not indexed; add a more specific word"
        )
    pairs = pairs_query(text)
    words = rank_query(text)
    span = rank_window * FIRST_RANGE
    shape = _Shape(
        topic=filters.topic is not None,
        source=filters.source is not None,
        since=filters.since is not None,
        until=filters.until is not None,
        phrase=pairs is not None,
        rank_words=words is not None,
        ranges=newest is not None and span < newest,
    )
    values = {
        "query": query,
        "pairs": pairs,
        "words": words,
        "newest": newest,
        "span": span,
        "rank_window": rank_window,
        "limit": limit,
        **{name: getattr(filters, name) for name in ("topic", "source", "since", "until")},
        **restore,
    }
    rows = session.execute(_search_statement(shape), values).all()
    lexemes = query_lexemes(text)
    return [_hit(row, float(row.score), _snippet(row.title, row.text, lexemes)) for row in rows]


def _tsquery() -> sa.ColumnElement[Any]:
    return sa.func.websearch_to_tsquery(ENGLISH, sa.bindparam("query", type_=sa.Text))


@lru_cache(maxsize=1)
def _first_statement() -> sa.Select[*tuple[Any, ...]]:
    tsquery = _tsquery()
    settings = {**_MATCHES_FROM_GIN, "statement_timeout": None}
    # the subquery (OFFSET 0: not merged into the outer query) reads the settings' values
    # before the outer list sets them; they apply from the next statement on
    previous = (
        sa.select(
            *(sa.func.current_setting(name).label(f"s{n}") for n, name in enumerate(settings))
        )
        .offset(0)
        .subquery("previous")
    )
    timeout = sa.bindparam("timeout", type_=sa.Text)
    return sa.select(
        sa.func.numnode(tsquery),
        sa.cast(tsquery, sa.Text),
        sa.select(sa.func.max(Article.id)).scalar_subquery(),
        *previous.c,
        *(
            sa.func.set_config(name, timeout if value is None else value, True)
            for name, value in settings.items()
        ),
    )


def _restore_all() -> list[sa.ColumnElement[str]]:
    """set_config of each planner setting back to its bound `restore<n>` value."""
    return [
        sa.func.set_config(name, sa.bindparam(f"restore{n}", type_=sa.Text), True)
        for n, name in enumerate(_MATCHES_FROM_GIN)
    ]


@lru_cache(maxsize=1)
def _restore_statement() -> sa.Select[*tuple[Any, ...]]:
    return sa.select(*_restore_all())


@lru_cache(maxsize=256)
def _search_statement(shape: _Shape) -> sa.Select[*tuple[Any, ...]]:
    """The search statement of a shape: the newest matches ranked, the best with their
    columns, and the planner settings put back."""
    tsquery = _tsquery()
    search: sa.ColumnClause[Any] = sa.literal_column("articles.search")
    # ts_rank reads (and decompresses) each ranked match's stored tsvector, about 4-15 µs per
    # match: a query that matches more than rank_window articles ranks the newest rank_window
    # of them, as on SQLite. The GIN index finds the matches without reading their tsvectors
    # (plain words need no recheck); the heap rows it visits hold the filters' columns.
    words = sa.cast(sa.bindparam("words", type_=sa.Text), TSQUERY)
    rank_by = words if shape.rank_words else tsquery

    def matching(ids: _IdRange) -> sa.Subquery:
        """The matches passing the filters, with ids in the range."""
        rows = sa.select(Article.id, search.label("search")).where(*_postgres_filters(shape))
        # the blocks from the index, then the exact id from the row (no tsvector read)
        if ids.lowest is not None:
            rows = rows.where(_id_block >= ids.lowest // ID_BLOCK_SIZE, _id_plus_zero >= ids.lowest)
        if ids.below is not None:
            last = ids.below - 1
            rows = rows.where(_id_block <= last // ID_BLOCK_SIZE, _id_plus_zero <= last)
        if not shape.phrase:
            return rows.where(search.op("@@")(tsquery)).subquery("matching")
        # A phrase: the candidates are the articles holding its adjacent word pairs, from the
        # pair index (storage.phrase_pairs); `@@` then checks each. OFFSET 0 keeps `@@` out of
        # the index scan: ANDed with the word index, whose phrase matches need a recheck, it
        # would recheck the pairs too, computing each candidate's pairs again (~1 ms).
        pairs_of = getattr(sa.func, PAIRS_FUNCTION)(search)
        pairs = sa.cast(sa.bindparam("pairs", type_=sa.Text), TSQUERY)
        candidates = rows.where(pairs_of.op("@@")(pairs)).offset(0).subquery("candidates")
        return (
            sa.select(candidates.c.id, candidates.c.search)
            .where(candidates.c.search.op("@@")(tsquery))
            .subquery("matching")
        )

    recent = _newest_matches(matching, shape.ranges)
    return (
        _ranked_statement(recent, rank_by)
        # a condition of no row, evaluated once as the statement starts (after it was planned)
        .where(sa.select(sa.func.concat(*_restore_all())).scalar_subquery().is_not(None))
    )


def _snippet(
    title: str | None,
    text: str | None,
    lexemes: list[str],
    stem: Callable[[str], str] = english_stem,
) -> str:
    """The snippet of a hit: from its title and text as one document, as the index reads them."""
    document = f"{title or ''}{TITLE_END}{text or ''}"
    return build_snippet(document, lexemes, SNIPPET_WORDS, MATCH_START, MATCH_END, stem)


# Migration 0010 indexes each article's block of ID_BLOCK_SIZE ids with its words, in
# ix_articles_search_id, so one index scan answers "these words among the newest ids" without
# visiting other matches' rows. Blocks rather than ids: a range of ids is a GIN entry per id (a
# range of 30,000 ids took 33 ms), a range of blocks an entry per block. Neither expression is
# one the primary key answers: on `id >= N` the planner would take the range from the primary
# key and test the words row by row, reading each row's tsvector.
ID_BLOCK_SIZE = 1024
_id_block = sa.literal_column(f"articles.id / {ID_BLOCK_SIZE}", sa.Integer)
_id_plus_zero = sa.literal_column("articles.id + 0", sa.Integer)


@dataclass(frozen=True)
class _IdRange:
    """Article ids from `lowest` (when given) up to below `below` (when given)."""

    lowest: sa.ColumnElement[int] | None = None
    below: sa.ColumnElement[int] | None = None


FIRST_RANGE = 4  # the first range: the newest FIRST_RANGE × rank_window ids
WIDER_RANGES = 2  # ranges as wide as the matches found say, before the rest of the archive


def _newest_matches(matching: Callable[[_IdRange], sa.Subquery], ranges: bool) -> sa.Subquery:
    """The newest `rank_window` matches (id and tsvector). Listing every match to keep the
    newest visits each one's row (~1 µs, 0.1 s for a word in most of 100,000 articles), so
    with `ranges` the matches are read range by range, newest ids first, and a range is read
    only while the ranges before it held fewer than rank_window matches: the newest `span` ids
    (FIRST_RANGE × rank_window), then WIDER_RANGES ranges as much wider as the matches found so
    far say the window needs (with a margin), then the rest. A common word is answered from
    the first range, a rare one from all of its few matches; each match's row is visited
    once."""
    rank_window = sa.bindparam("rank_window", type_=sa.Integer)
    newest = sa.bindparam("newest", type_=sa.Integer)
    chosen: list[sa.Subquery | sa.CTE] = []
    if not ranges:
        chosen = [matching(_IdRange())]
    else:
        found: sa.ColumnElement[int] | None = None  # matches in the ranges so far
        spanned: sa.ColumnElement[int] = sa.bindparam("span", type_=sa.Integer)
        below: sa.ColumnElement[int] | None = None
        for step in range(WIDER_RANGES + 2):
            lowest = None if step > WIDER_RANGES else newest + 1 - spanned
            rows = matching(_IdRange(lowest, below))
            picked = sa.select(rows.c.id, rows.c.search)
            if found is not None and below is not None:
                # conditions of no row: evaluated once, and the range is not read when false
                # (enough matches already, or the ranges before reached the first id)
                picked = picked.where(found < rank_window, below > 1)
            cte = picked.cte(f"range{step}").prefix_with("MATERIALIZED")
            chosen.append(cte)
            # the matches so far, counted once (a one-row CTE that every use reads)
            total = sa.func.count() if found is None else sa.func.count() + found
            counted = sa.select(total.label("n")).select_from(cte).cte(f"found{step}")
            found = sa.select(counted.c.n).scalar_subquery()
            # 1.5 times the span the density so far needs; at least twice, at most 16 times
            factor = sa.func.least(
                16.0, sa.func.greatest(2.0, 1.5 * rank_window / sa.func.greatest(found, 1))
            )
            below, spanned = lowest, sa.cast(sa.func.floor(spanned * factor), sa.Integer)
    every = sa.union_all(*(sa.select(rows.c.id, rows.c.search) for rows in chosen)).subquery()
    return (
        sa.select(every.c.id, every.c.search)
        .order_by(every.c.id.desc())
        .limit(rank_window)
        .subquery("recent")
    )


def _ranked_statement(
    recent: sa.Subquery, rank_by: sa.ColumnElement[Any]
) -> sa.Select[*tuple[Any, ...]]:
    score = sa.func.ts_rank(recent.c.search, rank_by)
    best = (
        sa.select(recent.c.id, score.label("score"))
        .order_by(score.desc(), recent.c.id)
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .subquery("best")
    )
    # the snippets are built from the kept hits' title and text (storage.snippets)
    return (
        sa.select(*_ARTICLE_COLUMNS, best.c.score, Article.text)
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
