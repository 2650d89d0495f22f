"""notifier: an index on deliveries (status, next_attempt_at) for the dispatcher's claim

The claim ranks every due pending row per endpoint (a window function), so it reads all of
them; this index finds them without walking the delivered history (SQLite otherwise scans the
``next_attempt_at`` index over every row ever sent).

Revision ID: 0009
Revises: 0004
"""

from alembic import op

revision = "0009"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deliveries_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status_next_attempt_at")
