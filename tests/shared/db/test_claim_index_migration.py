"""Migration 0021 gives the dispatcher's claim its index in the claim's order (status,
next_attempt_at, created_at, id) in place of 0009's (status, next_attempt_at); its downgrade
puts 0009's back. Migration 0022 adds the queue to it; its downgrade takes it out again."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from shared.db import Database
from shared.db.engine import alembic_config


def _indexes(conn: Connection) -> dict[str, list[str]]:
    return {
        str(index["name"]): [str(column) for column in index["column_names"]]
        for index in inspect(conn).get_indexes("deliveries")
        if "status" in index["column_names"]
    }


async def test_the_claim_index_replaces_the_old_one_and_back(database_url: str) -> None:
    config = alembic_config(database_url)
    old = {"ix_deliveries_status_next_attempt_at": ["status", "next_attempt_at"]}
    new = {"ix_deliveries_claim": ["status", "next_attempt_at", "created_at", "id"]}
    await asyncio.to_thread(command.upgrade, config, "0019")  # the notifier before 0021
    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_indexes) == {"ix_deliveries_status": ["status"], **old}
        await asyncio.to_thread(command.upgrade, config, "0021")
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_indexes) == {"ix_deliveries_status": ["status"], **new}
        await asyncio.to_thread(command.downgrade, config, "0019")
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_indexes) == {"ix_deliveries_status": ["status"], **old}
    finally:
        await db.dispose()


async def test_the_claim_index_gains_the_queue_and_loses_it_on_downgrade(database_url: str) -> None:
    config = alembic_config(database_url)
    before = ["status", "next_attempt_at", "created_at", "id"]
    await asyncio.to_thread(command.upgrade, config, "0021")
    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            assert (await conn.run_sync(_indexes))["ix_deliveries_claim"] == before
        await db.migrate()
        async with db.engine.connect() as conn:
            assert (await conn.run_sync(_indexes))["ix_deliveries_claim"] == [*before, "queue"]
        await asyncio.to_thread(command.downgrade, config, "0021")
        async with db.engine.connect() as conn:
            assert (await conn.run_sync(_indexes))["ix_deliveries_claim"] == before
    finally:
        await db.dispose()
