"""matcher: outbox confirmation, and the last version of each notice fully matched

Revision ID: 0008
Revises: 0003
"""

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0003"
branch_labels = None
depends_on = None

_confirmation = importlib.import_module(
    "shared.db.migrations.versions.0007_ingestor_outbox_confirmation"
)


def upgrade() -> None:
    _confirmation.add_confirmation("matcher_outbox")
    with op.batch_alter_table("matcher_notices") as batch:
        batch.add_column(sa.Column("matched_payload", sa.Text(), nullable=True))
    # notices consumed before this migration were matched then
    op.execute("UPDATE matcher_notices SET matched_payload = payload")


def downgrade() -> None:
    with op.batch_alter_table("matcher_notices") as batch:
        batch.drop_column("matched_payload")
    _confirmation.drop_confirmation("matcher_outbox")
