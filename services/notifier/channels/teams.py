"""Microsoft Teams workflow webhooks (Power Automate's "When a Teams webhook request is
received"): an Adaptive Card per alert.

- Content: ``{"type": "message", "attachments": [{"contentType":
  "application/vnd.microsoft.card.adaptive", "content": <card>}]}``; the card (version 1.4) has
  the title, the facts as a FactSet-like list of text blocks, the apps, and ``Action.OpenUrl``
  buttons to the notice and the portal; the whole message at most 28 KB (long lists cut with
  the count).
- Rate: 4 a second per webhook, across instances.
- Answers are plain HTTP: ``202 Accepted`` (or 200) when taken; ``429`` waits for
  ``Retry-After``; ``400``, ``401``, ``403``, ``404`` fail for good with the answer's words.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Final

from services.notifier.alerts import Alert, Context
from services.notifier.channels.base import Channel, Rate, Senders, SendResult, Target
from services.notifier.channels.robot import JSON_HEADERS, robot_targets, target_row
from services.notifier.chat_text import ChatMessage, chat_message
from services.notifier.models import DeliveryRow

RATE: Final = Rate(4, 1.2)  # four a second, with room for the network
MAX_BYTES: Final = 28_000
CARD_TYPE: Final = "application/vnd.microsoft.card.adaptive"


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def adaptive_card(message: ChatMessage, shown: int | None = None) -> dict[str, Any]:
    apps = message.apps if shown is None else message.apps[:shown]
    body: list[dict[str, Any]] = [_text(message.title, weight="Bolder", size="Medium")]
    body += [_text(line, spacing="Small") for line in message.lines]
    if apps:
        body.append(_text(message.apps_heading, weight="Bolder"))
        body += [_text(f"{n}. {app}", spacing="None") for n, app in enumerate(apps, 1)]
        if len(apps) < len(message.apps):
            body.append(_text(message.more.format(count=len(message.apps) - len(apps))))
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [
            {"type": "Action.OpenUrl", "title": label, "url": url} for label, url in message.links
        ],
    }
    return {"type": "message", "attachments": [{"contentType": CARD_TYPE, "content": card}]}


def fitted(message: ChatMessage) -> str:
    """The message as JSON within ``MAX_BYTES``: apps cut from the end until it fits."""
    shown = len(message.apps)
    text = json.dumps(adaptive_card(message, shown), ensure_ascii=False)
    while shown > 0 and len(text.encode()) > MAX_BYTES:
        shown = max(0, shown - max(1, shown // 10))
        text = json.dumps(adaptive_card(message, shown), ensure_ascii=False)
    return text


class TeamsChannel(Channel):
    name: ClassVar[str] = "teams"

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
        message = chat_message(
            kind,
            data,
            language=(row.language if row is not None else None) or "en",
            now=ctx.now,
            public_url=ctx.public_url,
        )
        return fitted(message)

    def queue(self, target: str) -> str:
        return f"teams:{target}"

    def limit(self, senders: Senders) -> int:
        return 1

    def rates(self, target: str) -> tuple[Rate, ...]:
        return (RATE,)

    async def send(self, row: DeliveryRow, senders: Senders) -> SendResult:
        result, _content = await senders.http.post(row.target, row.payload.encode(), JSON_HEADERS)
        return result
