"""Insert a row once, also when another notifier instance inserts the same key concurrently."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.base import Base


async def insert_once(session: AsyncSession, row: Base) -> bool:
    """Insert ``row`` unless its unique key exists already; True when it was inserted.

    A savepoint keeps the surrounding unit of work usable after a duplicate.
    """
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True
