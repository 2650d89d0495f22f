"""Feishu / Lark (飞书) custom bots: an interactive card per alert, signed when the bot has a
secret, carrying the bot's keyword when it has one.

- Signing: the body gets ``timestamp`` (seconds) and ``sign`` = base64 of HMAC-SHA256 keyed
  with ``"{timestamp}\\n{secret}"`` over an empty message (Feishu's way, unlike DingTalk's),
  per attempt; Feishu refuses a timestamp more than an hour off.
- Content: a card (header with the title, a ``lark_md`` block with the facts and apps, buttons
  to the notice and the portal); the whole body at most 20 KB, long lists cut with the count.
- Rate: 5 a second and 100 a minute per bot, kept by every notifier instance together.
- Answers: ``{"code": 0, "msg": "success"}`` (older bots: ``StatusCode``); ``11232`` (too
  frequent) waits; ``19021`` (sign or timestamp), ``19022`` (IP not allowed), ``19024``
  (keyword not found) fail for good with a hint; ``19001`` (no such bot) fails for good.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any, ClassVar, Final

from services.notifier.channels.base import Rate, SendResult, failed
from services.notifier.channels.robot import Codes, RobotChannel
from services.notifier.chat_text import ChatMessage, as_markdown
from services.notifier.models import DeliveryRow
from services.notifier.payloads import DEADLINE_REMINDER, NOTICE_ESCALATED

MAX_BYTES: Final = 20_000
TEXT_BUDGET: Final = 17_000
"""The card's markdown block; the rest of the 20 KB is the card's frame, links and signature."""
RATES: Final = (Rate(5, 1.2), Rate(100, 62))  # with room for clocks and the network
CODES: Final = Codes(
    "Feishu",
    rate=frozenset({11232}),
    wait=60.0,
    gone=frozenset({19001}),
    setup=frozenset({19021, 19022, 19024}),
    setup_hint="check the bot's secret, keyword and IP list, and this machine's clock",
    keys=(("code", "msg"), ("StatusCode", "StatusMessage")),
)
COLOURS: Final = {NOTICE_ESCALATED: "red", DEADLINE_REMINDER: "orange"}


def sign(secret: str, timestamp: int) -> str:
    """Feishu's ``sign`` for ``timestamp`` (seconds)."""
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def card(kind: str, message: ChatMessage, keyword: str) -> dict[str, Any]:
    title, text = as_markdown(
        ChatMessage(message.title, message.lines, message.apps, message.apps_heading, message.more),
        TEXT_BUDGET,
        prefix=keyword,
    )
    body = text.split("\n", 2)[2] if text.startswith("### ") else text  # the header has it
    elements: list[dict[str, Any]] = [{"tag": "div", "text": {"tag": "lark_md", "content": body}}]
    if message.links:
        buttons = [
            {
                "tag": "button",
                "text": {"tag": "plain_text", "content": label},
                "url": url,
                "type": "default",
            }
            for label, url in message.links
        ]
        elements.append({"tag": "action", "actions": buttons})
    return {
        "msg_type": "interactive",
        "card": {
            "header": {
                "title": {"tag": "plain_text", "content": title},
                "template": COLOURS.get(kind, "blue"),
            },
            "elements": elements,
        },
    }


class FeishuChannel(RobotChannel):
    name: ClassVar[str] = "feishu"
    codes: ClassVar[Codes | None] = CODES

    def message(self, kind: str, message: ChatMessage, keyword: str) -> dict[str, Any]:
        return card(kind, message, keyword)

    def rates(self, target: str) -> tuple[Rate, ...]:
        return RATES

    def request(self, row: DeliveryRow, secret: str | None) -> tuple[str, bytes] | SendResult:
        body: dict[str, Any] = json.loads(row.payload)
        if secret:
            stamp = int(time.time())
            body = {"timestamp": str(stamp), "sign": sign(secret, stamp), **body}
        payload = json.dumps(body, ensure_ascii=False).encode()
        if len(payload) > MAX_BYTES:
            return failed(f"the card is {len(payload)} bytes, over Feishu's {MAX_BYTES}")
        return row.target, payload
