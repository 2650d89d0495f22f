"""notifier: a reminder reads its notice and matches from its tracked deadline

Every reminder of a (subscriber, notice) carried its own copy of the notice summary and the
matches, the same JSON its tracked deadline (``notifier_deadlines``) holds: five copies per
alert, about 1.5 KB each, 1.2 GB of the 3 GB SQLite file after a 100k-subscriber fan-out.
``reminders.payload`` may now be null: the reminder's summary is then its deadline's, which
every change keeps up to date (a later match merges in, a removed watch drops out). Rows made
from now on store null; the upgrade clears the copies that equal their deadline's, and
leaves any other (a fired reminder keeps what it said) as it is.

The downgrade copies each deadline's summary back into its reminders and makes the column
required again.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_DEADLINE_PAYLOAD = (
    "SELECT d.payload FROM notifier_deadlines AS d"
    " WHERE d.subscriber_id = reminders.subscriber_id AND d.notice_id = reminders.notice_id"
)


def upgrade() -> None:
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.alter_column("payload", existing_type=sa.Text(), nullable=True)
    op.execute(f"UPDATE reminders SET payload = NULL WHERE payload = ({_DEADLINE_PAYLOAD})")


def downgrade() -> None:
    op.execute(
        f"UPDATE reminders SET payload = COALESCE(({_DEADLINE_PAYLOAD}), '{{}}')"
        " WHERE payload IS NULL"
    )
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.alter_column("payload", existing_type=sa.Text(), nullable=False)
