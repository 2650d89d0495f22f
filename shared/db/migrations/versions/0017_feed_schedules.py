"""ingestor: a feed source's poll schedule (``feed_sources.schedule``) instead of its interval

A source may now poll on days and hours of its own (``every 10m Mon-Fri 08:00-19:00
Asia/Shanghai, else every 2h``, see ``shared/poll_schedule.py``). ``interval_seconds`` becomes
the schedule ``every <interval>``; null stays null (the server's default schedule). Downgrade
keeps the interval of each schedule (its days and hours are lost).

Revision ID: 0017
Revises: 0011
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0011"
branch_labels = None
depends_on = None

sources = sa.table(
    "feed_sources",
    sa.column("id", sa.Integer),
    sa.column("interval_seconds", sa.Integer),
    sa.column("schedule", sa.Text),
)
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def every(seconds: int) -> str:
    """``every 15m`` for 900 (the largest exact unit, as format_duration writes it)."""
    for unit in ("d", "h", "m"):
        if seconds % UNITS[unit] == 0:
            return f"every {seconds // UNITS[unit]}{unit}"
    return f"every {seconds}s"


def upgrade() -> None:
    with op.batch_alter_table("feed_sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schedule", sa.Text(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(sources.c.id, sources.c.interval_seconds).where(
            sources.c.interval_seconds.is_not(None)
        )
    ).all()
    for source_id, seconds in rows:
        bind.execute(
            sources.update().where(sources.c.id == source_id).values(schedule=every(seconds))
        )
    with op.batch_alter_table("feed_sources", schema=None) as batch_op:
        batch_op.drop_column("interval_seconds")


def downgrade() -> None:
    with op.batch_alter_table("feed_sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("interval_seconds", sa.Integer(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(sources.c.id, sources.c.schedule).where(sources.c.schedule.is_not(None))
    ).all()
    for source_id, schedule in rows:
        found = re.match(r"every (\d+)([smhd])\b", schedule)
        if found is None:
            continue
        seconds = int(found.group(1)) * UNITS[found.group(2)]
        bind.execute(
            sources.update().where(sources.c.id == source_id).values(interval_seconds=seconds)
        )
    with op.batch_alter_table("feed_sources", schema=None) as batch_op:
        batch_op.drop_column("schedule")
