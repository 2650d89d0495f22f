"""Migration 0023: a reminder's payload may be null (its tracked deadline's is read instead);
the upgrade clears the copies equal to their deadline's and keeps the others, the downgrade
copies the deadline's back and makes the column required again."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from shared.db import Database
from shared.db.engine import alembic_config

SAME = '{"notice":{"notice_id":"n1"},"matches":[{"entity":{"name":"抖音"}}]}'
OLDER = '{"notice":{"notice_id":"n1"},"matches":[]}'


def _nullable(conn: Connection) -> bool:
    columns = {c["name"]: c for c in inspect(conn).get_columns("reminders")}
    return bool(columns["payload"]["nullable"])


async def _payloads(db: Database) -> dict[str, str | None]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(text('SELECT "offset", payload FROM reminders'))
        return {str(offset): payload for offset, payload in rows}


async def test_copies_equal_to_the_deadline_are_cleared_and_come_back(database_url: str) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.upgrade, config, "0022")
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            assert not await conn.run_sync(_nullable)
            await conn.execute(
                text(
                    "INSERT INTO notifier_deadlines (subscriber_id, notice_id, due_on, status,"
                    " payload, created_at, updated_at) VALUES ('s1', 'n1', '2099-08-31', 'open',"
                    " :p, '2099-08-01 00:00:00', '2099-08-01 00:00:00')"
                ),
                {"p": SAME},
            )
            for offset, payload, status in (("7d", SAME, "scheduled"), ("3d", OLDER, "sent")):
                await conn.execute(
                    text(
                        'INSERT INTO reminders (subscriber_id, notice_id, "offset", due_on,'
                        " fire_at, status, payload, created_at, late) VALUES ('s1', 'n1', :o,"
                        " '2099-08-31', '2099-08-24 01:00:00', :s, :p, '2099-08-01 00:00:00',"
                        " false)"
                    ),
                    {"o": offset, "p": payload, "s": status},
                )
        await db.migrate()
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_nullable)
        assert await _payloads(db) == {"7d": None, "3d": OLDER}
        await asyncio.to_thread(command.downgrade, config, "0022")
        async with db.engine.connect() as conn:
            assert not await conn.run_sync(_nullable)
        assert await _payloads(db) == {"7d": SAME, "3d": OLDER}
    finally:
        await db.dispose()
