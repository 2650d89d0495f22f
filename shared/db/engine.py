"""Async engine, one session per unit of work, and migrations to head at start."""

from __future__ import annotations

import ast
import asyncio
import contextvars
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    event,
    inspect,
    text,
)
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


WAL_ATTEMPTS = 20
WAL_BACKOFF = 0.01
"""Tries at switching a new connection's database to WAL, 10 ms apart and doubling up to
0.5 s (about 7 s in all)."""


def _sqlite_pragmas(dbapi_conn: object) -> None:
    cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
    _wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: safe against corruption, fewer fsyncs
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
    cursor.close()


def _wal(cursor: Any) -> None:
    """``PRAGMA journal_mode=WAL``, tried again while the database is locked. Two connections
    opening a new file at once (two processes starting on it) can each hold a shared lock and
    want the exclusive one the switch needs: SQLite then answers one of them "database is
    locked" at once, without its busy handler (waiting could deadlock), and that start
    failed. Once the file is in WAL mode (the mode is stored in it) the pragma changes nothing
    and takes no lock. The wait blocks the caller (the event loop of an async engine, 10 ms at
    a time, a few seconds at worst): it happens only at that first moment of a new database."""
    delay = WAL_BACKOFF
    for attempt in range(1, WAL_ATTEMPTS + 1):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:
            if "database is locked" not in str(exc) or attempt == WAL_ATTEMPTS:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # imported by the migration (in its thread), not at start

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Upgrade to every head: each service may add its own branch of migrations.

    Two cases skip Alembic (importing it alone is 0.25-0.35 s of CPU): a database already at
    every head has nothing to do, and a database without any of regwatch's tables is created
    from the models (:func:`create_fresh`)."""
    state = asyncio.run(_prepare(url))
    if state != "migrate":
        return
    from alembic import command

    command.upgrade(alembic_config(url), "heads")


VERSION_TABLE = "alembic_version"
SCHEMA_LOCK = 0x7265_6777_7363_6865
"""PostgreSQL advisory lock (transaction-scoped) held while a fresh database is created."""

State = Literal["current", "fresh", "created", "migrate"]
"""Where a database stands before :func:`upgrade`: at every head, without any of regwatch's
tables, just created from the models, or left to Alembic's migrations."""

_REVISION_LINE = re.compile(r"^(revision|down_revision|depends_on) = (.+)$", re.MULTILINE)


def script_heads(versions: Path = MIGRATIONS / "versions") -> frozenset[str] | None:
    """The heads of the migration scripts, read from their ``revision = ...`` and
    ``down_revision = ...`` lines rather than by importing every script with Alembic; None
    when a script is not that simple (a line missing, annotated or repeated, a ``depends_on``):
    Alembic decides then. ``tests/shared/db/test_migrations.py`` checks it against Alembic."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        if path.name.startswith(("__init__", ".#")):
            continue
        found: dict[str, object] = {}
        for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            if name in found:
                return None
            try:
                found[name] = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                return None
        revision, down = found.get("revision"), found.get("down_revision", ...)
        if not isinstance(revision, str) or found.get("depends_on") is not None:
            return None
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple) and all(isinstance(d, str) for d in down):
            parents.update(down)
        elif down is not None:  # missing (...) or not a revision
            return None
        revisions.add(revision)
    if not revisions or not parents <= revisions:
        return None
    return frozenset(revisions - parents)


def create_fresh(url: str) -> bool:
    """Create the schema from the models (``create_all``) and stamp every head, if and only if
    the database has neither Alembic's version table nor any table of the models; returns
    whether it did. See :func:`_create_schema`."""
    return asyncio.run(_prepare(url)) == "created"


async def _prepare(url: str) -> State:
    """``current``, ``created`` (it was fresh) or ``migrate``."""
    db = Database(url)
    try:
        async with db.reader.connect() as conn:  # a first look, without any lock
            state = await conn.run_sync(_state)
        if state != "fresh":
            return state
        async with db.engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE
            return await conn.run_sync(_create_schema, url)
    finally:
        await db.dispose()


def _state(conn: Connection) -> State:
    """``current``, ``fresh`` (no regwatch table at all) or ``migrate``."""
    names = set(inspect(conn).get_table_names())
    if VERSION_TABLE in names:
        heads = script_heads()
        stored = {row[0] for row in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))}
        return "current" if heads is not None and stored == heads else "migrate"
    from shared.db.migrations.schema import metadata

    return "migrate" if names & set(metadata().tables) else "fresh"


def _create_schema(conn: Connection, url: str) -> State:
    """``created``, or what another process left here while this one waited for the lock
    (``current``, or ``migrate`` if it failed).

    Replaying the 20 migrations on an empty SQLite file took 1.0-1.4 s of CPU (SQLite's
    batch mode copies a table for most changes), this about a tenth of it; the schemas are
    the same (``tests/shared/db/test_migrations.py``), and no migration adds rows to an empty
    database (those that write rows convert the rows already stored).

    All of it is one transaction, begun with a lock that a second process starting at the
    same time waits for, and then finds the tables made (SQLite: ``BEGIN IMMEDIATE``, the
    write lock; PostgreSQL: an advisory lock): so they are made once, and a failure leaves the
    database empty. A database that has any of the models' tables or the version table is
    left to the migrations: it may hold data or a partial schema. Tables of other
    applications do not count."""
    from shared.db.migrations.schema import metadata

    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
    state = _state(conn)
    if state != "fresh":  # another process made them while this one waited
        return state
    metadata().create_all(conn)
    heads = script_heads()
    if heads is None:
        from alembic.migration import MigrationContext
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(alembic_config(url))
        MigrationContext.configure(conn).stamp(script, "heads")
        return "created"
    # Alembic's version table, as ``alembic stamp heads`` makes it
    version = Table(
        VERSION_TABLE,
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
    )
    version.create(conn)
    conn.execute(version.insert(), [{"version_num": head} for head in sorted(heads)])
    return "created"
