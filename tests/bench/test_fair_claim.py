"""bench.fair_claim's claim cost: the rows it writes are due, the claim with the window and the
one ranking every row take the same rows, and the first window answers a fan-out (one row per
endpoint) while a window of rows all waiting in one queue sets that queue aside and reads
again, ranking every row in neither case (claim_cost raises when the two claims take
different rows); on SQLite and PostgreSQL
(``REGWATCH_TEST_DATABASE_URL``)."""

from __future__ import annotations

import os

import pytest

from bench.fair_claim import claim_cost
from tests.support.db import PG_ENV


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
@pytest.mark.parametrize(("shape", "narrowed"), [("fanout", 0), ("one_queue", 3)])
async def test_claim_cost_compares_the_same_claims(
    database: str, shape: str, narrowed: int
) -> None:
    server = os.environ.get(PG_ENV, "") if database == "postgresql" else ""
    if database == "postgresql" and not server:
        pytest.skip(f"PostgreSQL needs {PG_ENV}")
    result = await claim_cost(database, server, 3000, shape, 1)
    assert result["new_ranks"] == 3
    assert result["new_ranks_narrowed"] == narrowed
    assert result["new_ranks_widened"] == result["new_ranks_ranked_every_row"] == 0
    assert result["window"] == 400
    assert {"ratio_vs_old", "claim_ms", "old_claim_ms"} <= set(result)
