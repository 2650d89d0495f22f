"""What chat robots share: :class:`RobotChannel`, with targets from ``notifier_targets``, the
message built from :mod:`services.notifier.chat_text` in the target's language with its
keyword, one send at a time per robot, and the send itself: the target read as it is now (a
removed one fails for good; its secret decrypted for platforms that sign), one POST of the
stored JSON, and the answer read by the platform's :class:`Codes` (HTTP 200 with
``{"errcode", "errmsg"}`` or the like), or by its HTTP status where it has none, as a
webhook's is."""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from services.notifier.alerts import Alert, Context
from services.notifier.channels.base import Channel, Senders, SendResult, Target, failed
from services.notifier.chat_text import ChatMessage, chat_message
from services.notifier.models import DeliveryRow, TargetRow
from shared.db import Database
from shared.secretbox import for_session

JSON_HEADERS = {"content-type": "application/json; charset=utf-8"}
TARGET_REMOVED = "the target was removed"
"""Why a delivery to a target removed (``DELETE /v1/channels/{id}``) fails, or is cancelled."""


@dataclass(frozen=True)
class Codes:
    """How a platform's error codes read: ``rate`` codes wait ``wait`` seconds and try again,
    ``setup`` codes (a wrong secret or keyword) and ``gone`` codes (the robot or its group was
    removed) fail for good with a hint; any other non-zero code fails for good in the
    platform's own words."""

    platform: str
    rate: frozenset[int]
    wait: float
    gone: frozenset[int] = frozenset()
    setup: frozenset[int] = frozenset()
    setup_hint: str = "check the robot's settings"
    keys: tuple[tuple[str, str], ...] = (("errcode", "errmsg"),)
    """Where the code and its message are in the answer (the first pair present)."""


def read_answer(result: SendResult, content: bytes, codes: Codes) -> SendResult:
    """An HTTP 2xx from the platform, read: its ``errcode`` decides."""
    try:
        body = json.loads(content)
        code_key, message_key = next(pair for pair in codes.keys if pair[0] in body)
        code = int(body[code_key])
        message = str(body.get(message_key, ""))
    except (ValueError, TypeError, AttributeError, StopIteration):
        return _with(result, retriable=True, error=f"{codes.platform} answered no JSON")
    if code == 0:
        return result
    said = f"{codes.platform} {code}: {message}".strip()
    if code in codes.rate:
        return _with(result, retriable=True, error=said, retry_after=codes.wait)
    if code in codes.setup:
        return _with(result, retriable=False, error=f"{said} ({codes.setup_hint})")
    if code in codes.gone:
        return _with(result, retriable=False, error=f"{said} (the robot or its group is gone)")
    return _with(result, retriable=False, error=said)


def _with(
    result: SendResult, *, retriable: bool, error: str, retry_after: float | None = None
) -> SendResult:
    return SendResult(
        False,
        retriable,
        result.status_code,
        error,
        retry_after,
        result.duration_ms,
        result.body_excerpt,
    )


def target_row(ctx: Context, target: Target) -> TargetRow | None:
    """The ``notifier_targets`` row of a target (its language, keyword)."""
    return next((row for row in ctx.targets if row.id == target.id), None)


@dataclass(frozen=True)
class StoredTarget:
    """A robot target as it is stored now: its signing secret decrypted (None: it signs
    nothing)."""

    secret: str | None


async def stored_target(db: Database, target_id: str) -> StoredTarget | None:
    """The target's ``notifier_targets`` row as it is now, or None when it was removed."""
    async with db.read_session() as session:
        row = await session.get(TargetRow, target_id)
        if row is None:
            return None
        return StoredTarget(for_session(session).box.decrypt(row.secret) if row.secret else None)


class RobotChannel(Channel):
    """A chat platform's robot or incoming webhook. A platform module gives its ``name``, its
    message format (:meth:`message`), its ``rates`` and its answer ``codes``; one that signs or
    checks what it posts, :meth:`request` too."""

    default_language: ClassVar[str] = "zh"
    codes: ClassVar[Codes | None] = None
    """How the platform's JSON answer reads; None: its HTTP status decides, as a webhook's
    does (429 waits for ``Retry-After``, another 4xx fails for good)."""

    def render(self, alert: Alert, ctx: Context, target: Target) -> str:
        return self._render(alert.type, alert.data, ctx, target)

    def render_digest(
        self, ctx: Context, target: Target, why: str, alerts: list[dict[str, Any]]
    ) -> str:
        return self._render("digest", {"why": why, "alerts": alerts}, ctx, target)

    def _render(self, kind: str, data: dict[str, Any], ctx: Context, target: Target) -> str:
        row = target_row(ctx, target)
        language = (
            (row.language if row is not None else None)
            or ctx.prefs.chat_language
            or self.default_language
        )
        message = chat_message(
            kind, data, language=language, now=ctx.now, public_url=ctx.public_url
        )
        keyword = (row.keyword if row is not None else None) or ""
        return json.dumps(self.message(kind, message, keyword), ensure_ascii=False)

    @abstractmethod
    def message(self, kind: str, message: ChatMessage, keyword: str) -> dict[str, Any]:
        """The platform's JSON body for a message (``keyword``: a word it must carry)."""

    def queue(self, target: str) -> str:
        return f"{self.name}:{target}"

    def limit(self, senders: Senders) -> int:
        return 1  # one at a time per robot: its messages arrive in order

    def request(self, row: DeliveryRow, secret: str | None) -> tuple[str, bytes] | SendResult:
        """The URL and body of one attempt (signed for it when the target has a ``secret``),
        or why nothing can be sent (failed for good). As stored, by default."""
        return row.target, row.payload.encode()

    async def send(self, row: DeliveryRow, senders: Senders) -> SendResult:
        stored = await stored_target(senders.db, row.target_id)
        if stored is None:
            return failed(TARGET_REMOVED)
        request = self.request(row, stored.secret)
        if isinstance(request, SendResult):
            return request
        url, body = request
        result, content = await senders.http.post(url, body, JSON_HEADERS)
        if not result.ok or self.codes is None:
            return result
        return read_answer(result, content, self.codes)
