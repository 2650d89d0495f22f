"""WeCom (企业微信) group robots: one markdown message per alert to the robot's webhook URL
(``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...``; the key in the URL is the only
credential, so listings mask it).

- Content: ``{"msgtype": "markdown", "markdown": {"content": ...}}``, at most 4096 bytes:
  long lists of apps are cut with "另有 N 项".
- Rate: 20 messages a minute per robot, kept by every notifier instance together.
- Answers: ``{"errcode": 0, "errmsg": "ok"}`` when sent; ``45009`` (over the rate) waits a
  minute; ``93000`` (the URL is not a robot's, or the robot left the group) and the robot being
  stopped fail for good saying so; other codes fail for good in WeCom's words.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

from services.notifier.channels.base import Rate
from services.notifier.channels.robot import Codes, RobotChannel
from services.notifier.chat_text import ChatMessage, as_markdown

MAX_BYTES: Final = 4096
RATE: Final = Rate(20, 62)  # 20 a minute, 2 s left for clocks and the network
CODES: Final = Codes(
    "WeCom",
    rate=frozenset({45009}),
    wait=60.0,
    gone=frozenset({93000, 93004, 93008}),
)


class WeComChannel(RobotChannel):
    name: ClassVar[str] = "wecom"
    codes: ClassVar[Codes | None] = CODES

    def message(self, kind: str, message: ChatMessage, keyword: str) -> dict[str, Any]:
        # one field: the text carries its title line (as_markdown's budget counts it twice)
        _title, text = as_markdown(message, MAX_BYTES, prefix=keyword)
        return {"msgtype": "markdown", "markdown": {"content": text}}

    def rates(self, target: str) -> tuple[Rate, ...]:
        return (RATE,)
