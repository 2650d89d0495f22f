"""notifier: chat channel targets (``notifier_targets``) and deliveries keyed by target

A subscriber may have several targets on one chat channel (two DingTalk groups): each is a row
of ``notifier_targets`` (its signing secret encrypted), and a delivery's key gains the target
(``deliveries.target_id``: ``''`` for the account's own email address and webhook URL, so every
existing row keeps its key and its id).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KEY = ["subscriber_id", "notice_id", "type", "reason", "channel"]


def upgrade() -> None:
    op.create_table(
        "notifier_targets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("subscriber_id", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("keyword", sa.String(length=40), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.Column("label", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_notifier_targets_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifier_targets")),
        sa.UniqueConstraint(
            "subscriber_id",
            "channel",
            "address",
            name=op.f("uq_notifier_targets_subscriber_id"),
        ),
    )
    with op.batch_alter_table("notifier_targets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifier_targets_subscriber_id"), ["subscriber_id"], unique=False
        )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("target_id", sa.String(length=40), nullable=False, server_default="")
        )
        batch_op.drop_constraint("uq_deliveries_subscriber_id", type_="unique")
        batch_op.create_unique_constraint("uq_deliveries_subscriber_id", [*KEY, "target_id"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deliveries_subscriber_id", type_="unique")
        batch_op.create_unique_constraint("uq_deliveries_subscriber_id", KEY)
        batch_op.drop_column("target_id")
    op.drop_table("notifier_targets")
