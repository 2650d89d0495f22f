"""Units of work are all or nothing on SQLite as on PostgreSQL, savepoints included; a new
SQLite file's switch to WAL is tried again while another connection holds it."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from shared.db import Database, engine


async def _table(db: Database) -> None:
    async with db.session() as session:
        await session.execute(text("CREATE TABLE IF NOT EXISTS t_units (k TEXT PRIMARY KEY)"))


async def _keys(db: Database) -> list[str]:
    async with db.read_session() as session:
        return list((await session.execute(text("SELECT k FROM t_units ORDER BY k"))).scalars())


async def test_a_released_savepoint_is_undone_when_the_unit_fails(db: Database) -> None:
    await _table(db)
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            async with session.begin_nested():
                await session.execute(text("INSERT INTO t_units VALUES ('inside-savepoint')"))
            await session.execute(text("INSERT INTO t_units VALUES ('after-savepoint')"))
            raise RuntimeError("the unit of work fails after its savepoint was released")
    assert await _keys(db) == []


async def test_a_failed_savepoint_keeps_the_rest_of_the_unit(db: Database) -> None:
    await _table(db)
    async with db.session() as session:
        await session.execute(text("INSERT INTO t_units VALUES ('a')"))
        with pytest.raises(IntegrityError):
            async with session.begin_nested():
                await session.execute(text("INSERT INTO t_units VALUES ('b')"))
                await session.execute(text("INSERT INTO t_units VALUES ('a')"))
        await session.execute(text("INSERT INTO t_units VALUES ('c')"))
    assert await _keys(db) == ["a", "c"]


async def test_concurrent_read_then_write_units_never_meet_a_stale_snapshot(db: Database) -> None:
    """Each unit reads a counter and writes it back plus one: with the write lock taken at the
    start of a unit (SQLite) or a row lock (PostgreSQL), no increment is lost and none fails."""
    async with db.session() as session:
        await session.execute(text("CREATE TABLE t_counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        await session.execute(text("INSERT INTO t_counter VALUES (1, 0)"))

    async def bump() -> None:
        async with db.session() as session:
            lock = "" if db.is_sqlite else " FOR UPDATE"
            n = (
                await session.execute(text(f"SELECT n FROM t_counter WHERE id = 1{lock}"))
            ).scalar()
            await asyncio.sleep(0)
            await session.execute(text("UPDATE t_counter SET n = :n WHERE id = 1"), {"n": n + 1})

    await asyncio.gather(*(bump() for _ in range(20)))
    async with db.read_session() as session:
        assert (await session.execute(text("SELECT n FROM t_counter"))).scalar() == 20


async def test_a_read_session_does_not_wait_for_a_writer(db: Database) -> None:
    await _table(db)
    async with db.session() as writer:
        await writer.execute(text("INSERT INTO t_units VALUES ('uncommitted')"))
        # a reader sees the last committed state at once, while the writer holds its lock
        assert await asyncio.wait_for(_keys(db), timeout=10) == []
    assert await _keys(db) == ["uncommitted"]


class _LockedCursor:
    """A cursor whose first ``locked`` tries at the WAL switch fail as SQLite's do when two new
    connections both hold a shared lock and want the exclusive one."""

    def __init__(self, locked: int, error: str = "database is locked") -> None:
        self.locked = locked
        self.error = error
        self.tries = 0

    def execute(self, sql: str) -> None:
        assert sql == "PRAGMA journal_mode=WAL"
        self.tries += 1
        if self.tries <= self.locked:
            raise sqlite3.OperationalError(self.error)


def test_the_switch_to_wal_is_tried_again_while_the_database_is_locked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine, "WAL_BACKOFF", 0.001)
    cursor = _LockedCursor(locked=3)
    engine._wal(cursor)
    assert cursor.tries == 4
    always = _LockedCursor(locked=engine.WAL_ATTEMPTS)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        engine._wal(always)
    assert always.tries == engine.WAL_ATTEMPTS
    other = _LockedCursor(locked=1, error="disk I/O error")  # not a lock: raised at once
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        engine._wal(other)
    assert other.tries == 1
