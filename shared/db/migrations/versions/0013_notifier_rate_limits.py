"""notifier: per-queue send rates shared by every instance (``rate_limits``)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.Column("sends", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", "rate", name=op.f("pk_rate_limits")),
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
