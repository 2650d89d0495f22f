"""ingestor: the batch label's key on stored notices (notices.batch_key), for the copy check

A notice with a batch label ("2024年第3批") is only ever a copy of a stored notice with the same
label or with none, so the copy check reads just those of its regulator and weeks
(``ix_notices_reprint``: regulator, batch key, date) instead of every notice of those weeks.
The notices stored before this revision get their key here, with the ingestor's own function
(``merging.batch_key``): the keys must be exactly those it writes when it saves a notice.

Revision ID: 0018
Revises: 0017
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# The table as of this revision.
NOTICES = sa.table(
    "notices",
    sa.column("notice_id", sa.String()),
    sa.column("payload", sa.Text()),
    sa.column("batch_key", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_key", sa.String(length=200), nullable=True))
        batch_op.create_index(
            "ix_notices_reprint", ["regulator_code", "batch_key", "published_on"], unique=False
        )
    backfill()


def backfill() -> None:
    """Key every stored notice that has a batch label, a page of notices at a time."""
    # Imported here: alembic loads every revision on each start, and the key function brings
    # the pinyin and script tables, needed only while this revision runs.
    from services.ingestor.merging import name_key

    bind = op.get_bind()
    last = ""
    while True:
        page = bind.execute(
            sa.select(NOTICES.c.notice_id, NOTICES.c.payload)
            .where(NOTICES.c.notice_id > last)
            .order_by(NOTICES.c.notice_id)
            .limit(500)
        ).all()
        if not page:
            return
        for notice_id, payload in page:
            batch = json.loads(payload).get("batch")
            if batch:
                bind.execute(
                    sa.update(NOTICES)
                    .where(NOTICES.c.notice_id == notice_id)
                    .values(batch_key=name_key(batch))
                )
        last = page[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_reprint")
        batch_op.drop_column("batch_key")
