"""figures.per, figures.change, figures.role, figures.assigned_by: what a figure is a rate of
("a day"), whether it is stated as a movement (rose/fell), whether it is the previous or the
current value of a "from X to Y", and why it was assigned to its tracked quantity.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_COLUMNS = ("per", "change", "role", "assigned_by")


# Plain ALTER TABLE on both backends (SQLite >= 3.35 drops columns): a batch table copy would
# break figures_view, which names the table.
def upgrade() -> None:
    op.add_column("figures", sa.Column("per", sa.String(length=32), nullable=True))
    op.add_column("figures", sa.Column("change", sa.String(length=8), nullable=True))
    op.add_column("figures", sa.Column("role", sa.String(length=8), nullable=True))
    op.add_column("figures", sa.Column("assigned_by", sa.Text(), nullable=True))


def downgrade() -> None:
    for column in reversed(_COLUMNS):
        op.execute(f"ALTER TABLE figures DROP COLUMN {column}")
