"""Full-text search over article titles and texts, ranked, with a highlighted snippet per hit.

One query syntax on both backends, the web-search style of PostgreSQL's `websearch_to_tsquery`:
plain words must all occur, `"an exact phrase"`, `word OR word` (OR binds looser than the implied
AND), `-word` / `-"a phrase"` excludes. SQLite (FTS5, bm25 ranking) gets the query translated
into MATCH syntax with every term quoted, so FTS5 operators or column filters typed by a user
(`title:`, `NEAR`, `*`, `^`) are read as words, never as SQL or FTS5 syntax errors. PostgreSQL
ranks with `ts_rank` over the generated `articles.search` column (title weight A, text B).

Snippets mark each match with MATCH_START / MATCH_END (control characters that cannot occur in
stored text); `SearchHit.highlighted(open, close)` swaps them for whatever the output wants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from storage.models import Article, ArticleTopic, Source

MATCH_START = "\x02"
MATCH_END = "\x03"
SNIPPET_WORDS = 24
RANK_WINDOW = 10_000  # SQLite ranks at most this many (the newest) matches of a query
TITLE_WEIGHT = 10.0  # SQLite bm25 column weight of the title against the text's 1.0


class QueryError(ValueError):
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
    nothing that can be searched."""
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
) -> list[SearchHit]:
    """The best `limit` articles for a web-search style query, best first. On SQLite, a query
    matching more than `rank_window` articles ranks the newest `rank_window` of them."""
    groups = parse_query(query)
    filters = filters or SearchFilters()
    if session.get_bind().dialect.name == "sqlite":
        return _search_sqlite(session, fts5_match(groups), filters, limit, rank_window)
    return _search_postgres(session, query, filters, limit)


def _filter_clauses(filters: SearchFilters) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = []
    date = sa.func.coalesce(Article.published_at, Article.first_seen_at)
    if filters.topic is not None:
        clauses.append(
            sa.exists().where(
                ArticleTopic.article_id == Article.id, ArticleTopic.topic == filters.topic
            )
        )
    if filters.source is not None:
        clauses.append(Source.name == filters.source)
    if filters.since is not None:
        clauses.append(date >= filters.since)
    if filters.until is not None:
        clauses.append(date < filters.until)
    return clauses


_ARTICLE_COLUMNS = (
    Article.id,
    Article.url,
    Article.title,
    Source.name.label("source"),
    Article.published_at,
    Article.first_seen_at,
)

ENGLISH = sa.literal_column("'english'::regconfig")  # the configuration of articles.search
_fts = sa.table("articles_fts", sa.column("rowid", sa.Integer))


def _search_sqlite(
    session: Session, match: str, filters: SearchFilters, limit: int, rank_window: int
) -> list[SearchHit]:
    # Rank inside the FTS table alone: joining articles for every match would read each row's
    # long text (the date columns come after it). Filters become rowid sets answered from
    # indexes; article columns and snippets are read for the kept hits only.
    fts = sa.literal_column("articles_fts")
    score = sa.func.bm25(fts, TITLE_WEIGHT, 1.0)
    # "+rowid": an expression, so SQLite tests membership per match instead of handing the
    # IN-list to FTS5 (which would run the MATCH once per listed rowid)
    plain_rowid = sa.literal_column("+articles_fts.rowid", sa.Integer)
    where = [fts.op("MATCH")(match), *_rowid_filters(plain_rowid, filters)]
    # bm25 costs about a microsecond per matching article: a query that matches more than
    # rank_window articles ranks the newest rank_window of them (rowid = article id, in the
    # order newsmon stored them). Walking the matches in rowid order to find the floor is cheap.
    floor = session.scalar(
        sa.select(_fts.c.rowid)
        .select_from(_fts)
        .where(*where)
        .order_by(_fts.c.rowid.desc())
        .limit(1)
        .offset(rank_window - 1)
    )
    if floor is not None:
        where.append(_fts.c.rowid >= floor)
    ranked = session.execute(
        sa.select(_fts.c.rowid, score.label("score"))
        .select_from(_fts)
        .where(*where)
        .order_by(score, _fts.c.rowid)
        .limit(limit)
    ).all()
    if not ranked:
        return []
    ids = [row.rowid for row in ranked]
    snippet = sa.func.snippet(fts, -1, MATCH_START, MATCH_END, "…", SNIPPET_WORDS)
    snippets: dict[int, str] = {
        rowid: text
        for rowid, text in session.execute(
            sa.select(_fts.c.rowid, snippet)
            .select_from(_fts)
            .where(fts.op("MATCH")(match), _fts.c.rowid.in_(ids))
        )
    }
    articles = {
        row.id: row
        for row in session.execute(
            sa.select(*_ARTICLE_COLUMNS)
            .outerjoin(Source, Source.id == Article.source_id)
            .where(Article.id.in_(ids))
        )
    }
    # bm25 is lower-is-better; negate so that both backends report higher-is-better
    return [
        _hit(articles[row.rowid], -row.score, snippets.get(row.rowid, ""))
        for row in ranked
        if row.rowid in articles
    ]


def _rowid_filters(
    rowid: sa.ColumnElement[int], filters: SearchFilters
) -> list[sa.ColumnElement[bool]]:
    """The filters as `rowid IN (…)` over indexed columns (ix_articles_dates, source_id)."""
    clauses: list[sa.ColumnElement[bool]] = []
    if filters.topic is not None:
        clauses.append(
            rowid.in_(sa.select(ArticleTopic.article_id).where(ArticleTopic.topic == filters.topic))
        )
    if filters.source is not None:
        source_ids = sa.select(Source.id).where(Source.name == filters.source)
        clauses.append(rowid.in_(sa.select(Article.id).where(Article.source_id.in_(source_ids))))
    # coalesce(published_at, first_seen_at) compared in a form the two-column index answers
    if filters.since is not None:
        clauses.append(
            rowid.in_(
                sa.select(Article.id).where(
                    sa.or_(
                        Article.published_at >= filters.since,
                        sa.and_(
                            Article.published_at.is_(None),
                            Article.first_seen_at >= filters.since,
                        ),
                    )
                )
            )
        )
    if filters.until is not None:
        clauses.append(
            rowid.in_(
                sa.select(Article.id).where(
                    sa.or_(
                        Article.published_at < filters.until,
                        sa.and_(
                            Article.published_at.is_(None),
                            Article.first_seen_at < filters.until,
                        ),
                    )
                )
            )
        )
    return clauses


def _search_postgres(
    session: Session, query: str, filters: SearchFilters, limit: int
) -> list[SearchHit]:
    tsquery = sa.func.websearch_to_tsquery(ENGLISH, sa.literal(query, sa.Text))
    if session.scalar(sa.select(sa.func.numnode(tsquery))) == 0:
        raise QueryError(
            f"search query {query!r} holds only very common words (the, a, of…), "
            "which are not indexed; add a more specific word"
        )
    search = sa.literal_column("articles.search")
    score = sa.func.ts_rank(search, tsquery)
    ranked = (
        sa.select(*_ARTICLE_COLUMNS, score.label("score"))
        .select_from(Article)
        .outerjoin(Source, Source.id == Article.source_id)
        .where(search.op("@@")(tsquery), *_filter_clauses(filters))
        .order_by(score.desc(), Article.id)
        .limit(limit)
        .subquery()
    )
    # ts_headline re-parses the document, so it runs on the kept hits only
    document = sa.func.coalesce(Article.title, "") + "\n" + sa.func.coalesce(Article.text, "")
    options = (
        f"StartSel={MATCH_START}, StopSel={MATCH_END}, MaxWords={SNIPPET_WORDS}, "
        f'MinWords={SNIPPET_WORDS // 2}, MaxFragments=2, FragmentDelimiter=" … "'
    )
    headline = sa.func.ts_headline(ENGLISH, document, tsquery, sa.literal(options, sa.Text))
    rows = session.execute(
        sa.select(ranked, headline.label("snippet"))
        .join(Article, Article.id == ranked.c.id)
        .order_by(ranked.c.score.desc(), ranked.c.id)
    ).all()
    return [_hit(row, float(row.score), row.snippet) for row in rows]


def _hit(row: sa.Row, score: float, snippet: str) -> SearchHit:
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
