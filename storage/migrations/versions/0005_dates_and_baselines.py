"""article_versions.dated_at/dated_by: the time a version speaks for (its publication, or for a
revision the page's own modified time) and where that time came from; sources.baseline_at: when
a source's first crawl was stored as a quiet baseline (alerts are raised only after it).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both backends: a batch table copy would break the views of 0002.
def upgrade() -> None:
    op.add_column("article_versions", sa.Column("dated_at", sa.DateTime(timezone=True)))
    op.add_column("article_versions", sa.Column("dated_by", sa.String(length=16)))
    op.add_column("sources", sa.Column("baseline_at", sa.DateTime(timezone=True)))
    # versions stored before: first versions by their publication, revisions by their page's
    # modified time, else by when they were fetched
    op.execute(
        """
        UPDATE article_versions SET
          dated_at = CASE
            WHEN number = 1 THEN COALESCE(published_at, modified_at, fetched_at)
            ELSE COALESCE(modified_at, fetched_at) END,
          dated_by = CASE
            WHEN number = 1 AND published_at IS NOT NULL THEN 'published'
            WHEN modified_at IS NOT NULL THEN 'modified'
            ELSE 'fetched' END
        """
    )
    # sources crawled before had their first crawl already: no baseline is due for them
    op.execute("UPDATE sources SET baseline_at = last_run_at WHERE last_run_at IS NOT NULL")


def downgrade() -> None:
    op.execute("ALTER TABLE sources DROP COLUMN baseline_at")
    op.execute("ALTER TABLE article_versions DROP COLUMN dated_by")
    op.execute("ALTER TABLE article_versions DROP COLUMN dated_at")
