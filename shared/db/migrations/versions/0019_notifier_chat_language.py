"""notifier: a subscriber's language for chat messages (``notifier_preferences.chat_language``)

``zh`` or ``en`` for every chat target that does not name its own; null keeps each platform's
default (Chinese for DingTalk, WeCom and Feishu, English for Slack and Teams), as before.

Revision ID: 0019
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifier_preferences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_language", sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifier_preferences", schema=None) as batch_op:
        batch_op.drop_column("chat_language")
