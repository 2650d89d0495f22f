"""The OpenAPI document regwatch serves (shared/openapi_doc.py, the schemes of shared/http.py),
read from the whole HTTP app as ``regwatch run`` builds it (tests/support/portal.py): security
schemes instead of auth header parameters, per-operation security, servers, licence; and
``@redocly/cli lint`` finds no error in it where Node.js and the package are at hand."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.openapi_doc import LICENSE
from tests.support.portal import Portal, add_subscriber, client_for, portal_app, serve

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "operator-token-0123456789"
SUBSCRIBER = [{"apiKey": []}, {"apiKeyHeader": []}]
OPERATOR = [{"operatorToken": []}, {"operatorTokenHeader": []}]
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    async with portal_app(tmp_path / "var", admin_token=TOKEN) as app:
        yield app


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def test_the_schemes(portal: Portal) -> None:
    schemes = portal.app.openapi()["components"]["securitySchemes"]
    assert schemes["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["apiKey"]["description"],
    }
    assert schemes["operatorToken"]["type"] == "http"
    assert schemes["operatorToken"]["scheme"] == "bearer"
    for name in ("apiKeyHeader", "operatorTokenHeader"):
        assert (schemes[name]["type"], schemes[name]["in"], schemes[name]["name"]) == (
            "apiKey",
            "header",
            "X-API-Key",
        )
    assert "REGWATCH_ADMIN_TOKEN" in schemes["operatorToken"]["description"]
    assert "Authorization: Bearer" in schemes["apiKey"]["description"]


def test_no_operation_takes_credentials_as_header_parameters(portal: Portal) -> None:
    for method, path, operation in operations(portal.app.openapi()):
        headers = {
            p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"
        }
        assert not headers & {"authorization", "x-api-key"}, f"{method} {path}"


def test_each_operation_lists_the_security_it_needs(portal: Portal) -> None:
    document = portal.app.openapi()
    security = {(m, p): op["security"] for m, p, op in operations(document)}
    # operator routes: the operator token only
    for route in (("POST", "/v1/notices"), ("POST", "/v1/subscribers")):
        assert security[route] == OPERATOR, route
    # reading notices: a subscriber's key or the operator token
    assert security[("GET", "/v1/notices")] == SUBSCRIBER + OPERATOR
    assert security[("GET", "/v1/notices/{notice_id}")] == SUBSCRIBER + OPERATOR
    for route in (
        ("GET", "/v1/subscribers/me"),
        ("GET", "/v1/watches"),
        ("GET", "/v1/deliveries"),
        ("POST", "/v1/webhook/secret/rotate"),
        ("GET", "/v1/channels"),
    ):
        assert security[route] == SUBSCRIBER, route
    # public: explicitly none
    for route in (
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/docs/asyncapi.json"),
        ("GET", "/v1/unsubscribe/{token}"),
        ("POST", "/v1/unsubscribe/{token}"),
        ("POST", "/v1/unsubscribe/{token}/resubscribe"),
        ("GET", "/v1/calendar/{token}.ics"),
    ):
        assert security[route] == [], route
    # and throughout: a route that answers 401 needs a credential, one that does not, none
    for method, path, operation in operations(document):
        needs = "401" in operation["responses"]
        assert bool(operation["security"]) is needs, f"{method} {path}"
        for requirement in operation["security"]:
            assert set(requirement) <= set(document["components"]["securitySchemes"])


def test_licence_is_pyproject_s(portal: Portal) -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    spdx = declared["text"] if isinstance(declared, dict) else declared
    info = portal.app.openapi()["info"]
    assert info["license"] == LICENSE
    assert info["license"]["identifier"] == spdx


async def test_servers_name_the_public_url(tmp_path: Path) -> None:
    async with portal_app(tmp_path / "var", public_url="https://alerts.example.com/") as portal:
        assert portal.app.openapi()["servers"][0]["url"] == "https://alerts.example.com"
        async with client_for(portal.app, "http://127.0.0.1:9999") as client:
            served = (await client.get("/openapi.json")).json()
    assert [s["url"] for s in served["servers"]] == ["https://alerts.example.com"]
    assert served["servers"][0]["description"] == "REGWATCH_PUBLIC_URL"


async def test_servers_name_the_listening_address_without_a_public_url(portal: Portal) -> None:
    async with serve(portal.app) as url, httpx.AsyncClient(base_url=url) as client:
        answer = await client.get("/openapi.json", headers={"host": "evil.example.com"})
    assert answer.status_code == 200
    [server] = answer.json()["servers"]
    assert server["url"] == url  # the socket's address, not the Host header
    assert "REGWATCH_PUBLIC_URL is not set" in server["description"]


async def test_credentials_still_work_both_ways(portal: Portal) -> None:
    _id, key = await add_subscriber(portal.db)
    async with client_for(portal.app) as client:
        for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
            assert (await client.get("/v1/subscribers/me", headers=headers)).status_code == 200
        missing = await client.get("/v1/subscribers/me", headers={"Authorization": f"Basic {key}"})
        assert missing.status_code == 401
        assert missing.json() == {
            "detail": "missing API key: send 'Authorization: Bearer <api_key>'"
        }
        wrong = await client.get("/v1/subscribers/me", headers={"X-API-Key": "nope"})
        assert (wrong.status_code, wrong.json()) == (401, {"detail": "unknown API key"})
        body = {"name": "Other", "email": "other@example.com"}
        for headers in ({"Authorization": f"Bearer {TOKEN}"}, {"X-API-Key": TOKEN}):
            made = await client.post("/v1/subscribers", json=body, headers=headers)
            assert made.status_code == 201, made.text
            assert (await client.get("/v1/notices", headers=headers)).status_code == 200
        refused = await client.post("/v1/subscribers", json=body, headers={"X-API-Key": key})
        assert refused.status_code == 401
        assert (await client.get("/v1/notices", headers={"X-API-Key": key})).status_code == 200


def redocly() -> list[str]:
    """The command running @redocly/cli from the npm cache, or skip saying why not."""
    if shutil.which("node") is None or shutil.which("npx") is None:
        pytest.skip("Node.js (node, npx) is not installed: the OpenAPI lint needs @redocly/cli")
    command = ["npx", "--offline", "--yes", "@redocly/cli"]
    found = subprocess.run(
        [*command, "--version"], capture_output=True, text=True, timeout=300, check=False
    )
    if found.returncode != 0:
        pytest.skip(
            "@redocly/cli cannot be resolved offline (run `npx @redocly/cli --version` once "
            f"with the npm registry reachable): {found.stderr.strip()[-200:]}"
        )
    return command


def test_redocly_lint_finds_no_error(portal: Portal, tmp_path: Path) -> None:
    command = redocly()
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(portal.app.openapi()))
    linted = subprocess.run(
        [*command, "lint", str(document), "--format=json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert linted.returncode == 0, linted.stdout[-4000:] + linted.stderr[-2000:]
    report = json.loads(linted.stdout[linted.stdout.index("{") :])
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert errors == [] and report["totals"]["errors"] == 0
