"""The matcher as a runnable service."""

from __future__ import annotations

from fastapi import APIRouter
from faststream.kafka import KafkaBroker

from services.matcher.api import build_router
from services.matcher.handler import register
from shared.db import Database
from shared.settings import Settings


class MatcherService:
    name = "matcher"

    def __init__(self, settings: Settings, db: Database, broker: KafkaBroker) -> None:
        register(broker, db, settings.topics, settings.group_id(self.name))

    def routers(self) -> list[APIRouter]:
        return [build_router()]

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
