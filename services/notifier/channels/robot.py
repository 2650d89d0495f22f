"""What chat robots share: :class:`RobotChannel` (targets from ``notifier_targets``, the message
built from :mod:`services.notifier.chat_text` in the target's language with its keyword, one
send at a time per robot), and their answer (HTTP 200 with ``{"errcode", "errmsg"}``) read into
a delivery outcome by each platform's codes."""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from services.notifier.alerts import Alert, Context
from services.notifier.channels.base import Channel, Senders, SendResult, Target
from services.notifier.chat_text import ChatMessage, chat_message
from services.notifier.models import TargetRow

JSON_HEADERS = {"content-type": "application/json; charset=utf-8"}


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


def robot_targets(ctx: Context, channel: str) -> list[Target]:
    return [Target(row.address, row.id) for row in ctx.targets if row.channel == channel]


class RobotChannel(Channel):
    """A chat platform's robot or incoming webhook. A platform module gives its ``name``, its
    message format (:meth:`message`), its ``rates`` and ``send``."""

    default_language: ClassVar[str] = "zh"

    def targets(self, ctx: Context) -> list[Target]:
        return robot_targets(ctx, self.name)

    def render(self, alert: Alert, ctx: Context, target: Target) -> str:
        return self._render(alert.type, alert.data, ctx, target)

    def render_digest(
        self, ctx: Context, target: Target, why: str, alerts: list[dict[str, Any]]
    ) -> str:
        return self._render("digest", {"why": why, "alerts": alerts}, ctx, target)

    def _render(self, kind: str, data: dict[str, Any], ctx: Context, target: Target) -> str:
        row = target_row(ctx, target)
        language = (row.language if row is not None else None) or self.default_language
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
