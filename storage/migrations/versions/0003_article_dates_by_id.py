"""index ix_articles_id_dates (id, published_at, first_seen_at): the date of an article looked up
by its id without reading the row's long text, so search checks a date filter per full-text
match when the filter keeps too many articles to list them cheaply.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_articles_id_dates", ["id", "published_at", "first_seen_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index("ix_articles_id_dates")
