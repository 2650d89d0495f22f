"""The ingestor as a runnable service: HTTP intake, the outbox relay and the feed schedule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faststream.kafka import KafkaBroker

from services.ingestor import extraction
from services.ingestor.feeds import FeedPoller, FeedScheduler, Fetcher
from services.ingestor.feeds.attachments import AttachmentLimits
from services.ingestor.feeds.scheduler import MAX_TICK
from services.ingestor.relay import OutboxRelay
from shared.db import Database
from shared.outbox import RelayLoop
from shared.settings import Settings

if TYPE_CHECKING:
    from fastapi import APIRouter


class IngestorService:
    name = "ingestor"

    def __init__(self, settings: Settings, db: Database, broker: KafkaBroker) -> None:
        extraction.configure(settings)  # workers start on the first notice read
        self.relay = OutboxRelay(db, broker, settings.topics)
        self.fetcher = Fetcher.from_settings(settings)
        self.poller = FeedPoller(
            db,
            self.fetcher,
            default_schedule=settings.default_poll_schedule,
            on_ingested=self.relay.kick,
            attachments=AttachmentLimits.from_settings(settings),
        )
        tick = min(MAX_TICK, settings.default_poll_schedule.every.total_seconds())
        self.feeds = FeedScheduler(self.poller, tick=tick)

    def routers(self) -> list[APIRouter]:
        # imported here: the runtime builds the HTTP app in a thread while the consumers join
        from services.ingestor import notices_api, portal_notices, sources_api
        from services.ingestor.api import build_router

        return [
            build_router(self.relay),
            notices_api.build_router(),
            sources_api.build_router(),
            portal_notices.build_router(),
        ]

    def outboxes(self) -> list[RelayLoop[Any]]:
        return [self.relay]

    async def start(self) -> None:
        await self.relay.publish_pending()
        self.relay.start()
        self.feeds.start()

    async def stop(self) -> None:
        await self.feeds.stop()
        await self.relay.stop()
        await self.fetcher.aclose()
        extraction.shutdown()
