"""The portal for tests: regwatch's whole HTTP app (every service's routers, the portal, the
API docs) on SQLite in a temporary folder, without a broker.

The services are built as ``regwatch run`` builds them but never started (their Kafka
handlers are registered on a broker that is never connected), so the pages and the API answer
as they do in production while nothing consumes or publishes. ``serve`` puts the app on a real
socket (uvicorn on 127.0.0.1, a free port) for a browser; ``portal_site`` does both.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from services.runtime import Runtime, build_services
from services.service import Service
from shared import secretbox
from shared.accounts import register_subscriber
from shared.broker import make_broker
from shared.db import Database
from shared.runtime_file import write_runtime_file
from shared.settings import Settings
from tests.support.db import copy_migrated_sqlite

NOWHERE = "127.0.0.1:1"  # no broker listens there: it is never connected
CSRF_IN_PAGE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Portal:
    app: FastAPI
    db: Database
    settings: Settings
    services: list[Service]


@contextlib.asynccontextmanager
async def portal_app(
    data_dir: Path, *, smtp_port: int = 1, **overrides: Any
) -> AsyncIterator[Portal]:
    """regwatch's HTTP app on a fresh SQLite database in ``data_dir``."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "http_port": 0,
        "kafka_bootstrap": NOWHERE,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "log_level": "WARNING",
    }
    values.update(overrides)
    settings = Settings(**values)
    if settings.database_url is None:  # the data dir's SQLite file: a migrated copy
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await copy_migrated_sqlite(settings.data_dir / "regwatch.db")
    secretbox.configure(settings)
    db = Database(settings.sqlalchemy_url)
    await db.migrate()
    broker = make_broker(settings, NOWHERE)
    services = build_services(settings, db, broker, ("127.0.0.1", smtp_port))
    app = Runtime(settings, services=services, db=db, broker=broker).http_app()
    try:
        yield Portal(app, db, settings, services)
    finally:
        for service in services:
            with contextlib.suppress(Exception):
                await service.stop()
        await db.dispose()


async def add_subscriber(
    db: Database,
    name: str = "Risk team",
    email: str | None = "risk@example.com",
    webhook_url: str | None = None,
) -> tuple[str, str]:
    """A new subscriber: (id, API key)."""
    async with db.session() as session:
        created = await register_subscriber(
            session,
            name=name,
            email=email,
            webhook_url=webhook_url,
            reminders=None,
            default_reminders="7d,3d,1d",
            allow_private=True,
        )
    return created.id, created.api_key


def csrf_of(html: str) -> str:
    found = CSRF_IN_PAGE.search(html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


def client_for(app: FastAPI, base_url: str = "http://127.0.0.1:8080") -> httpx.AsyncClient:
    """An HTTP client of the app in-process; forms it posts carry this site's Origin."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=base_url,
        headers={"origin": base_url},
    )


async def sign_in(client: httpx.AsyncClient, api_key: str) -> httpx.Response:
    page = await client.get("/portal/signin")
    return await client.post(
        "/portal/signin", data={"csrf_token": csrf_of(page.text), "api_key": api_key}
    )


@dataclass
class Site:
    """regwatch's app served on a real socket (for a browser)."""

    portal: Portal
    url: str
    data_dir: Path


@contextlib.asynccontextmanager
async def portal_site(data_dir: Path, **overrides: Any) -> AsyncIterator[Site]:
    """:func:`portal_app` served on 127.0.0.1 (a free port), its address in ``runtime.json``
    as ``regwatch run`` writes it (so ``regwatch portal link`` prints links to it)."""
    async with portal_app(data_dir, **overrides) as portal, serve(portal.app) as url:
        write_runtime_file(data_dir, {"http": url})
        yield Site(portal, url, data_dir)


@contextlib.asynccontextmanager
async def serve(app: FastAPI, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve ``app`` on ``host`` and a free port; yields its base URL."""
    config = uvicorn.Config(
        app, host=host, port=0, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the test HTTP server did not start")
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
