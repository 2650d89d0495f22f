"""A unit of work runs again after a lost connection, and only then."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy.exc import OperationalError, ProgrammingError

from shared.db.retry import retry_lost_connection

LOST = OperationalError("COMMIT", {}, Exception("server closed the connection"))


def failing(error: Exception, times: int) -> tuple[list[int], Callable[[int], Awaitable[str]]]:
    seen: list[int] = []

    async def unit(attempt: int) -> str:
        seen.append(attempt)
        if len(seen) <= times:
            raise error
        return "done"

    return seen, unit


async def test_runs_again_after_a_lost_connection() -> None:
    seen, unit = failing(LOST, times=2)
    result = await retry_lost_connection(unit, attempts=3, backoff=0.001, what="x")
    assert result == "done"
    assert seen == [1, 2, 3]


async def test_the_last_lost_connection_propagates() -> None:
    seen, unit = failing(LOST, times=5)
    with pytest.raises(OperationalError):
        await retry_lost_connection(unit, attempts=3, backoff=0.001, what="x")
    assert seen == [1, 2, 3]


async def test_other_errors_are_not_retried() -> None:
    seen, unit = failing(ProgrammingError("INSERT", {}, Exception("no such column")), times=1)
    with pytest.raises(ProgrammingError):
        await retry_lost_connection(unit, attempts=3, backoff=0.001, what="x")
    assert seen == [1]
