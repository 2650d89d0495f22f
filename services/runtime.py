"""The embeddable app: starts the chosen services in one process with their real parts.

With no settings it starts the embedded pieces too: the Tansu broker, SQLite under the data
dir and a local mail sink. With settings it talks to the broker, database and SMTP server they
name. ``regwatch run`` is a thin CLI over this class; tests use it directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from services.ingestor.service import IngestorService
from services.matcher.service import MatcherService
from services.notifier.service import NotifierService
from services.service import Service
from shared.broker import make_broker
from shared.db import Database
from shared.db.engine import describe_url
from shared.embedded.mailsink import MailSink
from shared.embedded.tansu import TansuBroker
from shared.kafka_admin import ensure_topics
from shared.logging import get_logger
from shared.runtime_file import remove_runtime_file, write_runtime_file
from shared.settings import Settings

log = get_logger("regwatch.runtime")

SERVICE_NAMES = ("ingestor", "matcher", "notifier")


@dataclass
class Runtime:
    settings: Settings
    only: Sequence[str] = SERVICE_NAMES
    services: list[Service] = field(default_factory=list)
    bootstrap: str = ""
    http_url: str = ""
    tansu: TansuBroker | None = None
    mailsink: MailSink | None = None
    db: Database | None = None
    broker: KafkaBroker | None = None
    _server: uvicorn.Server | None = None
    _server_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        unknown = sorted(set(self.only) - set(SERVICE_NAMES))
        if unknown:
            raise ValueError(f"unknown service(s) {unknown}: choose from {list(SERVICE_NAMES)}")
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        idempotent = settings.kafka_idempotence
        if settings.kafka_bootstrap:
            self.bootstrap = settings.kafka_bootstrap
        else:
            self.tansu = TansuBroker(log_dir=settings.data_dir / "tansu")
            await self.tansu.start()
            self.bootstrap = self.tansu.bootstrap
            idempotent = False
        smtp = (settings.smtp_host or "", settings.smtp_port)
        if settings.smtp_host is None and "notifier" in self.only:
            self.mailsink = MailSink(settings.mail_dir)
            await self.mailsink.start()
            smtp = (self.mailsink.host, self.mailsink.port)
        self.db = Database(settings.sqlalchemy_url)
        await self.db.migrate()
        await ensure_topics(self.bootstrap, settings.topics.all(), settings.kafka_partitions)
        self.broker = make_broker(settings, self.bootstrap, idempotent=idempotent)
        for name in SERVICE_NAMES:
            if name not in self.only:
                continue
            if name == "ingestor":
                self.services.append(IngestorService(settings, self.db, self.broker))
            elif name == "matcher":
                self.services.append(MatcherService(settings, self.db, self.broker))
            else:
                self.services.append(NotifierService(settings, self.db, self.broker, smtp))
        await self.broker.start()
        for service in self.services:
            await service.start()
        await self._serve_http()
        self._write_runtime_file()
        log.info("regwatch started", extra=self.describe())

    def http_app(self) -> FastAPI:
        app = FastAPI(
            title="regwatch",
            version="0.1.0",
            description="Alerts when regulators name the apps and companies you watch.",
        )
        app.state.settings = self.settings
        app.state.db = self.db

        @app.get("/healthz", tags=["ops"])
        async def healthz() -> dict[str, Any]:
            return {"status": "ok", "services": [s.name for s in self.services]}

        for service in self.services:
            for router in service.routers():
                app.include_router(router)
        return app

    async def _serve_http(self) -> None:
        config = uvicorn.Config(
            self.http_app(),
            host=self.settings.http_host,
            port=self.settings.http_port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._server_task = asyncio.create_task(self._server.serve(), name="http")
        while not self._server.started:
            if self._server_task.done():
                self._server_task.result()
                raise RuntimeError(
                    f"HTTP server did not start on {self.settings.http_host}:"
                    f"{self.settings.http_port}"
                )
            await asyncio.sleep(0.02)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.http_url = f"http://{self.settings.http_host}:{port}"

    def describe(self) -> dict[str, Any]:
        return {
            "services": [s.name for s in self.services],
            "kafka_bootstrap": self.bootstrap,
            "kafka": "embedded Tansu (memory only)" if self.tansu else "external",
            "database": describe_url(self.settings.sqlalchemy_url),
            "http": self.http_url,
            "smtp": (
                f"embedded mail sink {self.mailsink.host}:{self.mailsink.port}"
                if self.mailsink
                else f"{self.settings.smtp_host}:{self.settings.smtp_port}"
            ),
            "mail_dir": str(self.settings.mail_dir.resolve()) if self.mailsink else None,
            "topics": self.settings.topics.all(),
        }

    def _write_runtime_file(self) -> None:
        write_runtime_file(self.settings.data_dir, self.describe())

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._server_task is not None:
            try:
                await self._server_task
            except Exception:
                log.exception("HTTP server stopped with an error")
        for service in reversed(self.services):
            try:
                await service.stop()
            except Exception:
                log.exception("service did not stop cleanly", extra={"service": service.name})
        if self.broker is not None:
            await self.broker.stop()
        if self.db is not None:
            await self.db.dispose()
        if self.mailsink is not None:
            await self.mailsink.stop()
        if self.tansu is not None:
            await self.tansu.stop()
        remove_runtime_file(self.settings.data_dir)
