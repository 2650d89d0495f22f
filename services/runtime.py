"""The embeddable app: starts the chosen services in one process with their real parts.

With no settings it starts the embedded pieces too: the Tansu broker, SQLite under the data
dir and a local mail sink. With settings it talks to the broker, database and SMTP server they
name. ``regwatch run`` is a thin CLI over this class; tests use it directly.

Without ``REGWATCH_ADMIN_TOKEN`` the operator routes are open: start-up logs a warning naming
them, and refuses (``ExposedOperatorRoutes``) unless the HTTP host is a loopback address.

Every process serves ``/docs`` and ``/redoc`` (the API documentation, offline: see
``shared/apidocs.py``), the subscriber portal at ``/portal/`` (``shared/portal/``),
``/healthz`` (alive), ``/readyz`` (broker, database and, with the
notifier, SMTP reachable), ``/metrics`` (Prometheus) and the AsyncAPI document of all topics
at ``/docs/asyncapi`` (HTML) and ``/docs/asyncapi.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from services.early_consumers import declare_early_consumers
from shared import secretbox
from shared.broker import ConcurrentStartBroker, make_broker
from shared.embedded.tansu import CONSUMER_OPTIONS as TANSU_CONSUMER_OPTIONS
from shared.embedded.tansu import TansuBroker
from shared.exposure import check_admin_exposure
from shared.kafka_admin import ensure_topics
from shared.logging import get_logger
from shared.metrics import intake_source
from shared.public_url import warn_public_url
from shared.runtime_file import remove_runtime_file, write_runtime_file
from shared.settings import Settings

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI
    from faststream.kafka import KafkaBroker
    from faststream.specification import Specification
    from starlette.types import ASGIApp, Receive, Scope, Send

    from services.service import Service
    from shared.db import Database
    from shared.embedded.mailsink import MailSink
    from shared.ops.health import Check
    from shared.ops.lag import LagMonitor

# Imported by ``regwatch run`` only once its consumers are joining their groups (``Runtime``):
# the services, the database layer, the mail sink and the HTTP side.
HEAVY_MODULES = (
    "services.ingestor.service",
    "services.matcher.service",
    "services.notifier.service",
    "shared.db",
    "shared.db.engine",
    "shared.embedded.mailsink",
    "shared.group_offsets",
    "shared.http",
    "shared.ops.health",
    "shared.ops.lag",
    "shared.outbox_confirm",
    "uvicorn",
)


def import_heavy() -> None:
    """Import :data:`HEAVY_MODULES` (in a thread while the consumers join)."""
    import importlib

    for name in HEAVY_MODULES:
        importlib.import_module(name)


log = get_logger("regwatch.runtime")

SERVICE_NAMES = ("ingestor", "matcher", "notifier")
VERSION = "0.1.0"


def build_services(
    settings: Settings,
    db: Database,
    broker: KafkaBroker,
    smtp: tuple[str, int],
    only: Sequence[str] = SERVICE_NAMES,
) -> list[Service]:
    """The chosen services, their handlers registered on ``broker``, in a fixed order."""
    from services.ingestor.service import IngestorService
    from services.matcher.service import MatcherService
    from services.notifier.service import NotifierService

    services: list[Service] = []
    for name in SERVICE_NAMES:
        if name not in only:
            continue
        if name == "ingestor":
            services.append(IngestorService(settings, db, broker))
        elif name == "matcher":
            services.append(MatcherService(settings, db, broker))
        else:
            services.append(NotifierService(settings, db, broker, smtp))
    return services


@contextlib.asynccontextmanager
async def offline_broker(
    settings: Settings, bootstrap: str | None = None
) -> AsyncIterator[KafkaBroker]:
    """A broker with all three services' handlers registered, never connected (for the
    AsyncAPI document and for knowing which group reads which topic)."""
    from shared.db import Database

    server = bootstrap or settings.kafka_bootstrap or "localhost:9092"
    broker = make_broker(settings, server)
    db = Database("sqlite+aiosqlite:///:memory:")
    smtp = (settings.smtp_host or "localhost", settings.smtp_port)
    services = build_services(settings, db, broker, smtp)
    try:
        yield broker
    finally:
        for service in services:
            with contextlib.suppress(Exception):
                await service.stop()
        await db.dispose()


async def spec_document(settings: Settings, bootstrap: str | None = None) -> Specification:
    """The AsyncAPI document of all three services plus the topic contracts."""
    from shared.ops.asyncapi import document

    async with offline_broker(settings, bootstrap) as broker:
        return document(broker, settings.topics, version=VERSION)


async def all_subscriptions(settings: Settings) -> dict[str, list[str]]:
    """Consumer group -> topics of all three services."""
    from shared.ops.lag import subscriptions

    async with offline_broker(settings) as broker:
        return subscriptions(broker)


async def _all_done(*steps: Awaitable[object]) -> None:
    """Run ``steps`` together and wait for every one of them, also when one fails (a step
    left running would outlive ``Runtime.stop``); then raise the first failure."""
    results = await asyncio.gather(*steps, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


class IntakeSourceMiddleware:
    """Notices ingested through HTTP count as ``source="http"`` in regwatch_notices_*."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with intake_source("http"):
            await self.app(scope, receive, send)


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
    smtp: tuple[str, int] | None = None
    lag: LagMonitor | None = None
    _spec: Specification | None = None
    _app: FastAPI | None = None
    _server: uvicorn.Server | None = None
    _server_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start everything; the summary is true once this returns and ``/readyz`` answers.

        On the embedded broker the broker starts at once and the consumer groups join (Tansu
        holds each join about a second) while the services, the database layer and the HTTP
        side are imported in a thread (``services/early_consumers.py`` declares the groups
        without importing the services); then the database migrates and the HTTP app is
        built, each in a thread. Its log is in memory, so nothing can reach a consumer before
        the services start, and no consumer reads before then (its consume loop starts after
        the migration). With an external broker the database is migrated first, as the
        consumers may have messages waiting, and the consumers join while the HTTP app is
        built. The HTTP server is started last."""
        unknown = sorted(set(self.only) - set(SERVICE_NAMES))
        if unknown:
            raise ValueError(f"unknown service(s) {unknown}: choose from {list(SERVICE_NAMES)}")
        settings = self.settings
        check_admin_exposure(settings)  # before anything starts
        warn_public_url(settings)  # once: what an unset or http REGWATCH_PUBLIC_URL breaks
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if settings.kafka_bootstrap or settings.database_url is not None:
            secretbox.configure(settings)  # first: no keys for an external database, no start
        if settings.kafka_bootstrap:
            self.bootstrap = settings.kafka_bootstrap
            import_heavy()
            await self._build(self._make_broker(idempotent=settings.kafka_idempotence))
            assert self.db is not None
            await self.db.migrate()
            await _all_done(self._start_consumers(), self._build_app())
        else:
            await self._start_embedded()
        for service in self.services:
            await service.start()
        from shared.ops.lag import LagMonitor, subscriptions

        assert self.broker is not None
        groups = subscriptions(self.broker)
        if groups:
            self.lag = LagMonitor(self.bootstrap, groups, settings.lag_interval)
            self.lag.start()
        await self._serve_http()
        self._write_runtime_file()
        log.info("regwatch started", extra=self.describe())

    async def _start_embedded(self) -> None:
        """The embedded broker's start: its consumers join while the rest is imported."""
        settings = self.settings
        self.tansu = TansuBroker(log_dir=settings.data_dir / "tansu")
        self.tansu.spawn()  # its port is known now; it answers while the rest starts
        self.bootstrap = self.tansu.bootstrap
        broker = self._make_broker(idempotent=False, consumer_options=TANSU_CONSUMER_OPTIONS)
        declare_early_consumers(broker, settings, self.only)
        joins = asyncio.create_task(self._start_early(broker), name="join")
        steps: list[asyncio.Task[None]] = [joins]
        try:
            await asyncio.to_thread(self._prepare)
            await self._build(broker)
            assert self.db is not None
            steps.append(asyncio.create_task(self.db.migrate(), name="migrate"))
            steps.append(asyncio.create_task(self._build_app(), name="http-app"))
            await _all_done(*steps)
        except BaseException:
            # a thread cannot be stopped: let every step finish before the caller stops
            await asyncio.gather(*steps, return_exceptions=True)
            raise
        await broker.start()  # the consume loops, the groupless readers and the producers
        await self._keep_outboxes_until_consumed()

    def _prepare(self) -> None:
        """In a thread while the consumers join: the SQLite file's keys (read or made: the
        database URL is parsed with SQLAlchemy) and the imports of the rest."""
        if self.settings.database_url is None:
            secretbox.configure(self.settings)
        import_heavy()

    def _make_broker(
        self, *, idempotent: bool, consumer_options: dict[str, int] | None = None
    ) -> ConcurrentStartBroker:
        here = [name for name in SERVICE_NAMES if name in self.only]
        app_name = "regwatch" if len(here) == len(SERVICE_NAMES) else "regwatch-" + "-".join(here)
        broker = make_broker(
            self.settings,
            self.bootstrap,
            idempotent=idempotent,
            app_name=app_name,
            service="-".join(here),
            consumer_options=consumer_options,
        )
        self.broker = broker
        return broker

    async def _build(self, broker: ConcurrentStartBroker) -> None:
        """The database, the mail sink (without ``REGWATCH_SMTP_HOST``) and the services with
        their handlers registered on ``broker`` (the imports are done by now)."""
        from shared.db import Database
        from shared.embedded.mailsink import MailSink

        settings = self.settings
        self.db = Database(settings.sqlalchemy_url)
        smtp = (settings.smtp_host or "", settings.smtp_port)
        if settings.smtp_host is None and "notifier" in self.only:
            self.mailsink = MailSink(settings.mail_dir)
            await self.mailsink.start()
            smtp = (self.mailsink.host, self.mailsink.port)
        self.smtp = smtp
        self.services = build_services(settings, self.db, broker, smtp, self.only)

    async def _start_early(self, broker: ConcurrentStartBroker) -> None:
        """The embedded broker answering, the topics, then the declared consumers in their
        groups (their messages wait for ``broker.start()``)."""
        assert self.tansu is not None
        await self.tansu.wait_ready()
        await self._ensure_topics()
        await broker.start_early()

    async def _ensure_topics(self) -> None:
        settings = self.settings
        await ensure_topics(
            self.bootstrap,
            settings.topics.all(),
            settings.kafka_partitions,
            replication=settings.kafka_replication,
            configs={"retention.ms": settings.kafka_retention_ms},
        )

    async def _start_consumers(self) -> None:
        """The topics, then every consumer in its group (on an external broker, a group a
        consumer moved to first takes its old group's offsets)."""
        from shared.group_offsets import adopt_offsets

        assert self.broker is not None
        await self._ensure_topics()
        for service in self.services:
            for move in getattr(service, "group_moves", ()):
                await adopt_offsets(self.bootstrap, move)
        await self.broker.start()

    async def _build_app(self) -> None:
        """The HTTP app, built in a thread (the event loop keeps the consumers' group joins
        going); the open-operator-routes warning is logged here, once."""

        from shared.http import warn_open_operator_routes

        def build() -> FastAPI:
            app = self.http_app()
            warn_open_operator_routes(self.settings, app)
            return app

        self._app = await asyncio.to_thread(build)

    async def _keep_outboxes_until_consumed(self) -> None:
        """The embedded broker keeps its log in memory: what it held when the last process
        stopped (or was killed) is gone. The outbox tables serve as its log instead: a row
        stays unconfirmed until every consumer group reading its topic committed past it, and
        what is unconfirmed at start is published again (consumers deduplicate)."""
        from shared.ops.lag import subscriptions
        from shared.outbox_confirm import CommittedOffsets

        groups: dict[str, list[str]] = {}
        readers = (
            subscriptions(self.broker)  # every service's groups are on this broker
            if self.broker is not None and set(self.only) >= set(SERVICE_NAMES)
            else await all_subscriptions(self.settings)
        )
        for group, topics in readers.items():
            for topic in topics:
                groups.setdefault(topic, []).append(group)
        for service in self.services:
            for relay in service.outboxes():
                await relay.requeue_unconfirmed()
                relay.confirm_with(CommittedOffsets(self.bootstrap, groups))

    def http_app(self) -> FastAPI:
        # the HTTP side is imported here, in the thread that builds the app while the consumers
        # join their groups (``start``), not before the consumers can start
        from fastapi import FastAPI, Response
        from fastapi.responses import HTMLResponse, JSONResponse

        from shared.apidocs import install_api_docs
        from shared.body_limit import BodyLimit
        from shared.metrics import CONTENT_TYPE_LATEST, render
        from shared.ops.asyncapi import as_dict, as_html
        from shared.ops.health import readiness
        from shared.portal.app import install_portal

        app = FastAPI(
            title="regwatch",
            version="0.1.0",
            description="Alerts when regulators name the apps and companies you watch.",
            docs_url=None,  # served offline by install_api_docs, not from a CDN
            redoc_url=None,
        )
        install_api_docs(app)
        app.state.settings = self.settings
        app.state.db = self.db

        @app.get("/healthz", tags=["ops"])
        async def healthz() -> dict[str, Any]:
            """Alive, and which services run in this process."""
            return {"status": "ok", "services": [s.name for s in self.services]}

        # response_model=None: these routes return Response objects, and their annotations
        # name classes imported in this function, which FastAPI cannot resolve from the
        # module (``from __future__ import annotations``) when it builds /openapi.json
        @app.get(
            "/readyz",
            tags=["ops"],
            response_model=None,
            responses={
                503: {
                    "description": "not ready: the body names the checks that failed",
                    "content": {"application/json": {}},
                }
            },
        )
        async def readyz() -> JSONResponse:
            """Ready: the broker, the database and (with the notifier) SMTP answer; 503 naming
            what failed otherwise."""
            ready, body = await readiness(self.readiness_checks())
            body["services"] = [s.name for s in self.services]
            return JSONResponse(body, status_code=200 if ready else 503)

        @app.get("/metrics", tags=["ops"], response_class=Response, response_model=None)
        async def metrics() -> Response:
            """Prometheus metrics of this process (``regwatch_*``)."""
            await self.refresh_gauges()
            return Response(render(), media_type=CONTENT_TYPE_LATEST)

        @app.get("/docs/asyncapi.json", tags=["ops"])
        async def asyncapi_json() -> dict[str, Any]:
            """The AsyncAPI document of regwatch's topics (all services)."""
            return as_dict(await self.spec())

        @app.get("/docs/asyncapi", tags=["ops"], response_class=HTMLResponse, response_model=None)
        async def asyncapi_html() -> HTMLResponse:
            """The AsyncAPI document as a page."""
            return HTMLResponse(as_html(await self.spec()))

        for service in self.services:
            for router in service.routers():
                app.include_router(router)
        install_portal(app)  # after the services' routers: its navigation lists their pages
        app.add_middleware(IntakeSourceMiddleware)
        app.add_middleware(BodyLimit, limit=self.settings.max_notice_bytes)
        return app

    def readiness_checks(self) -> dict[str, Check]:
        from shared.ops.health import broker_check, database_check, smtp_check

        checks: dict[str, Check] = {}
        if self.broker is not None:
            checks["broker"] = broker_check(self.broker)
        if self.db is not None:
            checks["database"] = database_check(self.db)
        if self.smtp is not None and "notifier" in self.only:
            host, port = self.smtp
            checks["smtp"] = smtp_check(host, port, implicit_tls=self.settings.smtp_tls == "tls")
        return checks

    async def refresh_gauges(self) -> None:
        """Gauges computed on scrape: the reminder backlog (processes running the notifier)."""
        if self.db is None or "notifier" not in self.only:
            return
        from shared.ops.reminders import update_reminder_backlog

        try:
            await asyncio.wait_for(update_reminder_backlog(self.db), 5)
        except Exception as exc:
            log.warning("reminder backlog not updated: %s: %s", type(exc).__name__, exc)

    async def spec(self) -> Specification:
        if self._spec is None:
            self._spec = await spec_document(self.settings, self.bootstrap)
        return self._spec

    async def _serve_http(self) -> None:
        import uvicorn

        from shared.http import warn_open_operator_routes

        app = self._app
        if app is None:
            app = self.http_app()
            warn_open_operator_routes(self.settings, app)
        config = uvicorn.Config(
            app,
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
                with contextlib.suppress(Exception, SystemExit):  # uvicorn exits on bind errors
                    self._server_task.result()
                raise RuntimeError(
                    f"HTTP server did not start on {self.settings.http_host}:"
                    f"{self.settings.http_port} (port in use? the log above says)"
                )
            await asyncio.sleep(0.02)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.http_url = f"http://{self.settings.http_host}:{port}"

    def describe(self) -> dict[str, Any]:
        from shared.db.engine import describe_url

        return {
            "services": [s.name for s in self.services],
            "kafka_bootstrap": self.bootstrap,
            "kafka": "embedded Tansu (in memory; the outboxes keep events until consumed)"
            if self.tansu
            else "external",
            "database": describe_url(self.settings.sqlalchemy_url),
            "http": self.http_url,
            "portal": f"{self.http_url}/portal/" if self.http_url else None,
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
        """Stop in the order that loses nothing: the HTTP server (no new notices), the
        consumers (each finishes the message in hand and commits), the lag monitor, then each
        service's relays, dispatcher and scheduler (sends in flight finish and are recorded),
        then the broker connection, the database, the mail sink and last the embedded broker."""
        if self._server is not None:
            self._server.should_exit = True
        if self._server_task is not None:
            try:
                await self._server_task
            except (Exception, SystemExit):
                log.exception("HTTP server stopped with an error")
        await self._stop_consumers()
        if self.lag is not None:
            await self.lag.stop()
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
        log.info("regwatch stopped")

    async def _stop_consumers(self) -> None:
        """Stop taking messages before the relays and dispatchers stop (they still publish
        through the broker's producer, closed later by ``broker.stop()``)."""
        if self.broker is None:
            return
        stops = [subscriber.stop() for subscriber in self.broker.subscribers]
        for result in await asyncio.gather(*stops, return_exceptions=True):
            if isinstance(result, Exception):
                log.error("consumer did not stop cleanly", exc_info=result)
