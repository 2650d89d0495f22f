"""notifier: the claim's index on deliveries is (status, next_attempt_at, created_at, id)

The dispatcher's claim ranks only the oldest due rows (``ORDER BY next_attempt_at, created_at,
id LIMIT K``) instead of every due row. On ``(status, next_attempt_at)`` alone that order needs
a sort of every row sharing the boundary's ``next_attempt_at``, and a fan-out inserts thousands
with one timestamp; with ``created_at`` and ``id`` in the index it is a range scan read in
order. The new index serves everything the one of 0009 did (its columns are a prefix), so that
one is dropped: one index less to write per delivery.

Revision ID: 0021
Revises: 0019
"""

from alembic import op

revision = "0021"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deliveries_claim",
            ["status", "next_attempt_at", "created_at", "id"],
            unique=False,
        )
        batch_op.drop_index("ix_deliveries_status_next_attempt_at")


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deliveries_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )
        batch_op.drop_index("ix_deliveries_claim")
