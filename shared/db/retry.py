"""Run a unit of work again when the database connection was lost under it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from shared.broker import is_transient
from shared.logging import get_logger

log = get_logger("regwatch.db")

T = TypeVar("T")


async def retry_lost_connection(
    unit: Callable[[int], Awaitable[T]],
    *,
    attempts: int,
    backoff: float,
    what: str,
    extra: dict[str, Any] | None = None,
) -> T:
    """``unit(attempt)`` (1, 2, ...) until it succeeds; after a transient error (a connection
    lost, see ``is_transient``) it runs again ``backoff``, 2x ``backoff``, ... seconds later,
    at most ``attempts`` times in all. Other errors, and the last one, propagate. The unit must
    be safe to run again: its earlier run may have committed before the connection dropped."""
    for attempt in range(1, attempts + 1):
        try:
            return await unit(attempt)
        except Exception as exc:
            if not is_transient(exc) or attempt == attempts:
                raise
            log.warning(
                "%s, trying again: %s: %s",
                what,
                type(exc).__name__,
                exc,
                extra={**(extra or {}), "attempt": attempt},
            )
            await asyncio.sleep(backoff * 2 ** (attempt - 1))
    raise AssertionError("unreachable: attempts must be at least 1")
