"""A burst of 200 alerts to one DingTalk robot that allows 20 messages a minute: how they are
spread, and that none is lost, doubled or refused by the platform.

    python -m bench.chat_burst [--quick]

The real notifier (dispatcher, delivery ledger, the database-kept rate) sends to a local
DingTalk (``tests/support/chat.py``: checks the signature and answers ``130101 send too fast``,
blocking the robot for 10 minutes, past 20 messages in any minute). ``--quick`` runs the same
burst ten times faster in time: the robot allows 20 per 6 s and the channel's rate is scaled
the same way (``Rate(20, 6.2)``); the full run is DingTalk's real minute (about 10 minutes).

Prints one JSON line and writes ``bench/results/chat_burst.json``:

- ``alerts``, ``delivered`` (distinct alerts the robot showed), ``doubled`` (alerts shown more
  than once), ``refused`` (messages the platform refused), ``lost`` (alerts never shown);
- ``max_in_any_window``: the most messages the robot received within one of its windows;
- ``span_s``: first message to last; ``ideal_span_s``: the least it can be under the channel's
  rate (``(alerts / count - 1)`` windows of the rate); ``ratio_vs_ideal``: ``span_s`` over it
  (1.0 = as fast as the rate allows; above: time lost between windows).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import emit, save
from services.notifier.channels import dingtalk
from services.notifier.dispatcher import Dispatcher
from services.notifier.email import EmailSender
from services.notifier.handler import handle_match
from services.notifier.ratelimit import Rate
from services.notifier.targets import NewTarget, add_target
from services.notifier.webhook import WebhookSender
from shared.accounts import register_subscriber
from shared.db import Database
from shared.events import MatchEvent
from shared.settings import Settings
from tests.support.chat import FakeDingTalk
from tests.support.factories import match_event

ALERTS = 200
SECRET = "SECbench0123456789"
TITLE = re.compile(r"第(\d+)号")


def alert(subscriber_id: str, n: int) -> MatchEvent:
    event = match_event(subscriber_id, None)
    event.match_id = f"burst-{n}"
    event.notice.notice_id = f"cac-burst-{n:03d}"
    event.notice.title = f"关于违法违规收集使用个人信息APP的通报（第{n}号）"
    return event


async def measure(scale: float) -> dict[str, Any]:
    window = 60.0 * scale
    rate = Rate(20, 62.0 * scale)
    dingtalk.RATE = rate  # type: ignore[misc]  # the quick run: the same burst, faster in time
    settings = Settings(webhook_allow_private=True)
    webhooks = WebhookSender.from_settings(settings)
    email = EmailSender(host="127.0.0.1", port=9, timeout=5)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'burst.db'}")
        await db.migrate()
        async with FakeDingTalk() as platform:
            robot = platform.robot("burst", secret=SECRET, window=window)
            async with db.session() as session:
                created = await register_subscriber(
                    session,
                    name="bench",
                    email="risk@example.com",
                    webhook_url=None,
                    reminders="1d",
                    default_reminders="1d",
                    allow_private=True,
                )
                await add_target(
                    session,
                    created.id,
                    NewTarget("dingtalk", platform.url("burst"), secret=SECRET),
                    datetime.now(UTC),
                )
            for n in range(ALERTS):
                await handle_match(db, settings, alert(created.id, n))
            worker = Dispatcher(db, settings, webhooks, email)
            started = time.monotonic()
            worker.start()
            worker.kick()
            limit = started + (ALERTS / rate.count + 2) * rate.per + 60
            try:
                while len(robot.messages) + len(robot.refused) < ALERTS:
                    if time.monotonic() > limit:
                        break
                    await asyncio.sleep(0.1)
                await asyncio.sleep(min(2.0, rate.per))  # anything doubled arrives too
            finally:
                await worker.stop()
                await webhooks.aclose()
                await email.aclose()
                await db.dispose()
    shown = [int(m[1]) for doc in robot.messages if (m := TITLE.search(doc["markdown"]["text"]))]
    at = sorted(robot.sent_at)
    most = max((sum(1 for t in at if s <= t < s + window) for s in at), default=0)
    span = at[-1] - at[0] if at else 0.0
    ideal = (math.ceil(ALERTS / rate.count) - 1) * rate.per
    return {
        "bench": "chat_burst",
        "scale": scale,
        "rate": f"{rate.count}/{rate.per:g}s",
        "robot_window_s": window,
        "alerts": ALERTS,
        "delivered": len(set(shown)),
        "doubled": len(shown) - len(set(shown)),
        "refused": len(robot.refused),
        "lost": ALERTS - len(set(shown)),
        "max_in_any_window": most,
        "span_s": round(span, 1),
        "ideal_span_s": round(ideal, 1),
        "ratio_vs_ideal": round(span / ideal, 3) if ideal else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="ten times faster in time")
    args = parser.parse_args()
    result = asyncio.run(measure(0.1 if args.quick else 1.0))
    emit(result)
    save("chat_burst", [result])


if __name__ == "__main__":
    main()
