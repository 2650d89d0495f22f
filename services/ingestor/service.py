"""The ingestor as a runnable service."""

from __future__ import annotations

from fastapi import APIRouter
from faststream.kafka import KafkaBroker

from services.ingestor.api import build_router
from services.ingestor.relay import OutboxRelay
from shared.db import Database
from shared.settings import Settings


class IngestorService:
    name = "ingestor"

    def __init__(self, settings: Settings, db: Database, broker: KafkaBroker) -> None:
        self.relay = OutboxRelay(db, broker, settings.topics)

    def routers(self) -> list[APIRouter]:
        return [build_router(self.relay)]

    async def start(self) -> None:
        await self.relay.publish_pending()
        self.relay.start()

    async def stop(self) -> None:
        await self.relay.stop()
