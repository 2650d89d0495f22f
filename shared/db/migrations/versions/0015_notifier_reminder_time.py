"""notifier: a subscriber's reminder time of day (``notifier_preferences.reminder_time``)

Day reminders (``7d``, ``due``, ``overdue``) fire at a local time of the subscriber's time zone:
``reminder_time`` (``HH:MM``) when set, else ``REGWATCH_REMINDER_TIME``. Existing rows get null
(the server's time). ``planned_clock`` (``"<zone> HH:MM"``) is what the subscriber's scheduled
reminders were planned with; null on existing rows, so the reminder sweep re-plans the
reminders planned before reminder times existed.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifier_preferences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_time", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("planned_clock", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifier_preferences", schema=None) as batch_op:
        batch_op.drop_column("planned_clock")
        batch_op.drop_column("reminder_time")
