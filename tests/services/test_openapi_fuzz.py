"""Fuzz the HTTP API regwatch serves against its own ``/openapi.json`` (schemathesis).

The app is the one ``regwatch run`` serves (``Runtime.http_app`` with all three services'
routers) on a temporary SQLite database, with a Kafka broker that is never connected: the HTTP
routes only write to the database (outbox rows), so no broker is needed, and ``/readyz``
reports the broker as down. Every generated request must get no 5xx, only status codes the
document declares for its route, and a body of the declared media type and schema.

One test sends a valid credential with every request (the operator token on operator routes,
a subscriber's API key elsewhere) so the routes get past authentication; a shorter one keeps
the generated (missing or wrong) auth headers, so the 401 answers are held to the document too.
Generation is derandomized: a run is reproducible, and a failure prints its curl command.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.python import asgi

from services.ingestor.api import DOCX
from services.runtime import Runtime, build_services
from shared.broker import make_broker
from shared.db import Database
from shared.db.engine import upgrade
from shared.settings import Settings

ADMIN_TOKEN = "fuzz-operator-token-0123456789"
# Routes behind the operator token (``require_admin``); the others take a subscriber's key.
ADMIN_ROUTES = frozenset({("POST", "/v1/notices"), ("POST", "/v1/subscribers")})
ROTATE_KEY = ("POST", "/v1/subscribers/me/api-keys/rotate")
NOWHERE = "127.0.0.1:1"  # nothing listens there: no broker, no SMTP server
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
EXAMPLES_PER_ROUTE = 25
EXAMPLES_WITHOUT_AUTH = 5

# .docx uploads go as the raw bytes generated for them (schemathesis has no serializer for it).
schemathesis.serializer.alias(DOCX, "application/octet-stream")


def build_app(data_dir: Path) -> tuple[FastAPI, Database]:
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'regwatch.db'}",
        kafka_bootstrap=NOWHERE,
        smtp_host="127.0.0.1",
        smtp_port=1,
        admin_token=ADMIN_TOKEN,
        max_notice_bytes=20_000,
    )
    db = Database(settings.sqlalchemy_url)
    broker = make_broker(settings, NOWHERE)
    smtp = ("127.0.0.1", 1)
    services = build_services(settings, db, broker, smtp)  # registered, never started
    runtime = Runtime(settings, services=services, db=db, broker=broker, smtp=smtp)
    app = runtime.http_app()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Ends on the event loop schemathesis sends every request on, where the engine's
        # connections were made.
        try:
            yield
        finally:
            for service in services:
                with contextlib.suppress(Exception):
                    await service.stop()
            await db.dispose()

    app.router.lifespan_context = lifespan
    return app, db


DATA_DIR = Path(tempfile.mkdtemp(prefix="regwatch-fuzz-"))
atexit.register(shutil.rmtree, DATA_DIR, ignore_errors=True)
APP, DB = build_app(DATA_DIR)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


class Keys:
    """The subscriber's API key; a case that rotates it hands the new one on."""

    api_key = ""


@pytest.fixture(scope="module", autouse=True)
def subscriber() -> Iterator[None]:
    """Migrate the database and create a subscriber through the API itself."""
    upgrade(DB.url)
    create = schema["/v1/subscribers"]["POST"].Case(
        body={"name": "Fuzz", "email": "fuzz@example.com"},
        headers={"X-API-Key": ADMIN_TOKEN},
        media_type="application/json",
    )
    made = create.call()
    assert made.status_code == 201, made.text
    Keys.api_key = made.json()["api_key"]
    try:
        yield
    finally:
        asgi.shutdown_lifespans()
        shutil.rmtree(DATA_DIR, ignore_errors=True)


def _settings(examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )


def _validate(case: schemathesis.Case, response: schemathesis.Response) -> None:
    checks = list(CHECKS)
    if (case.method.upper(), case.path) == ("GET", "/readyz"):
        checks.remove(not_a_server_error)  # 503 is its documented answer while the broker is down
    case.validate_response(response, checks=checks)


@schema.parametrize()
@_settings(EXAMPLES_PER_ROUTE)
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case) -> None:
    """With a valid credential: the operator token or the subscriber's API key."""
    route = (case.method.upper(), case.path)
    case.headers.pop("Authorization", None)  # one credential per request: the right one
    case.headers["X-API-Key"] = ADMIN_TOKEN if route in ADMIN_ROUTES else Keys.api_key
    response = case.call()
    if route == ROTATE_KEY and response.status_code == 200:
        Keys.api_key = response.json()["api_key"]  # before validating: the old key is gone
    _validate(case, response)


@schema.parametrize()
@_settings(EXAMPLES_WITHOUT_AUTH)
def test_api_without_credentials_conforms_too(case: schemathesis.Case) -> None:
    """With the generated (missing or wrong) auth headers: 401s must be documented as well."""
    _validate(case, case.call())
