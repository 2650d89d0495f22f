"""ingestor: the name keys of stored notices (notice_entities), for finding notices by app

One row per (notice, key) for every form of each entity's name and developer
(``services/ingestor/name_index.py``), indexed by key. The notices stored before this revision
are indexed here, with the ingestor's own key function (``name_index.payload_keys``): the
keys must be exactly those it writes when it saves a notice.

Revision ID: 0011
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None

# The tables as of this revision.
NOTICES = sa.table("notices", sa.column("notice_id", sa.String()), sa.column("payload", sa.Text()))
KEYS = sa.table(
    "notice_entities", sa.column("notice_id", sa.String()), sa.column("name_key", sa.String())
)


def upgrade() -> None:
    op.create_table(
        "notice_entities",
        sa.Column("notice_id", sa.String(length=80), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.notice_id"],
            name=op.f("fk_notice_entities_notice_id_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notice_id", "name_key", name=op.f("pk_notice_entities")),
    )
    with op.batch_alter_table("notice_entities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_entities_name_key"), ["name_key"], unique=False)
    backfill()


def backfill() -> None:
    """Index every stored notice, a page of notices at a time."""
    # Imported here: alembic loads every revision on each start, and the key function brings
    # the pinyin and script tables (0.8 s, 65 MB), needed only while this revision runs.
    from services.ingestor.name_index import CHUNK, payload_keys

    bind = op.get_bind()
    last = ""
    while True:
        page = bind.execute(
            sa.select(NOTICES.c.notice_id, NOTICES.c.payload)
            .where(NOTICES.c.notice_id > last)
            .order_by(NOTICES.c.notice_id)
            .limit(200)
        ).all()
        if not page:
            return
        rows: list[dict[str, str]] = []
        for notice_id, payload in page:
            rows.extend(
                {"notice_id": notice_id, "name_key": key} for key in sorted(payload_keys(payload))
            )
        for start in range(0, len(rows), CHUNK):
            bind.execute(sa.insert(KEYS), rows[start : start + CHUNK])
        last = page[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("notice_entities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_entities_name_key"))
    op.drop_table("notice_entities")
