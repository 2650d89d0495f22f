"""CPU per alert email: composing it and putting it on the wire, today's composer against the
one before, in the same run.

    python -m bench.email_compose [--quick]

Four kinds of alert email, taken in turn (what ``EmailChannel.send`` gets from the delivery
row: subject, text and HTML rendered by ``services.notifier.render``, the alert and notice ids,
an HTTPS unsubscribe link with a 43-character token, the delivery's Message-ID): the MIIT
notice of ``tests.support.factories.match_event`` (as ``bench.dispatch`` and ``bench.fanout``
send), a CAC notice naming ten watched apps, a reminder, and a daily digest of five alerts.

- ``compose``: CPU (``time.process_time``) per email of ``services.notifier.email.compose``
  (the bytes ``EmailSender.send`` hands to ``aiosmtplib.SMTP.sendmail`` as they are) against
  the path before it (``tests/support/email_before.py``: the ``EmailMessage`` that
  ``compose`` built, then what ``aiosmtplib``'s ``send_message`` did with it: sender and
  recipients read back from its headers, flattened with the SMTP policy). Rounds of N emails
  alternate between the two; the medians of the rounds are reported.
- ``send``: the same two paths sending N emails each over 4 SMTP connections (plain
  ``aiosmtplib``; ``sendmail`` of the bytes against ``send_message`` of the message) to the
  mail sink of ``bench/receiver.py`` in its own process: this process's CPU per email until
  the sink holds them all.

``ratio_vs_before`` is today's CPU per email / the path before's (below 1: cheaper).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import aiosmtplib
import httpx

from bench.common import emit, receiver_process, save
from services.notifier.channels.email import unsubscribe_headers
from services.notifier.email import compose
from services.notifier.render import (
    DigestItem,
    render_digest_email,
    render_match_email,
    render_reminder_email,
)
from shared.embedded.ports import free_port
from shared.events import EntityRef, Match, MatchEvent, WatchRef
from tests.support.email_before import compose_before, wire_before
from tests.support.factories import match_event

SENDER = "regwatch <alerts@regwatch.local>"
PUBLIC = "https://regwatch.example.com"
TOKEN = "Q2xlYW4tdW5zdWJzY3JpYmUtdG9rZW4tZm9yLWJlbmNo"[:43]
CONNECTIONS = 4
NOW = datetime(2099, 8, 2, 9, tzinfo=UTC)

Email = dict[str, Any]


def _ten_apps() -> MatchEvent:
    event = match_event("sub_bench", date(2099, 8, 31))
    names = ["抖音", "快手", "微信", "淘宝", "拼多多", "小红书", "哔哩哔哩", "美团"]
    names += ["支付宝", "京东"]
    notice = event.notice.model_copy(
        update={
            "title": "关于抖音、快手等105款App违法违规收集使用个人信息情况的通报（第二批）",
            "notice_id": "cac-20990801-105",
        }
    )
    matches = [
        Match(
            watch=WatchRef(kind="app", name=name),
            entity=EntityRef(name=name, developer=f"{name}科技有限公司"),
            score=0.97,
            reason=f"exact name {name}",
        )
        for name in names
    ]
    return event.model_copy(update={"notice": notice, "matches": matches})


def sample_emails() -> list[Email]:
    """The four kinds of alert email, as ``EmailChannel.send`` gets them."""
    unsubscribe = f"{PUBLIC}/v1/unsubscribe/{TOKEN}"
    one = match_event("sub_bench", date(2099, 8, 31))
    ten = _ten_apps()
    contents = [
        render_match_email(
            one.notice, one.matches, now=NOW, public_url=PUBLIC, unsubscribe_url=unsubscribe
        ),
        render_match_email(
            ten.notice, ten.matches, now=NOW, public_url=PUBLIC, unsubscribe_url=unsubscribe
        ),
        render_reminder_email(
            one.notice, one.matches, "7d", 7, now=NOW, unsubscribe_url=unsubscribe
        ),
        render_digest_email(
            [DigestItem("notice.matched", ten.notice, ten.matches)] * 5,
            why="digest",
            now=NOW,
            public_url=PUBLIC,
            unsubscribe_url=unsubscribe,
        ),
    ]
    emails = []
    for n, (subject, text, html) in enumerate(contents):
        delivery = f"dlv_{n:026d}"
        headers = {"X-Regwatch-Alert-Id": delivery, "X-Regwatch-Notice-Id": one.notice.notice_id}
        headers.update(unsubscribe_headers(unsubscribe))
        emails.append(
            {
                "to": f"subscriber{n}@example.com",
                "sender": SENDER,
                "subject": subject,
                "text": text,
                "html": html,
                "msg_id_header": f"<{delivery}@regwatch>",
                "headers": headers,
            }
        )
    return emails


def new_path(email: Email) -> tuple[str | None, list[str], bytes]:
    message = compose(**email)
    return message.sender, list(message.recipients), message.data


def old_path(email: Email) -> tuple[str | None, list[str], bytes]:
    return wire_before(compose_before(**email))


def cpu_per_email(path: Callable[[Email], object], emails: list[Email], count: int) -> float:
    """CPU seconds per email of ``count`` emails through ``path``."""
    started = time.process_time()
    for n in range(count):
        path(emails[n % len(emails)])
    return (time.process_time() - started) / count


def measure_compose(emails: list[Email], count: int, rounds: int) -> dict[str, Any]:
    for path in (new_path, old_path):  # warm up: imports, the address cache
        cpu_per_email(path, emails, len(emails))
    new, old = [], []
    for _ in range(rounds):
        old.append(cpu_per_email(old_path, emails, count))
        new.append(cpu_per_email(new_path, emails, count))
    sizes = [len(new_path(email)[2]) for email in emails]
    old_sizes = [len(old_path(email)[2]) for email in emails]
    return {
        "bench": "email_compose",
        "case": "compose",
        "emails_per_round": count,
        "rounds": rounds,
        "bytes_per_email": round(statistics.mean(sizes)),
        "before_bytes_per_email": round(statistics.mean(old_sizes)),
        "cpu_us_per_email": round(statistics.median(new) * 1e6, 1),
        "before_cpu_us_per_email": round(statistics.median(old) * 1e6, 1),
        "ratio_vs_before": round(statistics.median(new) / statistics.median(old), 4),
    }


async def _count(client: httpx.AsyncClient, receiver: str) -> int:
    return int((await client.get(receiver + "/count")).json())


async def _send_all(
    smtp_port: int, emails: list[Email], count: int, old: bool, receiver: str
) -> float:
    """CPU seconds per email of sending ``count`` emails over ``CONNECTIONS`` connections
    (the sink holds each one when its DATA is answered)."""
    queue = list(range(count))

    async def worker() -> None:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=smtp_port) as smtp:
            while queue:
                email = emails[queue.pop() % len(emails)]
                if old:
                    await smtp.send_message(compose_before(**email))
                else:
                    message = compose(**email)
                    await smtp.sendmail(
                        message.sender or "", list(message.recipients), message.data
                    )

    async with httpx.AsyncClient(timeout=30) as client:
        before = await _count(client, receiver)
        started = time.process_time()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        cpu = time.process_time() - started
        if await _count(client, receiver) != before + count:
            raise RuntimeError(f"the sink does not hold the {count} emails sent")
        return cpu / count


async def measure_send(emails: list[Email], count: int, smtp_port: int, receiver: str) -> Any:
    await _send_all(smtp_port, emails, len(emails) * 4, False, receiver)  # warm up
    old = await _send_all(smtp_port, emails, count, True, receiver)
    new = await _send_all(smtp_port, emails, count, False, receiver)
    return {
        "bench": "email_compose",
        "case": "send",
        "emails": count,
        "connections": CONNECTIONS,
        "cpu_us_per_email": round(new * 1e6, 1),
        "before_cpu_us_per_email": round(old * 1e6, 1),
        "ratio_vs_before": round(new / old, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 emails a round, 400 sent")
    quick = parser.parse_args().quick
    emails = sample_emails()
    results = [measure_compose(emails, 200 if quick else 1000, 5)]
    emit(results[-1])
    smtp_port = free_port()
    with receiver_process(smtp_port) as receiver:
        results.append(
            asyncio.run(measure_send(emails, 400 if quick else 2000, smtp_port, receiver))
        )
    emit(results[-1])
    save("email_compose", results)


if __name__ == "__main__":
    main()
