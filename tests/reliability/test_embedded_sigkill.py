"""kill -9 of ``regwatch run`` on its embedded defaults (Tansu in memory, SQLite, all three
services in one process), five times at random moments while 100 notices flow to five
subscribers: no alert is lost.

The embedded broker dies with the process and takes what it held with it; the outbox tables
are its log (a row is confirmed only once every consumer group committed past it, and what is
unconfirmed is published again at start). Counted at real receivers by ``webhook-id`` and
``Message-ID``: every (subscriber, notice) arrives by webhook and by email, and where one
arrived twice it is the documented redelivery under the same id (the receiver accepted it, the
process died before the ledger recorded that), never a second alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from shared.embedded.ports import free_port
from tests.reliability.conftest import NotifierProcess
from tests.reliability.support import Subscribed, notice, post_notice, subscribe, wait_until
from tests.support.receivers import SmtpReceiver, WebhookReceiver

pytestmark = [pytest.mark.broker, pytest.mark.timeout(900)]

NOTICES = 100
SUBSCRIBERS = 5
ROUNDS = 5
PACE = 0.06  # seconds between two notices: the posting spans several rounds


def embedded_env(data_dir: Path, http_port: int, smtp_port: int) -> dict[str, str]:
    """``regwatch run`` defaults (no broker, no database URL), real receivers for the mail."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    env.update(
        {
            "REGWATCH_DATA_DIR": str(data_dir),
            "REGWATCH_HTTP_PORT": str(http_port),
            "REGWATCH_SMTP_HOST": "127.0.0.1",
            "REGWATCH_SMTP_PORT": str(smtp_port),
            "REGWATCH_WEBHOOK_ALLOW_PRIVATE": "true",
            "REGWATCH_WEBHOOK_TIMEOUT": "2",
            "REGWATCH_RETRY_SCHEDULE": "200ms,200ms,200ms,200ms,1s,1s,1s",
            "REGWATCH_DISPATCH_INTERVAL": "0.2",
            "REGWATCH_LOG_LEVEL": "WARNING",
            "REGWATCH_LOG_FORMAT": "text",
        }
    )
    return env


async def post_until_taken(client: httpx.AsyncClient, body: dict[str, object]) -> int:
    """POST a notice until the ingestor answers 2xx (the process may be dead or starting);
    returns the attempts it took. A POST cut off by a kill may or may not have stored it:
    sending it again is the same notice."""
    attempts = 0
    while True:
        attempts += 1
        try:
            answer = await post_notice(client, body)
            if answer.status_code < 300:
                return attempts
            assert answer.status_code >= 500, answer.text
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)


async def test_five_kills_of_the_embedded_default_lose_no_alert(tmp_path: Path) -> None:
    seed = int(os.environ.get("REGWATCH_KILL_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    http_port = free_port()
    kills: list[tuple[float, int]] = []
    async with WebhookReceiver(default=200) as hook, SmtpReceiver() as smtp:
        regwatch = NotifierProcess(
            embedded_env(tmp_path, http_port, smtp.port),
            tmp_path,
            tmp_path / "regwatch.log",
            args=("run",),
        )
        regwatch.start()
        base = f"http://127.0.0.1:{http_port}"
        try:
            await regwatch.ready()
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                subscribers: list[Subscribed] = [
                    await subscribe(client, f"Team{n}", hook.url) for n in range(SUBSCRIBERS)
                ]
                bodies = [notice(n, "kill") for n in range(NOTICES)]
                posted: list[str] = []

                async def poster() -> None:
                    for body in bodies:
                        await post_until_taken(client, body)
                        posted.append(str(body["notice_id"]))
                        await asyncio.sleep(PACE)

                posting = asyncio.create_task(poster())
                for _ in range(ROUNDS):
                    await asyncio.sleep(rng.uniform(0.3, 4.0))
                    regwatch.kill()
                    kills.append((time.time(), len(posted)))
                    regwatch.start()
                    await regwatch.ready()
                await asyncio.wait_for(posting, timeout=300)

            alerts = NOTICES * SUBSCRIBERS
            with contextlib.suppress(AssertionError):  # the tally below says what is missing
                await wait_until(
                    lambda: (
                        len({r.webhook_id for r in hook.requests}) >= alerts
                        and len({str(m["Message-ID"]) for m in smtp.messages}) >= alerts
                    ),
                    timeout=400,
                    what=f"{alerts} alerts by webhook and by email",
                )
        finally:
            regwatch.stop()

    context = f"seed {seed} (REGWATCH_KILL_SEED), kills at (time, notices posted) {kills}"
    ids = [s.id for s in subscribers]
    names = {f"team{n}@example.com": s.id for n, s in enumerate(subscribers)}
    wanted = {(sid, str(b["notice_id"])) for sid in ids for b in bodies}

    hooks: dict[tuple[str, str], set[str]] = defaultdict(set)
    for request in hook.requests:
        if 200 <= request.reply.status < 300 and request.json()["type"] == "notice.matched":
            data = request.json()["data"]
            hooks[(data["subscriber_id"], data["notice"]["notice_id"])].add(str(request.webhook_id))
    mails: dict[tuple[str, str], set[str]] = defaultdict(set)
    for message in smtp.messages:
        key = (names[str(message["To"]).lower()], str(message["X-Regwatch-Notice-Id"]))
        mails[key].add(str(message["Message-ID"]))

    lost_hooks = sorted(wanted - set(hooks))
    lost_mails = sorted(wanted - set(mails))
    assert not lost_hooks, f"{len(lost_hooks)} webhooks lost, e.g. {lost_hooks[:5]}; {context}"
    assert not lost_mails, f"{len(lost_mails)} emails lost, e.g. {lost_mails[:5]}; {context}"
    assert set(hooks) == wanted and set(mails) == wanted, context
    # one alert, one id: a repeat is only ever the same webhook-id / Message-ID again
    two_hook_ids = {k: v for k, v in hooks.items() if len(v) > 1}
    two_mail_ids = {k: v for k, v in mails.items() if len(v) > 1}
    assert not two_hook_ids, f"alerts sent under two webhook-ids: {two_hook_ids}; {context}"
    assert not two_mail_ids, f"alerts sent under two Message-IDs: {two_mail_ids}; {context}"
    repeats = len(hook.requests) - len(wanted), len(smtp.messages) - len(wanted)
    print(f"5 kills, 0 lost; same-id redeliveries (webhook, email): {repeats}; {context}")
