"""DingTalk (钉钉) custom group robots: a markdown message per alert, signed when the robot
has a secret (加签), carrying the robot's keyword when it has one (自定义关键词).

- Signing: ``timestamp`` (ms) and ``sign`` = URL-encoded base64 of HMAC-SHA256, keyed with
  the secret, of ``"{timestamp}\\n{secret}"``, added to the robot's URL per attempt (DingTalk
  refuses a timestamp more than an hour off).
- Rate: 20 messages a minute per robot (DingTalk then blocks the robot for 10 minutes), kept by
  every notifier instance together (:mod:`services.notifier.ratelimit`).
- Answers: HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}`` when sent. A rate-limit code waits
  (10 minutes for the block to end), security codes (``310000``: sign not match, keywords not
  in content, IP not in whitelist) and a robot that is gone fail for good and say why; an
  unknown code fails for good with DingTalk's own words.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any, ClassVar, Final
from urllib.parse import quote_plus, urlsplit

from services.notifier.channels.base import Rate, SendResult
from services.notifier.channels.robot import Codes, RobotChannel, read_answer
from services.notifier.chat_text import ChatMessage, as_markdown
from services.notifier.models import DeliveryRow

MAX_BYTES: Final = 18_000
"""A markdown message's title and text together (DingTalk documents no exact cap; 20 KB is
where it starts refusing)."""
RATE: Final = Rate(20, 62)  # 20 a minute, 2 s left for clocks and the network
BLOCKED_FOR: Final = 600.0
"""Seconds DingTalk blocks a robot that sent more than 20 in a minute."""
CODES: Final = Codes(
    "DingTalk",
    rate=frozenset({130101, 410100}),
    wait=BLOCKED_FOR,
    gone=frozenset({300001, 300005, 400013, 400101}),
    setup=frozenset({310000}),
    setup_hint="check the robot's secret, keyword and IP list",
)


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign`` parameter for ``timestamp_ms`` (URL-encoded)."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def signed_url(url: str, secret: str | None, timestamp_ms: int) -> str:
    if not secret:
        return url
    joiner = "&" if urlsplit(url).query else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={sign(secret, timestamp_ms)}"


class DingTalkChannel(RobotChannel):
    name: ClassVar[str] = "dingtalk"
    codes: ClassVar[Codes | None] = CODES

    def message(self, kind: str, message: ChatMessage, keyword: str) -> dict[str, Any]:
        title, text = as_markdown(message, MAX_BYTES, prefix=keyword)
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}

    def rates(self, target: str) -> tuple[Rate, ...]:
        return (RATE,)

    def request(self, row: DeliveryRow, secret: str | None) -> tuple[str, bytes] | SendResult:
        return signed_url(row.target, secret, int(time.time() * 1000)), row.payload.encode()


def answer(result: SendResult, content: bytes) -> SendResult:
    """An HTTP 200 from DingTalk, read: its ``errcode`` decides."""
    return read_answer(result, content, CODES)
