"""A throwaway PostgreSQL database for one benchmark run: created on the server a URL names,
dropped (``WITH (FORCE)``) when the run ends, whatever happened in it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

__all__ = ["async_url", "scratch_database"]


def async_url(url: str) -> URL:
    """``url`` with asyncpg as its driver when it names plain ``postgresql``."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed


@contextlib.asynccontextmanager
async def scratch_database(server_url: str, name: str) -> AsyncIterator[str]:
    """The URL of a new database ``name`` on the server of ``server_url`` (any database the
    role may connect to; the role needs CREATEDB), dropped afterwards."""
    server = async_url(server_url)
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()
