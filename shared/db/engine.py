"""Async engine, one session per unit of work, and migrations to head at start."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.errors import TransientError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT = 30.0
"""Seconds a SQLite unit of work waits for the write lock before it fails (and is retried)."""


def describe_url(url: str) -> str:
    """The URL without its password, for logs and ``regwatch status``."""
    return make_url(url).render_as_string(hide_password=True)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, object] = {"pool_pre_ping": True}
        if self.is_sqlite:
            database = parsed.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs = {"connect_args": {"timeout": BUSY_TIMEOUT}}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        reader = self.engine
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_connect)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin)
            reader = self.engine.execution_options(**{BEGIN_OPTION: "DEFERRED"})
        self.reader = reader
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = async_sessionmaker(reader, expire_on_commit=False)
        self._writer = asyncio.Lock()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on error, all or nothing (its
        savepoints included). On SQLite it holds the write lock from its first statement
        (``BEGIN IMMEDIATE``), so a unit that reads and then writes never meets a stale
        snapshot: keep network calls outside it. Units of one process wait for each other in
        line on an asyncio lock rather than in SQLite's busy handler, which polls in sleeps
        of up to 100 ms (other processes still meet the busy handler)."""
        if not self.is_sqlite or _IN_UNIT.get():
            async with self.sessions() as session, session.begin():
                yield session
            return
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancellation that arrives as the lock is acquired (a stop that never stops)
            async with asyncio.timeout(BUSY_TIMEOUT):
                await self._writer.acquire()
        except TimeoutError:
            raise TransientError(
                f"database is locked: another unit of work held it for {BUSY_TIMEOUT:g}s"
            ) from None
        token = _IN_UNIT.set(True)
        try:
            async with self.sessions() as session, session.begin():
                yield session
        finally:
            _IN_UNIT.reset(token)
            self._writer.release()

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work that only reads: one consistent snapshot, never waits for writers
        on SQLite (``BEGIN DEFERRED`` in WAL mode). Writing in it may fail when another
        connection wrote meanwhile; use :meth:`session` for that."""
        async with self.read_sessions() as session, session.begin():
            yield session

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        await asyncio.to_thread(upgrade, self.url)

    async def ping(self) -> None:
        async with self.reader.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


_IN_UNIT: contextvars.ContextVar[bool] = contextvars.ContextVar("regwatch_in_unit", default=False)
"""Set inside a SQLite unit of work: a unit opened within it does not wait for the lock its
own caller holds."""

BEGIN_OPTION = "regwatch_sqlite_begin"
"""Execution option naming how a SQLite transaction begins: ``IMMEDIATE`` (the default) or
``DEFERRED`` (read-only units of work)."""


def _sqlite_connect(dbapi_conn: object, _record: object) -> None:
    """The driver's own transaction handling is switched off (``isolation_level = None``):
    it begins a transaction only before INSERT/UPDATE/DELETE, so a SAVEPOINT opened first
    started and its RELEASE committed a transaction of its own, and a unit of work was not all
    or nothing. :func:`_sqlite_begin` emits BEGIN instead, when SQLAlchemy begins one."""
    dbapi_conn.isolation_level = None  # type: ignore[attr-defined]
    _sqlite_pragmas(dbapi_conn)


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _sqlite_pragmas(dbapi_conn: object) -> None:
    cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: safe against corruption, fewer fsyncs
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
    cursor.close()


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # imported by the migration (in its thread), not at start

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Upgrade to every head: each service may add its own branch of migrations."""
    from alembic import command

    command.upgrade(alembic_config(url), "heads")
