"""Webhooks: one signed POST per alert (Standard Webhooks, ``services.notifier.webhook``).

Each URL is its own queue (``per_endpoint`` at once). Stored per delivery: the exact body sent.
An endpoint that answers ``410 Gone`` is disabled for its subscriber (``endpoints.py``): new
deliveries to it are recorded as failed at once, and replaying one turns it back on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.alerts import Alert, Context
from services.notifier.channels.base import Channel, Senders, SendResult, Target, failed
from services.notifier.endpoints import GONE, disable_endpoint, enable_endpoint
from services.notifier.models import DeliveryRow, PreferencesRow
from services.notifier.payloads import DIGEST, digest_data, webhook_body
from services.notifier.preferences import webhook_disabled
from services.notifier.webhook_secrets import signing_secrets
from shared.accounts import Subscriber
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger("regwatch.notifier.webhook")

DISABLED = f"{GONE}: disabled after it answered 410 Gone"


class WebhookChannel(Channel):
    name: ClassVar[str] = "webhook"
    takes_secret: ClassVar[bool] = False

    def refusal(self, target: str, ctx: Context) -> str | None:
        return DISABLED if webhook_disabled(ctx.prefs, target) else None

    def render(self, alert: Alert, ctx: Context, target: Target) -> str:
        return webhook_body(alert.type, alert.data, ctx.now).decode()

    def render_digest(
        self, ctx: Context, target: Target, why: str, alerts: list[dict[str, Any]]
    ) -> str:
        data = digest_data(ctx.subscriber.id, why, alerts, ctx.now)
        return webhook_body(DIGEST, data, ctx.now).decode()

    def queue(self, target: str) -> str:
        return target

    async def send(self, row: DeliveryRow, senders: Senders) -> SendResult:
        now = datetime.now(UTC)
        async with senders.db.read_session() as session:
            subscriber = await session.get(Subscriber, row.subscriber_id)
            prefs = await session.get(PreferencesRow, row.subscriber_id)
            keys = await signing_secrets(session, subscriber, now) if subscriber else []
        if subscriber is None:
            return failed("subscriber gone")
        if prefs is not None and prefs.webhook_disabled_url == row.target:
            return failed(DISABLED)
        if not keys:
            return failed("no webhook secret to sign with")
        return await senders.http.send(row.target, row.id, row.payload.encode(), keys)

    async def after_attempt(
        self,
        session: AsyncSession,
        row: DeliveryRow,
        result: SendResult,
        settings: Settings,
        now: datetime,
    ) -> list[str]:
        if result.status_code != 410:
            return []
        notices = await disable_endpoint(
            session,
            settings,
            row.subscriber_id,
            row.target,
            result.error or "HTTP 410 Gone",
            now,
            except_id=row.id,
        )
        log.warning("webhook endpoint disabled after 410 Gone", extra={"notices": notices})
        return notices

    async def before_replay(self, session: AsyncSession, row: DeliveryRow, now: datetime) -> None:
        prefs = await session.get(PreferencesRow, row.subscriber_id)
        if prefs is not None and prefs.webhook_disabled_url == row.target:
            await enable_endpoint(session, row.subscriber_id, now)
