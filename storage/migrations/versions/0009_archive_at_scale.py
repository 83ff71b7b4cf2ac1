"""Archive costs at scale, PostgreSQL only (SQLite: nothing changes).

Search: a phrase index, GIN over the adjacent word pairs of each article's tsvector
(storage.phrase_pairs), so a phrase is found from the index instead of by reading every article
that holds its words (FTS5 keeps positions already).

Near-duplicates: simhash_blocks' primary key carries the hash and first-seen time (INCLUDE), so
a lookup reads only the index (an index-only scan) instead of one heap page per row it finds
(~180 at 1M originals). SQLite's table is its own index already (WITHOUT ROWID).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# storage.phrase_pairs.PAIRS_FUNCTION as of this revision. Every two lexemes at adjacent
# positions become one lexeme 'a b'; array_to_tsvector drops repeats. IMMUTABLE as an index
# expression must be: it reads only its argument. A tsvector holds at most 1 MB of lexemes and a
# lexeme 2,047 bytes: longer pairs are left out (phrase_pairs never asks for them), and an
# article whose pairs would pass 1 MB gets ALL_PAIRS instead, which every pair query accepts.
PAIRS_FUNCTION = """
CREATE FUNCTION newsmon_phrase_pairs(doc tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN sum(octet_length(pair)) > 1000000 THEN '*'::tsvector
        ELSE coalesce(array_to_tsvector(array_agg(pair)), '') END
    FROM (
        SELECT this.lexeme || ' ' || next.lexeme AS pair
        FROM (SELECT lexeme, unnest(positions) AS position FROM unnest(doc)) AS this
        JOIN (SELECT lexeme, unnest(positions) AS position FROM unnest(doc)) AS next
            ON next.position = this.position + 1
        WHERE octet_length(this.lexeme) + octet_length(next.lexeme) < 2047
    ) AS pairs
$$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(PAIRS_FUNCTION)
    op.execute(
        "CREATE INDEX ix_articles_search_pairs ON articles USING gin (newsmon_phrase_pairs(search))"
    )
    op.execute(
        "ALTER TABLE simhash_blocks DROP CONSTRAINT pk_simhash_blocks, "
        "ADD CONSTRAINT pk_simhash_blocks PRIMARY KEY (block_key, article_id) "
        "INCLUDE (simhash, first_seen_at)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE simhash_blocks DROP CONSTRAINT pk_simhash_blocks, "
        "ADD CONSTRAINT pk_simhash_blocks PRIMARY KEY (block_key, article_id)"
    )
    op.execute("DROP INDEX IF EXISTS ix_articles_search_pairs")
    op.execute("DROP FUNCTION IF EXISTS newsmon_phrase_pairs(tsvector)")
