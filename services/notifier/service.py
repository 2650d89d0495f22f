"""The notifier as a runnable service: match and watchlist handlers, dispatcher, reminder
scheduler, and its HTTP routes."""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any

from faststream.kafka import KafkaBroker

from services.notifier.dispatcher import Dispatcher
from services.notifier.email import EmailSender
from services.notifier.handler import register
from services.notifier.scheduler import ReminderScheduler
from services.notifier.tracking import Reminder
from services.notifier.webhook import WebhookSender
from shared.db import Database
from shared.events import DeliveryEvent
from shared.group_offsets import GroupMove
from shared.logging import get_logger
from shared.outbox import RelayLoop
from shared.settings import Settings

if TYPE_CHECKING:
    from fastapi import APIRouter

WATCHLIST_GROUP = "notifier-watchlist"
"""The watchlist subscriber's group (``regwatch-notifier-watchlist``): before, it shared
``regwatch-notifier`` with the matches subscriber."""


log = get_logger("regwatch.notifier.dispatcher")


def _acknowledged(alert_id: str, sent: asyncio.Future[Any]) -> None:
    """A delivery outcome's acknowledgement from Kafka: a failure is logged, as an awaited
    publish's was (the ledger has the outcome)."""
    if sent.cancelled():
        log.error(
            "delivery outcome not published (cancelled); the ledger has it",
            extra={"alert_id": alert_id},
        )
        return
    error = sent.exception()
    if error is not None:
        log.error(
            "could not publish the delivery outcome; the ledger has it",
            extra={"alert_id": alert_id},
            exc_info=error,
        )


class NotifierService:
    name = "notifier"

    def __init__(
        self, settings: Settings, db: Database, broker: KafkaBroker, smtp: tuple[str, int]
    ) -> None:
        self.settings = settings
        self.broker = broker
        self.webhooks = WebhookSender.from_settings(settings)
        self.email = EmailSender(
            host=smtp[0],
            port=smtp[1],
            username=settings.smtp_username,
            password=settings.smtp_password,
            tls=settings.smtp_tls,
            timeout=settings.webhook_timeout,
            connections=settings.smtp_connections,
        )
        self.dispatcher = Dispatcher(db, settings, self.webhooks, self.email, self.publish_outcome)
        self.reminders = ReminderScheduler(
            db, settings.reminder_interval, on_fired=self.dispatcher.kick, settings=settings
        )
        register(
            broker,
            db,
            settings,
            settings.group_id(self.name),
            self.on_created,
            watchlist_group_id=settings.group_id(WATCHLIST_GROUP),
        )
        self.group_moves = [
            GroupMove(
                settings.topics.watchlist,
                old=settings.group_id(self.name),
                new=settings.group_id(WATCHLIST_GROUP),
            )
        ]
        """Where a group of an earlier version's consumer starts (see the runtime)."""

    def on_created(self, deliveries: list[str], reminders: list[Reminder]) -> None:
        if deliveries:
            self.dispatcher.kick()
        self.reminders.schedule(reminders)

    async def publish_outcome(self, event: DeliveryEvent) -> None:
        """Hand the outcome to the producer without waiting for Kafka's acknowledgement
        (``no_confirm``): awaiting it held each delivery's task for a broker round trip. A
        failure to enqueue raises here as before; one after (the broker refused the batch) is
        logged from the acknowledgement's callback with the alert id. ``broker.stop()`` (after
        the dispatcher stopped) flushes what is still queued (aiokafka's producer ``stop``)."""
        sent = await self.broker.publish(
            event.dump(),
            topic=self.settings.topics.deliveries,
            key=event.subscriber_id.encode(),
            headers={
                "x-regwatch-alert-id": event.delivery_id,
                "x-regwatch-notice-id": event.notice_id,
            },
            no_confirm=True,
        )
        if isinstance(sent, asyncio.Future):  # the test broker's producer returns nothing
            sent.add_done_callback(functools.partial(_acknowledged, event.delivery_id))

    def routers(self) -> list[APIRouter]:
        # imported here: the runtime builds the HTTP app in a thread while the consumers join
        from services.notifier.api import build_router
        from services.notifier.portal_channels import build_router as build_portal_channels
        from services.notifier.portal_common import asset_router as portal_assets
        from services.notifier.portal_deadlines import build_router as build_portal_deadlines
        from services.notifier.portal_delivery import build_router as build_portal_delivery
        from services.notifier.portal_signin import build_router as build_portal_signin_router
        from services.notifier.targets_api import build_targets_router
        from services.notifier.unsubscribe import build_router as build_unsubscribe_router

        return [
            build_router(),
            build_unsubscribe_router(),
            build_targets_router(lambda: self.dispatcher.senders),
            build_portal_signin_router(self.email, self.settings),
            build_portal_deadlines(self.settings),
            build_portal_delivery(self.webhooks, self.settings, self.dispatcher.kick),
            build_portal_channels(lambda: self.dispatcher.senders),
            portal_assets(),
        ]

    def outboxes(self) -> list[RelayLoop[Any]]:
        return []

    async def start(self) -> None:
        self.dispatcher.start()
        self.reminders.start()

    async def stop(self) -> None:
        self.reminders.stop()
        await self.dispatcher.stop()
        await self.webhooks.aclose()
        await self.email.aclose()
