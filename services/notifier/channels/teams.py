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

from services.notifier.channels.base import Rate
from services.notifier.channels.robot import RobotChannel
from services.notifier.chat_text import ChatMessage

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


def fitted(message: ChatMessage) -> dict[str, Any]:
    """The message within ``MAX_BYTES`` as JSON: apps cut from the end until it fits."""
    shown = len(message.apps)
    found = adaptive_card(message, shown)
    while shown > 0 and len(json.dumps(found, ensure_ascii=False).encode()) > MAX_BYTES:
        shown = max(0, shown - max(1, shown // 10))
        found = adaptive_card(message, shown)
    return found


class TeamsChannel(RobotChannel):
    name: ClassVar[str] = "teams"

    default_language: ClassVar[str] = "en"

    def message(self, kind: str, message: ChatMessage, keyword: str) -> dict[str, Any]:
        return fitted(message)

    def rates(self, target: str) -> tuple[Rate, ...]:
        return (RATE,)
