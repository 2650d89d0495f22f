"""notifier: the account's email address and webhook URL become rows of ``notifier_targets``

Until now the notifier sent email to ``subscribers.email`` and webhooks to
``subscribers.webhook_url`` (deliveries keyed with ``target_id = ''``), and only chat targets
were rows. From here every target is a row: each account's email address and webhook URL get
one, marked ``account`` (kept equal to the account by ``shared/channel_targets.py``), and the
deliveries already recorded for those addresses take the new row's id, so an alert recorded
before the upgrade is not recorded (and sent) again after it. Deliveries to an address the
account no longer has keep ``''``: nothing will be recorded under it again.

Revision ID: 0016
Revises: 0015
"""

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ACCOUNT_CHANNELS = {"email": "email", "webhook": "webhook_url"}

targets = sa.table(
    "notifier_targets",
    sa.column("id", sa.String),
    sa.column("subscriber_id", sa.String),
    sa.column("channel", sa.String),
    sa.column("address", sa.Text),
    sa.column("account", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
subscribers = sa.table(
    "subscribers",
    sa.column("id", sa.String),
    sa.column("email", sa.String),
    sa.column("webhook_url", sa.Text),
)
deliveries = sa.table(
    "deliveries",
    sa.column("subscriber_id", sa.String),
    sa.column("channel", sa.String),
    sa.column("target", sa.Text),
    sa.column("target_id", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("notifier_targets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("account", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    bind = op.get_bind()
    now = datetime.now(UTC)
    accounts = bind.execute(
        sa.select(subscribers.c.id, subscribers.c.email, subscribers.c.webhook_url)
    ).all()
    for subscriber_id, *addresses in accounts:
        for channel, address in zip(ACCOUNT_CHANNELS, addresses, strict=True):
            if not address:
                continue
            target_id = "tgt_" + secrets.token_hex(10)
            bind.execute(
                targets.insert().values(
                    id=target_id,
                    subscriber_id=subscriber_id,
                    channel=channel,
                    address=address,
                    account=True,
                    created_at=now,
                )
            )
            bind.execute(
                deliveries.update()
                .where(
                    deliveries.c.subscriber_id == subscriber_id,
                    deliveries.c.channel == channel,
                    deliveries.c.target == address,
                    deliveries.c.target_id == "",
                )
                .values(target_id=target_id)
            )


def downgrade() -> None:
    """The account rows' deliveries go back to ``''``; the email and webhook targets added
    besides the account's own, and their deliveries, are dropped (the old schema has no
    place for them)."""
    bind = op.get_bind()
    kept = sa.select(targets.c.id).where(
        targets.c.channel.in_(list(ACCOUNT_CHANNELS)), targets.c.account.is_(True)
    )
    extra = sa.select(targets.c.id).where(
        targets.c.channel.in_(list(ACCOUNT_CHANNELS)), targets.c.account.is_(False)
    )
    bind.execute(deliveries.delete().where(deliveries.c.target_id.in_(extra)))
    bind.execute(deliveries.update().where(deliveries.c.target_id.in_(kept)).values(target_id=""))
    bind.execute(targets.delete().where(targets.c.channel.in_(list(ACCOUNT_CHANNELS))))
    with op.batch_alter_table("notifier_targets", schema=None) as batch_op:
        batch_op.drop_column("account")
