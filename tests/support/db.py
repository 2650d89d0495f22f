"""Database fixtures: every store test runs on SQLite, and on PostgreSQL when
``REGWATCH_TEST_DATABASE_URL`` names one (``.ci/run`` starts one and sets it). Each test gets
a database of its own, so that role needs CREATEDB."""

from __future__ import annotations

import asyncio
import contextlib
import os
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
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL store tests need {PG_ENV} (set by .ci/run)")
    name = f"regwatch_t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
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


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.migrate()
    try:
        yield database
    finally:
        await database.dispose()
