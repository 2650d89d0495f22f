"""Hostile notices through the real HTTP intake: each gets a 4xx naming the problem, read in the
extraction workers while ``/healthz`` keeps answering."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from services.ingestor import extraction
from services.ingestor.api import DOCX, build_router
from services.ingestor.extract.markup import MAX_DEPTH
from services.ingestor.extraction import Limits
from shared.db import Database
from shared.settings import Settings
from tests.support.hostile import (
    bomb_png,
    deep_html,
    long_notice,
    lying_zip_bomb_docx,
    slow_notice,
    zip_bomb_docx,
)

GUARD = 120.0
"""Seconds any one request may take before the test gives up (not a speed assertion)."""


@pytest.fixture
def limits() -> Iterator[None]:
    extraction.configure(Limits())  # the defaults: two workers, 30 s, 1 GiB
    yield
    extraction.configure(Limits())


@pytest.fixture
async def client(db: Database, limits: None) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.db = db
    app.state.settings = Settings()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(build_router(None))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://regwatch", timeout=GUARD
    ) as http:
        yield http


async def post(client: httpx.AsyncClient, body: bytes, media: str, name: str) -> httpx.Response:
    return await asyncio.wait_for(
        client.post(
            "/v1/notices", content=body, params={"filename": name}, headers={"content-type": media}
        ),
        GUARD,
    )


async def test_a_zip_bomb_docx_gets_422_naming_the_limit(client: httpx.AsyncClient) -> None:
    answer = await post(client, zip_bomb_docx(), DOCX, "bomb.docx")
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == (
        "bomb.docx: the package expands to more than 50,000,000 bytes "
        "(REGWATCH_MAX_UNZIPPED_BYTES); not read"
    )


async def test_a_zip_bomb_lying_about_its_size_gets_422(client: httpx.AsyncClient) -> None:
    answer = await post(client, lying_zip_bomb_docx(), DOCX, "liar.docx")
    assert answer.status_code == 422, answer.text
    assert "liar.docx: part word/document.xml cannot be read" in answer.json()["detail"]


async def test_100k_nested_divs_get_422_not_500(client: httpx.AsyncClient) -> None:
    answer = await post(client, deep_html(100_000), "text/html", "deep.html")
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == (
        f"deep.html: the page nests its elements more than {MAX_DEPTH} deep; not read"
    )


async def test_a_100k_line_notice_gets_422(client: httpx.AsyncClient) -> None:
    answer = await post(client, long_notice(100_000), "text/plain", "long.txt")
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == (
        "long.txt: the notice has 100,004 lines of text, more than the 20,000 read; not read"
    )


async def test_a_decompression_bomb_picture_gets_422(client: httpx.AsyncClient) -> None:
    answer = await asyncio.wait_for(
        client.post("/v1/notices", files={"file": ("list.png", bomb_png(), "image/png")}), GUARD
    )
    assert answer.status_code == 422, answer.text
    assert re.match(r"^list\.png: the picture is .*40,000,000 pixels", answer.json()["detail"])


async def test_healthz_answers_while_a_notice_is_read_and_the_time_limit_gives_422(
    client: httpx.AsyncClient,
) -> None:
    extraction.configure(Limits(workers=1, timeout=1.0))
    reading = asyncio.ensure_future(post(client, slow_notice(), "text/plain", "slow.txt"))
    answered_while_reading = 0
    while not reading.done():
        health = await asyncio.wait_for(client.get("/healthz"), GUARD)
        assert health.status_code == 200
        answered_while_reading += not reading.done()
        await asyncio.sleep(0.02)
    answer = await reading
    assert answered_while_reading > 0
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == (
        "slow.txt: the notice took longer than 1 s to read (REGWATCH_EXTRACT_TIMEOUT); not read"
    )
