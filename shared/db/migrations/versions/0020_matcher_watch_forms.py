"""matcher: the prepared form of each distinct watch (``matcher_watch_forms``)

The keys the matcher's index files a watch under, stored by its kind, name and aliases (a hash
of them is the key) with the version of the preparing code, so that a start reads them
instead of preparing every distinct watch again. A cache: empty after this revision, filled by
the next start of the matcher; the downgrade drops it.

Revision ID: 0020
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "matcher_watch_forms",
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("form", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_matcher_watch_forms")),
    )


def downgrade() -> None:
    op.drop_table("matcher_watch_forms")
