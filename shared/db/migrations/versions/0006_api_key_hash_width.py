"""API key hashes as ``hmac-sha256:<hex>`` (76 characters): widen ``subscribers.api_key_hash``

Existing bare sha256 hashes stay as they are and are upgraded to the HMAC form when their key
is next used (a hash cannot be converted without the key). Downgrade is refused while HMAC
hashes are stored: the older code could not match them, so those subscribers would be locked
out; give them new keys first or restore a backup.

Revision ID: 0006
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.alter_column(
            "api_key_hash",
            existing_type=sa.String(length=64),
            type_=sa.String(length=100),
            existing_nullable=False,
        )


def downgrade() -> None:
    subscribers = sa.table("subscribers", sa.column("api_key_hash", sa.String()))
    peppered = (
        op.get_bind()
        .execute(
            sa.select(sa.func.count())
            .select_from(subscribers)
            .where(subscribers.c.api_key_hash.like("hmac-sha256:%"))
        )
        .scalar_one()
    )
    if peppered:
        raise RuntimeError(
            f"{peppered} API key(s) are stored as HMAC hashes, which the older schema cannot"
            " match: downgrading would lock those subscribers out"
        )
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.alter_column(
            "api_key_hash",
            existing_type=sa.String(length=100),
            type_=sa.String(length=64),
            existing_nullable=False,
        )
