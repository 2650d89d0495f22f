"""Migration 0017 on a database made before it: a source's interval becomes the schedule
``every <interval>``, a source without one keeps the server's default, and a downgrade gives
the intervals back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text

from services.ingestor.models import FeedSourceRow
from shared.db import Database
from shared.db.engine import alembic_config
from shared.poll_schedule import parse_schedule


async def test_intervals_become_schedules_and_come_back(database_url: str) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.upgrade, config, "0011")
    db = Database(database_url)
    try:
        now = datetime.now(UTC)
        async with db.session() as session:
            await session.execute(
                text(
                    "INSERT INTO feed_sources (id, url, url_key, name, kind, interval_seconds,"
                    " enabled, status, failures, next_poll_at, created_at)"
                    " VALUES (:id, :url, :key, 'n', 'auto', :seconds, true, 'new', 0, :t, :t)"
                ),
                [
                    {"id": i, "url": f"https://e.com/{i}", "key": str(i), "seconds": s, "t": now}
                    for i, s in ((1, 900), (2, None), (3, 5400), (4, 45))
                ],
            )

        await db.migrate()

        async with db.session() as session:
            found = await session.execute(text("SELECT id, schedule FROM feed_sources ORDER BY id"))
            rows: dict[int, str | None] = dict(found.tuples().all())
            assert (await session.get(FeedSourceRow, 1)) is not None
        assert rows == {1: "every 15m", 2: None, 3: "every 90m", 4: "every 45s"}
        assert all(parse_schedule(s) for s in rows.values() if s is not None)

        await asyncio.to_thread(command.downgrade, config, "0017-1")
        async with db.session() as session:
            found = await session.execute(
                text("SELECT id, interval_seconds FROM feed_sources ORDER BY id")
            )
            assert dict(found.all()) == {1: 900, 2: None, 3: 5400, 4: 45}
        await db.migrate()  # and up again
    finally:
        await db.dispose()
