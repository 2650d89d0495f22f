"""matcher: aliases per watch item, outbox, consumed notices, alert history, match feedback

Revision ID: 0003
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("watch_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("aliases", sa.Text(), server_default="[]", nullable=False))

    op.create_table(
        "matcher_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matcher_outbox")),
    )
    with op.batch_alter_table("matcher_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_matcher_outbox_published_at"), ["published_at"], unique=False
        )

    op.create_table(
        "matcher_notices",
        sa.Column("notice_id", sa.String(length=80), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("notice_id", name=op.f("pk_matcher_notices")),
    )
    with op.batch_alter_table("matcher_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_matcher_notices_due_on"), ["due_on"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_matcher_notices_published_on"), ["published_on"], unique=False
        )

    op.create_table(
        "matcher_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("match_id", sa.String(length=40), nullable=False),
        sa.Column("subscriber_id", sa.String(length=40), nullable=False),
        sa.Column("notice_id", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_matcher_alerts_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matcher_alerts")),
        sa.UniqueConstraint(
            "subscriber_id", "notice_id", "reason", name=op.f("uq_matcher_alerts_subscriber_id")
        ),
    )
    with op.batch_alter_table("matcher_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_matcher_alerts_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_matcher_alerts_match_id"), ["match_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_matcher_alerts_notice_id"), ["notice_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_matcher_alerts_subscriber_id"), ["subscriber_id"], unique=False
        )

    op.create_table(
        "matcher_feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscriber_id", sa.String(length=40), nullable=False),
        sa.Column("match_key", sa.String(length=64), nullable=False),
        sa.Column("match_id", sa.String(length=40), nullable=False),
        sa.Column("watch_kind", sa.String(length=20), nullable=False),
        sa.Column("watch_name", sa.String(length=300), nullable=False),
        sa.Column("entity_name", sa.Text(), nullable=False),
        sa.Column("entity_developer", sa.Text(), nullable=True),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_matcher_feedback_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matcher_feedback")),
        sa.UniqueConstraint(
            "subscriber_id", "match_key", name=op.f("uq_matcher_feedback_subscriber_id")
        ),
    )
    with op.batch_alter_table("matcher_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_matcher_feedback_subscriber_id"), ["subscriber_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("matcher_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matcher_feedback_subscriber_id"))
    op.drop_table("matcher_feedback")
    with op.batch_alter_table("matcher_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matcher_alerts_subscriber_id"))
        batch_op.drop_index(batch_op.f("ix_matcher_alerts_notice_id"))
        batch_op.drop_index(batch_op.f("ix_matcher_alerts_match_id"))
        batch_op.drop_index(batch_op.f("ix_matcher_alerts_created_at"))
    op.drop_table("matcher_alerts")
    with op.batch_alter_table("matcher_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matcher_notices_published_on"))
        batch_op.drop_index(batch_op.f("ix_matcher_notices_due_on"))
    op.drop_table("matcher_notices")
    with op.batch_alter_table("matcher_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matcher_outbox_published_at"))
    op.drop_table("matcher_outbox")
    with op.batch_alter_table("watch_items", schema=None) as batch_op:
        batch_op.drop_column("aliases")
