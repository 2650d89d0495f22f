"""The Channel interface: what the ledger, the dispatcher, digests and replays ask of a way of
reaching a subscriber (email, a webhook, a chat robot ...).

A channel says which targets a subscriber has on it, renders what is stored for one alert (and
for a digest of held alerts) on it, names the queue a target's deliveries wait in (how many go
out at once is per queue), and sends one stored delivery, reporting "delivered", "retry later
(after N s)" or "failed for good" as a :class:`SendResult`. Retries, the ledger, holding and
digests stay generic around it. Channels hold no state: what they send with (the database, the
HTTP client, the SMTP pool) comes in :class:`Senders`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.notifier.alerts import Alert, Context
from services.notifier.email import EmailSender
from services.notifier.models import DeliveryRow
from services.notifier.ratelimit import Rate
from services.notifier.webhook import SendResult, WebhookSender
from shared.db import Database
from shared.settings import Settings
from shared.ssrf import validate_webhook_url

__all__ = ["Channel", "Rate", "SendResult", "Senders", "Target", "failed"]


@dataclass(frozen=True)
class Target:
    """Where one delivery goes: an address, and the ``notifier_targets`` row it is (``''``
    only on deliveries recorded before the account's email address and webhook URL became
    rows, migration 0016)."""

    address: str
    id: str = ""


@dataclass(frozen=True)
class Senders:
    """What channels send with: one of each per notifier process."""

    db: Database
    settings: Settings
    http: WebhookSender
    smtp: EmailSender
    per_endpoint: int = 4
    """How many deliveries one HTTP endpoint gets at once."""
    prepared: dict[str, Any] = field(default_factory=dict)
    """What a channel read for a claimed row before its send (``Channel.prepare``), by row id;
    taken by its send, dropped when the attempt ends."""


def failed(error: str) -> SendResult:
    """Failed for good, before anything was sent."""
    return SendResult(False, False, None, error, None, 0)


class Channel(ABC):
    name: ClassVar[str]
    takes_secret: ClassVar[bool] = True
    """Whether a target of it may carry its own signing secret (a robot's); email takes
    none, webhooks sign with the subscriber's webhook secrets."""

    def targets(self, ctx: Context) -> list[Target]:
        """The subscriber's targets on this channel: its rows of ``notifier_targets``."""
        return [Target(row.address, row.id) for row in ctx.targets if row.channel == self.name]

    def check_address(self, address: str) -> str:
        """A new target's address cleaned, or InputError naming what is wrong with it."""
        return validate_webhook_url(address)

    def wants(self, alert: Alert, ctx: Context) -> bool:
        """Whether this alert goes out on this channel at all (e.g. not after unsubscribing)."""
        return True

    def refusal(self, target: str, ctx: Context) -> str | None:
        """Why a new delivery to ``target`` is recorded as failed at once (a target known to
        be gone), or None."""
        return None

    @abstractmethod
    def render(self, alert: Alert, ctx: Context, target: Target) -> str:
        """What is stored for one alert: exactly what :meth:`send` sends, or what it needs."""

    @abstractmethod
    def render_digest(
        self, ctx: Context, target: Target, why: str, alerts: list[dict[str, Any]]
    ) -> str:
        """What is stored for a digest of held alerts (``{id, type, data}`` each)."""

    def queue(self, target: str) -> str:
        """The queue a target's deliveries wait in; a queue's limit is :meth:`limit`."""
        return f"{self.name}:{target}"

    def limit(self, senders: Senders) -> int:
        """How many deliveries of one queue are sent at once."""
        return senders.per_endpoint

    def rates(self, target: str) -> tuple[Rate, ...]:
        """How often the platform lets one queue be sent to (e.g. 20 a minute), kept by every
        notifier instance together; a send over the rate waits, it is not an attempt."""
        return ()

    async def prepare(
        self, session: AsyncSession, rows: list[DeliveryRow], senders: Senders
    ) -> None:
        """Read what sending the claimed ``rows`` needs, for all of them at once, in the
        claim's unit of work, into ``senders.prepared`` (instead of a read per send). By
        default: nothing to read."""
        return None

    @abstractmethod
    async def send(self, row: DeliveryRow, senders: Senders) -> SendResult:
        """One attempt to deliver a stored row. Never raises for delivery errors."""

    async def after_attempt(
        self,
        session: AsyncSession,
        row: DeliveryRow,
        result: SendResult,
        settings: Settings,
        now: datetime,
    ) -> list[str]:
        """Called in the unit of work that records an attempt; returns the ids of any
        deliveries it created (e.g. telling the subscriber an endpoint is gone)."""
        return []

    async def before_replay(self, session: AsyncSession, row: DeliveryRow, now: datetime) -> None:
        """Called when a failed delivery is put back in the queue (e.g. re-enable its target)."""
        return None
