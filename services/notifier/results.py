"""Delivery results written to their ledger rows, many at a time.

Each result is written only to the row that still carries the claim it was sent under
(``claim_token``): a row whose lease ran out and was claimed again by another instance is not
overwritten. Results with the same columns to set go in one executemany UPDATE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.channels import SendResult
from services.notifier.models import DeliveryRow


@dataclass(frozen=True)
class Outcome:
    """One attempt's result and the columns it sets on its row."""

    row: DeliveryRow
    result: SendResult
    values: dict[str, object]
    now: datetime


def _table() -> Table:
    table = DeliveryRow.__table__
    assert isinstance(table, Table)
    return table


async def write_rows(session: AsyncSession, outcomes: list[Outcome], *, check: bool) -> list[bool]:
    """Set each outcome's values on its row, if the row still carries its claim. Returns,
    per outcome, whether it was written; with ``check`` False (the first try) that is not
    asked of the database and every outcome counts as written, as one UPDATE per set of
    columns is sent for all of them. With ``check`` (a try after a lost connection, whose
    commit may have landed) each row is updated on its own and its row count read."""
    table = _table()
    if check:
        written: list[bool] = []
        for outcome in outcomes:
            result = await session.execute(
                update(table)
                .where(table.c.id == outcome.row.id, table.c.claim_token == outcome.row.claim_token)
                .values(**outcome.values)
            )
            written.append(bool(getattr(result, "rowcount", 1)))
        return written
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for outcome in outcomes:
        keys = tuple(sorted(outcome.values))
        params = {f"v_{key}": outcome.values[key] for key in keys}
        params |= {"w_id": outcome.row.id, "w_token": outcome.row.claim_token}
        groups.setdefault(keys, []).append(params)
    for keys, rows in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("w_id"), table.c.claim_token == bindparam("w_token"))
            .values({key: bindparam(f"v_{key}", type_=table.c[key].type) for key in keys})
        )
        await session.execute(statement, rows)
    return [True] * len(outcomes)
