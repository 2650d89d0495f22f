"""bench.fair_claim's claim cost: the rows it writes are due, the claim with the window and the
one ranking every row take the same rows, and the window is used for a fan-out (one row per
endpoint) and not when every row waits in one queue (claim_cost raises when the two claims
take different rows); on SQLite and PostgreSQL
(``REGWATCH_TEST_DATABASE_URL``)."""

from __future__ import annotations

import os

import pytest

from bench.fair_claim import claim_cost
from tests.support.db import PG_ENV


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
@pytest.mark.parametrize(("shape", "fell_back"), [("fanout", 0), ("one_queue", 3)])
async def test_claim_cost_compares_the_same_claims(
    database: str, shape: str, fell_back: int
) -> None:
    server = os.environ.get(PG_ENV, "") if database == "postgresql" else ""
    if database == "postgresql" and not server:
        pytest.skip(f"PostgreSQL needs {PG_ENV}")
    result = await claim_cost(database, server, 3000, shape, 1)
    assert result["new_claims_that_ranked_every_row"] == f"{fell_back} of 3"
    assert result["window"] == 1600
    assert {"ratio_vs_old", "claim_ms", "old_claim_ms"} <= set(result)
