"""secrets at rest: webhook signing secrets stored encrypted (``fernet:<token>``)

Widens both columns that hold a webhook signing secret (a Fernet token of a ``whsec_`` secret
is about 150 characters) and encrypts the rows stored in plaintext before. The keys are found
the way the application finds them (``shared/secretbox.py``): ``REGWATCH_SECRET_KEYS``, else
``secret.key`` beside a SQLite database (generated when missing); none is needed when there is
no row to encrypt. Downgrade decrypts them again (it needs the same keys).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from shared.secretbox import ENCRYPTED_PREFIX, SecretBox, for_url

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# (table, primary key, secret column) as of this revision.
COLUMNS = (
    ("subscribers", "id", "webhook_secret", True),
    ("notifier_webhook_secrets", "id", "secret", False),
)


def upgrade() -> None:
    _secure_delete()
    for name, _id, secret, nullable in COLUMNS:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column(
                secret,
                existing_type=sa.String(length=100),
                type_=sa.Text(),
                existing_nullable=nullable,
            )
    _rewrite(
        lambda stored: not stored.startswith(ENCRYPTED_PREFIX),
        lambda box, stored: box.encrypt(stored),
    )


def downgrade() -> None:
    _secure_delete()
    _rewrite(
        lambda stored: stored.startswith(ENCRYPTED_PREFIX),
        lambda box, stored: box.decrypt(stored),
    )
    for name, _id, secret, nullable in COLUMNS:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.alter_column(
                secret,
                existing_type=sa.Text(),
                type_=sa.String(length=100),
                existing_nullable=nullable,
            )


def _secure_delete() -> None:
    """On SQLite, replaced values are overwritten on disk rather than left in free space."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("PRAGMA secure_delete = ON")


def _rewrite(needs: Callable[[str], bool], change: Callable[[SecretBox, str], str]) -> None:
    bind = op.get_bind()
    box: SecretBox | None = None
    for name, id_name, secret, _nullable in COLUMNS:
        rows = sa.table(name, sa.column(id_name), sa.column(secret, sa.Text()))
        found = bind.execute(
            sa.select(rows.c[id_name], rows.c[secret]).where(rows.c[secret].is_not(None))
        ).all()
        for row_id, stored in found:
            if not stored or not needs(stored):
                continue
            if box is None:  # only when there is something to do
                box = for_url(bind.engine.url).box
            bind.execute(
                sa.update(rows)
                .where(rows.c[id_name] == row_id)
                .values({secret: change(box, stored)})
            )
