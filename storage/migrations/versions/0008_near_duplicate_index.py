"""Costs that do not grow with the archive: the near-duplicate index (simhash_blocks, filled
here for every stored original) and crawl_runs indexes for a source's latest and last complete
run.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# storage.near_duplicates.BLOCKS and KEY_BITS as of this revision: (shift, bits) per block
BLOCKS = ((42, 22), (21, 21), (0, 21))
KEY_BITS = 22


def upgrade() -> None:
    # plain CREATE TABLE / CREATE INDEX: no batch copy of a table the archive views name
    op.create_table(
        "simhash_blocks",
        sa.Column("block_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("simhash", sa.BigInteger(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_simhash_blocks_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("block_key", "article_id", name=op.f("pk_simhash_blocks")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_simhash_blocks_article_id"), "simhash_blocks", ["article_id"], unique=False
    )
    # every original (an article with a hash that is no copy), in SQL: `>>` is arithmetic on
    # both backends and the mask keeps the block's bits, as Python's unsigned shift does
    for number, (shift, bits) in enumerate(BLOCKS):
        op.execute(
            "INSERT INTO simhash_blocks (block_key, article_id, simhash, first_seen_at) "
            f"SELECT {number << KEY_BITS} + ((simhash >> {shift}) & {(1 << bits) - 1}), "
            "id, simhash, first_seen_at FROM articles "
            "WHERE simhash IS NOT NULL AND duplicate_of_id IS NULL"
        )
    op.drop_index("ix_crawl_runs_source_id", table_name="crawl_runs")
    op.create_index("ix_crawl_runs_source_latest", "crawl_runs", ["source_id", "id"], unique=False)
    op.create_index(
        "ix_crawl_runs_source_status",
        "crawl_runs",
        ["source_id", "status", "started_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_crawl_runs_source_status", table_name="crawl_runs")
    op.drop_index("ix_crawl_runs_source_latest", table_name="crawl_runs")
    op.create_index("ix_crawl_runs_source_id", "crawl_runs", ["source_id"], unique=False)
    op.drop_index(op.f("ix_simhash_blocks_article_id"), table_name="simhash_blocks")
    op.drop_table("simhash_blocks")
