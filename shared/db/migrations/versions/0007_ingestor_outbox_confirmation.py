"""ingestor: outbox rows remember where the embedded broker put them until confirmed

Revision ID: 0007
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0002"
branch_labels = None
depends_on = None

UNCONFIRMED = "published_at IS NOT NULL AND confirmed_at IS NULL"


def add_confirmation(table: str) -> None:
    """The broker's partition and offset, and ``confirmed_at`` (rows published before this
    migration count as confirmed: they were published to the broker of their day)."""
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column("broker_partition", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("broker_offset", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(f"UPDATE {table} SET confirmed_at = published_at WHERE published_at IS NOT NULL")
    op.create_index(
        f"ix_{table}_unconfirmed",
        table,
        ["topic", "broker_partition", "broker_offset"],
        sqlite_where=sa.text(UNCONFIRMED),
        postgresql_where=sa.text(UNCONFIRMED),
    )


def drop_confirmation(table: str) -> None:
    op.drop_index(f"ix_{table}_unconfirmed", table_name=table)
    with op.batch_alter_table(table) as batch:
        batch.drop_column("confirmed_at")
        batch.drop_column("broker_offset")
        batch.drop_column("broker_partition")


def upgrade() -> None:
    add_confirmation("outbox")


def downgrade() -> None:
    drop_confirmation("outbox")
