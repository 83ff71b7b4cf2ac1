"""Search: the word index also answers a range of ids, PostgreSQL only (SQLite: nothing changes).

storage.search ranks the newest matches of a query; to find them without visiting every
match's row it asks for the matches among the newest ids. ix_articles_search_id replaces
ix_articles_search: GIN over the tsvector and the article's block of 1,024 ids
(storage.search.ID_BLOCK_SIZE; btree_gin's integer operators), so one index scan answers the
words and the range together. Blocks, not ids: a range is one GIN entry per value, and a range
of 30,000 ids took 33 ms. Not `id` itself either: the primary key answers `id >= N` too, and the
planner, costing `search @@ query` as one cheap operator although it reads each row's tsvector,
would take the range from the primary key and test the words row by row.

btree_gin ships with PostgreSQL (contrib) and is a trusted extension: the database owner
creates it, no superuser needed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute("CREATE INDEX ix_articles_search_id ON articles USING gin (search, (id / 1024))")
    op.execute("DROP INDEX ix_articles_search")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_articles_search ON articles USING gin (search)")
    op.execute("DROP INDEX ix_articles_search_id")
