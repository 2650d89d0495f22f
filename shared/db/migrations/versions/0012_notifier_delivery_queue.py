"""notifier: the queue each delivery waits in (``deliveries.queue``), named by its channel

The dispatcher's per-queue limits were computed from the channel in SQL (email: one queue for
the SMTP server, a webhook: its URL). Each channel now names its queues itself
(``Channel.queue(target)``), stored with the row; existing rows get the names they had.

Revision ID: 0012
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue", sa.Text(), nullable=True))
    op.execute(
        "UPDATE deliveries SET queue = CASE WHEN channel = 'email' THEN 'smtp:' ELSE target END"
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("queue", existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("queue")
