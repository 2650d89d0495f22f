"""Slack incoming webhooks: a Block Kit message per alert (``https://hooks.slack.com/services/...``;
the URL is the credential, masked in listings).

- Content: ``text`` (the notification's fallback) and ``blocks``: a header, a section with the
  facts, one section per chunk of apps (a section's text is at most 3000 characters; at most 50
  blocks, the rest counted in a "N more" line), and buttons to the notice and the portal.
- Rate: one message a second per webhook (Slack's documented pace), across instances.
- Answers are plain HTTP: ``200 ok``; ``429`` waits for ``Retry-After``; ``400 invalid_payload``,
  ``403 action_prohibited``, ``404 channel_not_found``/``no_service``, ``410 channel_is_archived``
  fail for good with Slack's words (the generic webhook classification).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Final

from services.notifier.alerts import Alert, Context
from services.notifier.channels.base import Channel, Rate, Senders, SendResult, Target
from services.notifier.channels.robot import JSON_HEADERS, robot_targets, target_row
from services.notifier.chat_text import ChatMessage, chat_message
from services.notifier.models import DeliveryRow

RATE: Final = Rate(1, 1.2)  # one a second, with room for the network
MAX_BLOCKS: Final = 50
SECTION_CHARS: Final = 3000
HEADER_CHARS: Final = 150


def mrkdwn(text: str) -> str:
    """Plain text in Slack's mrkdwn: ``& < >`` escaped (they start links and mentions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_CHARS]}}


def blocks(message: ChatMessage) -> dict[str, Any]:
    head: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:HEADER_CHARS]}}
    ]
    if message.lines:
        facts = [f"*{mrkdwn(message.lines[0])}*", *(mrkdwn(line) for line in message.lines[1:])]
        head.append(_section("\n".join(facts)))
    tail: list[dict[str, Any]] = []
    if message.links:
        buttons = [
            {"type": "button", "text": {"type": "plain_text", "text": label[:75]}, "url": url}
            for label, url in message.links
        ]
        tail.append({"type": "actions", "elements": buttons})
    chunks: list[list[str]] = [[]]
    for n, app in enumerate(message.apps, 1):
        line = f"{n}. {mrkdwn(app)}"
        if sum(len(x) + 1 for x in chunks[-1]) + len(line) > SECTION_CHARS:
            chunks.append([])
        chunks[-1].append(line)
    room = MAX_BLOCKS - len(head) - len(tail) - 2  # the apps' heading and a "more" line
    shown = [chunk for chunk in chunks if chunk][:room]
    middle: list[dict[str, Any]] = []
    if shown:
        middle.append(_section(mrkdwn(message.apps_heading) or " "))
        middle += [_section("\n".join(chunk)) for chunk in shown]
        left = len(message.apps) - sum(len(chunk) for chunk in shown)
        if left > 0:
            middle.append(_section(mrkdwn(message.more.format(count=left))))
    fallback = " | ".join([message.title, *message.lines[:1]])
    return {"text": fallback, "blocks": head + middle + tail}


class SlackChannel(Channel):
    name: ClassVar[str] = "slack"

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
        return json.dumps(blocks(message), ensure_ascii=False)

    def queue(self, target: str) -> str:
        return f"slack:{target}"

    def limit(self, senders: Senders) -> int:
        return 1

    def rates(self, target: str) -> tuple[Rate, ...]:
        return (RATE,)

    async def send(self, row: DeliveryRow, senders: Senders) -> SendResult:
        result, _content = await senders.http.post(row.target, row.payload.encode(), JSON_HEADERS)
        return result
