"""Webhooks: one signed POST per alert (Standard Webhooks, ``services.notifier.webhook``).

Each URL is its own queue (``per_endpoint`` at once). Stored per delivery: the exact body sent.
An endpoint that answers ``410 Gone`` is disabled for its subscriber (``endpoints.py``): new
deliveries to it are recorded as failed at once, and replaying one turns it back on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.alerts import Alert, Context
from services.notifier.channels.base import Channel, Senders, SendResult, Target, failed
from services.notifier.endpoints import GONE, disable_endpoint, enable_endpoint
from services.notifier.models import DeliveryRow, PreferencesRow
from services.notifier.payloads import DIGEST, digest_data, webhook_body
from services.notifier.preferences import webhook_disabled
from services.notifier.webhook_secrets import signing_secrets_by_id
from shared.accounts import Subscriber
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger("regwatch.notifier.webhook")

DISABLED = f"{GONE}: disabled after it answered 410 Gone"


@dataclass(frozen=True)
class Signing:
    """What a webhook's send needs, read when it was claimed: the subscriber's signing keys
    (None: the subscriber is gone) and the endpoint disabled after 410, if any."""

    keys: list[str] | None
    disabled_url: str | None


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

    async def prepare(
        self, session: AsyncSession, rows: list[DeliveryRow], senders: Senders
    ) -> None:
        """The claimed rows' subscribers, signing secrets and disabled endpoints, in three
        reads for the whole claim instead of three per request; read as the columns used,
        not as whole subscribers and preferences."""
        ids = sorted({row.subscriber_id for row in rows})
        found = await session.execute(
            select(Subscriber.id, Subscriber.webhook_secret).where(Subscriber.id.in_(ids))
        )
        issued: dict[str, str | None] = {ident: secret for ident, secret in found}
        keys = await signing_secrets_by_id(session, issued, datetime.now(UTC))
        prefs = await session.execute(
            select(PreferencesRow.subscriber_id, PreferencesRow.webhook_disabled_url).where(
                PreferencesRow.subscriber_id.in_(ids)
            )
        )
        disabled: dict[str, str | None] = {ident: url for ident, url in prefs}
        for row in rows:
            senders.prepared[row.id] = Signing(
                keys.get(row.subscriber_id), disabled.get(row.subscriber_id)
            )

    async def send(self, row: DeliveryRow, senders: Senders) -> SendResult:
        ready = senders.prepared.pop(row.id, None)
        if not isinstance(ready, Signing):  # claimed without prepare: read it now
            async with senders.db.read_session() as session:
                await self.prepare(session, [row], senders)
            ready = senders.prepared.pop(row.id)
        if ready.keys is None:
            return failed("subscriber gone")
        if ready.disabled_url == row.target:
            return failed(DISABLED)
        if not ready.keys:
            return failed("no webhook secret to sign with")
        return await senders.http.send(row.target, row.id, row.payload.encode(), ready.keys)

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
