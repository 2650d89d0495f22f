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

from typing import Any, ClassVar, Final

from services.notifier.channels.base import Rate
from services.notifier.channels.robot import RobotChannel
from services.notifier.chat_text import ChatMessage

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


class SlackChannel(RobotChannel):
    name: ClassVar[str] = "slack"

    default_language: ClassVar[str] = "en"

    def message(self, kind: str, message: ChatMessage, keyword: str) -> dict[str, Any]:
        return blocks(message)

    def rates(self, target: str) -> tuple[Rate, ...]:
        return (RATE,)
