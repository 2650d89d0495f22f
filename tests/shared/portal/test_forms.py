"""Portal forms: urlencoded everywhere, uploads on a router made with ``form_limit``; the CSRF
check reads the same parsed form the route reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import Request
from fastapi.responses import JSONResponse

from shared.portal import PortalSubscriber, portal_router, read_form
from tests.support.portal import Portal, add_subscriber, client_for, csrf_of, portal_app, sign_in

BASE = "http://127.0.0.1:8080"
CSV = b"\xef\xbb\xbfkind,name\r\napp,\xe6\x8a\x96\xe9\x9f\xb3\r\n"


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    async with portal_app(tmp_path) as found:
        uploads = portal_router(form_limit=100_000)
        plain = portal_router()

        async def echo(request: Request, subscriber: PortalSubscriber) -> JSONResponse:
            form = await read_form(request)
            return JSONResponse(
                {
                    "fields": dict(form),
                    "files": {k: v.decode("utf-8") for k, v in form.files.items()},
                    "names": form.filenames,
                    "who": subscriber.id,
                }
            )

        uploads.post("/test-upload")(echo)
        plain.post("/test-plain")(echo)
        found.app.include_router(uploads)
        found.app.include_router(plain)
        yield found


@pytest.fixture
async def client(portal: Portal) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(portal.app, BASE) as found:
        _, key = await add_subscriber(portal.db)
        await sign_in(found, key)
        yield found


async def token(client: httpx.AsyncClient) -> str:
    return csrf_of((await client.get("/portal/")).text)


async def test_an_upload_arrives_byte_for_byte_with_its_fields(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/portal/test-upload",
        data={"csrf_token": await token(client), "note": "抖音"},
        files={"file": ("watch list.csv", CSV, "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["files"] == {"file": CSV.decode("utf-8")}
    assert body["names"] == {"file": "watch list.csv"}
    assert body["fields"]["note"] == "抖音"


async def test_an_upload_needs_the_token_and_its_limit(client: httpx.AsyncClient) -> None:
    files = {"file": ("w.csv", CSV, "text/csv")}
    missing = await client.post("/portal/test-upload", files=files)
    assert missing.status_code == 403
    big = {"file": ("w.csv", b"x" * 120_000, "text/csv")}
    refused = await client.post(
        "/portal/test-upload", data={"csrf_token": await token(client)}, files=big
    )
    assert refused.status_code == 413


async def test_an_upload_router_takes_plain_forms_and_a_plain_one_no_uploads(
    client: httpx.AsyncClient,
) -> None:
    csrf = await token(client)
    plain = await client.post("/portal/test-upload", data={"csrf_token": csrf, "a": "1"})
    assert plain.status_code == 200 and plain.json()["fields"]["a"] == "1"
    upload = await client.post(
        "/portal/test-plain",
        data={"csrf_token": csrf},
        files={"file": ("w.csv", CSV, "text/csv")},
    )
    assert upload.status_code == 415
    form = await client.post("/portal/test-plain", data={"csrf_token": csrf, "a": "2"})
    assert form.status_code == 200 and form.json()["fields"]["a"] == "2"
