"""Insert rows once, also when another notifier instance inserts the same keys concurrently."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.base import Base

R = TypeVar("R", bound=Base)


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


async def insert_all_once(session: AsyncSession, rows: Sequence[R]) -> list[R]:
    """Insert each of ``rows`` unless its unique key exists already; returns those inserted.

    The caller has checked for existing keys, so all rows usually go in one savepoint and one
    flush; only when another instance inserted one of them meanwhile does it fall back to a
    savepoint per row.
    """
    if not rows:
        return []
    try:
        async with session.begin_nested():
            session.add_all(rows)
            await session.flush()
        return list(rows)
    except IntegrityError:
        pass
    return [row for row in rows if await insert_once(session, row)]
