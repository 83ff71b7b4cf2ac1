"""deliveries.uncertain_sends: how many sends of a delivery ended without knowing whether the
channel took it (a timeout after the message went out). Channels that do not drop repeats by
themselves (Slack, email) are retried at most once after such an outcome.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both backends (no batch copy of a table that views name).
def upgrade() -> None:
    op.add_column(
        "deliveries",
        sa.Column("uncertain_sends", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_column("deliveries", "uncertain_sends")
