"""notifier: held and digested deliveries, replays, late reminders, preferences, secrets,
tracked deadlines and removed watches

Revision ID: 0004
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_for", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("release_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("digest_id", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("retry_base", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_deliveries_release_at"), ["release_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_digest_id"), ["digest_id"], unique=False)

    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))

    op.create_table(
        "notifier_preferences",
        sa.Column("subscriber_id", sa.String(length=40), nullable=False),
        sa.Column("digest", sa.String(length=20), nullable=False),
        sa.Column("digest_hour", sa.Integer(), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("remind_due_day", sa.Boolean(), nullable=False),
        sa.Column("remind_overdue", sa.Boolean(), nullable=False),
        sa.Column("email_unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribe_token", sa.String(length=64), nullable=False),
        sa.Column("calendar_token", sa.String(length=64), nullable=False),
        sa.Column("webhook_disabled_url", sa.Text(), nullable=True),
        sa.Column("webhook_disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("webhook_disabled_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subscriber_id", name=op.f("pk_notifier_preferences")),
        sa.UniqueConstraint("calendar_token", name=op.f("uq_notifier_preferences_calendar_token")),
        sa.UniqueConstraint(
            "unsubscribe_token", name=op.f("uq_notifier_preferences_unsubscribe_token")
        ),
    )

    op.create_table(
        "notifier_webhook_secrets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscriber_id", sa.String(length=40), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifier_webhook_secrets")),
    )
    with op.batch_alter_table("notifier_webhook_secrets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifier_webhook_secrets_subscriber_id"), ["subscriber_id"], unique=False
        )

    op.create_table(
        "notifier_deadlines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscriber_id", sa.String(length=40), nullable=False),
        sa.Column("notice_id", sa.String(length=80), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifier_deadlines")),
        sa.UniqueConstraint(
            "subscriber_id", "notice_id", name=op.f("uq_notifier_deadlines_subscriber_id")
        ),
    )
    with op.batch_alter_table("notifier_deadlines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifier_deadlines_subscriber_id"), ["subscriber_id"], unique=False
        )

    op.create_table(
        "notifier_watch_tombstones",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscriber_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name_key", sa.String(length=300), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifier_watch_tombstones")),
        sa.UniqueConstraint(
            "subscriber_id",
            "kind",
            "name_key",
            name=op.f("uq_notifier_watch_tombstones_subscriber_id"),
        ),
    )
    with op.batch_alter_table("notifier_watch_tombstones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifier_watch_tombstones_subscriber_id"),
            ["subscriber_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("notifier_watch_tombstones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifier_watch_tombstones_subscriber_id"))
    op.drop_table("notifier_watch_tombstones")
    with op.batch_alter_table("notifier_deadlines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifier_deadlines_subscriber_id"))
    op.drop_table("notifier_deadlines")
    with op.batch_alter_table("notifier_webhook_secrets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifier_webhook_secrets_subscriber_id"))
    op.drop_table("notifier_webhook_secrets")
    op.drop_table("notifier_preferences")
    with op.batch_alter_table("reminders", schema=None) as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("late")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_digest_id"))
        batch_op.drop_index(batch_op.f("ix_deliveries_release_at"))
        batch_op.drop_column("replayed_at")
        batch_op.drop_column("retry_base")
        batch_op.drop_column("digest_id")
        batch_op.drop_column("release_at")
        batch_op.drop_column("held_for")
