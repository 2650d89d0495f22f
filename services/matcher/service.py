"""The matcher as a runnable service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from faststream.kafka import KafkaBroker

from services.matcher.handler import register
from services.matcher.relay import OutboxRelay
from services.matcher.retro import register_retro
from services.matcher.watchlist import LiveWatchlist, register_live_updates
from shared.db import Database
from shared.outbox import RelayLoop
from shared.settings import Settings

if TYPE_CHECKING:
    from fastapi import APIRouter


class MatcherService:
    name = "matcher"

    def __init__(self, settings: Settings, db: Database, broker: KafkaBroker) -> None:
        topics = settings.topics
        self.relay = OutboxRelay(db, broker, topics)
        self.watchlist = LiveWatchlist(db)
        register(
            broker,
            db,
            topics,
            settings.group_id(self.name),
            self.watchlist,
            self.relay.kick,
            scope=settings.retro_match,
            days=settings.retro_days,
        )
        register_live_updates(broker, topics, self.watchlist)
        if settings.retro_match != "off":
            register_retro(
                broker,
                db,
                topics,
                settings.group_id("matcher-retro"),
                settings.retro_match,
                settings.retro_days,
                self.relay.kick,
            )

    def routers(self) -> list[APIRouter]:
        # imported here: the runtime builds the HTTP app in a thread while the consumers join
        from services.matcher.api import build_router
        from services.matcher.portal import build_portal_routers

        return [build_router(self.relay.kick), *build_portal_routers(self.relay.kick)]

    def outboxes(self) -> list[RelayLoop[Any]]:
        return [self.relay]

    async def start(self) -> None:
        await self.watchlist.load()
        self.watchlist.start()
        await self.relay.publish_pending()
        self.relay.start()

    async def stop(self) -> None:
        await self.relay.stop()
        await self.watchlist.stop()
