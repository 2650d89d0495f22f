"""/v1/sources over HTTP (ASGI, real database): the operator adds a source with a schedule,
reads it back with its next poll, changes and clears the schedule, pauses and removes it; bad
schedules are 422s naming the field with an example; subscribers' keys are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from services.ingestor import sources_api
from shared.db import Database
from shared.poll_schedule import EXAMPLE, in_window, parse_schedule, window_opens
from shared.settings import Settings

ADMIN = "op-token-sources"
OPERATOR = {"Authorization": f"Bearer {ADMIN}"}
FEED = "https://www.cac.gov.cn/rss.xml"


@pytest.fixture
async def client(db: Database) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.db = db
    app.state.settings = Settings(admin_token=ADMIN, feed_interval="30m")
    app.include_router(sources_api.build_router())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://regwatch") as http:
        yield http


async def test_a_schedule_round_trips_and_sets_the_next_poll(client: httpx.AsyncClient) -> None:
    office = "every 10m Mon-Fri 08:00-19:00 Asia/Shanghai"
    before = datetime.now(UTC)
    made = await client.post(
        "/v1/sources",
        json={"url": FEED, "name": "CAC", "schedule": "10m mon-fri 8:00-19:00 Asia/Shanghai"},
        headers=OPERATOR,
    )
    after = datetime.now(UTC)
    assert made.status_code == 201, made.text
    source = made.json()
    assert (source["schedule"], source["schedule_is_default"]) == (office, False)
    # never polled: due at once while the office is open, else when it opens
    window = parse_schedule(office).window
    assert window is not None
    next_poll = datetime.fromisoformat(source["next_poll"])
    if in_window(window, before):
        assert before <= next_poll <= after
    else:
        assert next_poll == window_opens(window, before)
    local = datetime.fromisoformat(source["next_poll_local"])
    assert local == next_poll and local.utcoffset() == timedelta(hours=8)

    listed = (await client.get("/v1/sources", headers=OPERATOR)).json()
    assert [(s["id"], s["schedule"], s["next_poll"]) for s in listed] == [
        (source["id"], source["schedule"], source["next_poll"])
    ]

    changed = await client.patch(
        f"/v1/sources/{source['id']}", json={"schedule": EXAMPLE}, headers=OPERATOR
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["schedule"] == EXAMPLE

    cleared = await client.patch(
        f"/v1/sources/{source['id']}", json={"schedule": None}, headers=OPERATOR
    )
    body = cleared.json()
    assert (body["schedule"], body["schedule_is_default"], body["next_poll_local"]) == (
        "every 30m",
        True,
        None,
    )

    paused = await client.patch(
        f"/v1/sources/{source['id']}", json={"enabled": False}, headers=OPERATOR
    )
    assert (paused.json()["enabled"], paused.json()["schedule"]) == (False, "every 30m")

    assert (await client.delete(f"/v1/sources/{source['id']}", headers=OPERATOR)).status_code == 204
    assert (await client.get("/v1/sources", headers=OPERATOR)).json() == []
    gone = await client.patch(f"/v1/sources/{source['id']}", json={}, headers=OPERATOR)
    assert gone.status_code == 404 and f"no feed source {source['id']}" in gone.json()["detail"]


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("every 10m Mon-Fri 08:00-19:00", "days or hours need a time zone"),
        ("every ten minutes", "bad duration 'ten'"),
        ("every 10m Mon-Fri 08:00-19:00 Asia/Shangai", "'Asia/Shangai' is not days"),
    ],
)
async def test_a_bad_schedule_is_a_422_naming_the_field(
    client: httpx.AsyncClient, schedule: str, problem: str
) -> None:
    answer = await client.post(
        "/v1/sources", json={"url": FEED, "schedule": schedule}, headers=OPERATOR
    )
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail.startswith(f"schedule {schedule!r}: ") and problem in detail
    assert EXAMPLE in detail
    assert (await client.get("/v1/sources", headers=OPERATOR)).json() == []

    made = (await client.post("/v1/sources", json={"url": FEED}, headers=OPERATOR)).json()
    refused = await client.patch(
        f"/v1/sources/{made['id']}", json={"schedule": schedule}, headers=OPERATOR
    )
    assert refused.status_code == 422 and problem in refused.json()["detail"]
    kept = (await client.get("/v1/sources", headers=OPERATOR)).json()
    assert [s["schedule"] for s in kept] == ["every 30m"]


async def test_only_the_operator_manages_sources(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/sources")).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert (await client.post("/v1/sources", json={"url": FEED}, headers=wrong)).status_code == 401
