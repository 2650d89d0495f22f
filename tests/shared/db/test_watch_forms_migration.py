"""Migration 0020 adds the matcher's table of prepared watch forms; its downgrade drops it."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from shared.db import Database
from shared.db.engine import alembic_config


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def test_the_forms_table_comes_and_goes(database_url: str) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.upgrade, config, "0008")  # the matcher before the forms
    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            before = await conn.run_sync(_tables)
        assert "watch_items" in before and "matcher_watch_forms" not in before
        await db.migrate()
        async with db.engine.connect() as conn:
            assert "matcher_watch_forms" in await conn.run_sync(_tables)
        await asyncio.to_thread(command.downgrade, config, "0008")
        async with db.engine.connect() as conn:
            assert "matcher_watch_forms" not in await conn.run_sync(_tables)
        await db.migrate()  # and up again
        async with db.engine.connect() as conn:
            assert "matcher_watch_forms" in await conn.run_sync(_tables)
    finally:
        await db.dispose()
