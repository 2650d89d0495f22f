"""Database fixtures: every store test runs on SQLite, and on PostgreSQL when
``REGWATCH_TEST_DATABASE_URL`` names one (``.ci/run`` starts one and sets it). Each test gets
a database of its own, so that role needs CREATEDB."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shared.db import Database
from shared.secretbox import KEYS_SETTING, PEPPER_SETTING, new_pepper, new_secret_key

PG_ENV = "REGWATCH_TEST_DATABASE_URL"


async def fresh_database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """Yield the URL of a new, empty database of that backend; drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'regwatch.db'}"
        return
    async for url in _server_database(_server_base(), template=None):
        yield url


async def migrated_database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """Yield the URL of a new database at the newest schema; drop it afterwards.

    Migrating takes seconds on PostgreSQL; so the schema is migrated once per test process
    into a template (a database on the server, a file for SQLite) and each test gets a copy
    (``CREATE DATABASE ... TEMPLATE``, SQLite's backup API)."""
    if backend == "sqlite":
        target = tmp_path / "regwatch.db"
        await copy_migrated_sqlite(target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    base = _server_base()
    template = await _server_template(base)
    async for url in _server_database(base, template=template):
        yield url


def _server_base() -> str:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL store tests need {PG_ENV} (set by .ci/run)")
    return base


_templates: dict[str, str] = {}
"""backend -> the migrated template of this process (a SQLite file, a server database name)."""


async def _sqlite_template() -> str:
    if "sqlite" not in _templates:
        folder = Path(tempfile.mkdtemp(prefix="regwatch-template-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "regwatch.db"
        database = Database(f"sqlite+aiosqlite:///{path}")
        try:
            await database.migrate()
        finally:
            await database.dispose()
        _templates["sqlite"] = str(path)
    return _templates["sqlite"]


async def copy_migrated_sqlite(target: Path) -> None:
    """Put a SQLite database at the newest schema at ``target`` (a copy of the template)."""
    await asyncio.to_thread(_copy_sqlite, await _sqlite_template(), target)


def _copy_sqlite(source: str, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


async def _server_template(base: str) -> str:
    if "postgres" not in _templates:
        name = f"regwatch_tpl_{uuid.uuid4().hex[:12]}"
        admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            await admin.dispose()
        with server_database_keys():
            database = Database(make_url(base).set(database=name).render_as_string(False))
            try:
                await database.migrate()
            finally:
                await database.dispose()  # a template must have no sessions when copied
        atexit.register(_drop_at_exit, base, name)
        _templates["postgres"] = name
    return _templates["postgres"]


def _drop_at_exit(base: str, name: str) -> None:
    async def drop() -> None:
        admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
        try:
            await drop_database(admin, name)
        finally:
            await admin.dispose()

    with contextlib.suppress(Exception):  # the server may be gone already (CI stops it)
        asyncio.run(drop())


async def _server_database(base: str, *, template: str | None) -> AsyncIterator[str]:
    name = f"regwatch_t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        with server_database_keys():
            yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        try:
            await drop_database(admin, name)
        finally:
            await admin.dispose()


@contextlib.contextmanager
def server_database_keys() -> Iterator[None]:
    """A server database needs its secret keys in settings, as in production (SQLite makes
    its own beside the file): fresh ones in the environment while the database is in use."""
    saved = {name: os.environ.get(name) for name in (KEYS_SETTING, PEPPER_SETTING)}
    os.environ[KEYS_SETTING] = new_secret_key()
    os.environ[PEPPER_SETTING] = new_pepper()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


async def drop_database(admin: AsyncEngine, name: str) -> None:
    """Drop a test database. FORCE ends stray sessions; a role without pg_signal_backend
    cannot end an autovacuum worker, so that case waits for the worker and tries again."""
    for attempt in range(20):
        try:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError as error:
            if "pg_signal_backend" not in str(error) or attempt == 19:
                raise
            await asyncio.sleep(0.25)


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async for url in fresh_database_url(request.param, tmp_path):
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
async def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async for url in migrated_database_url(request.param, tmp_path):
        yield url


@pytest.fixture
async def db(migrated_url: str) -> AsyncIterator[Database]:
    database = Database(migrated_url)
    try:
        yield database
    finally:
        await database.dispose()
