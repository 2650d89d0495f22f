"""Email: one message per alert through the SMTP pool (``services.notifier.email``).

Targets: the account's own address and any email target added besides it (rows of
``notifier_targets``). Every email waits in one queue (the SMTP server), ``QUEUE_DEPTH`` per
connection of the pool claimed at once, as many sent at once as the pool has connections.
An unsubscribed subscriber gets no email alerts, except the notice that their webhook endpoint
was disabled. Stored per delivery: the rendered subject, text and HTML, with the alert's type
and data (so a digest can be rendered from held emails too).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from services.notifier import render
from services.notifier.alerts import Alert, Context
from services.notifier.channels.base import Channel, Senders, SendResult, Target
from services.notifier.email import compose
from services.notifier.models import DeliveryRow
from services.notifier.payloads import DIGEST, ENDPOINT_DISABLED
from shared.accounts import validate_email
from shared.events import Match, NoticeSummary
from shared.public_url import is_https

SMTP_QUEUE = "smtp:"
QUEUE_DEPTH = 4
"""Emails claimed at once per SMTP connection: they wait for a free connection in the pool
(``EmailSender``; the wait counts in the attempt's timeout). The dispatcher claims again
only once half of what it sends has finished: with a queue as deep as the pool, a fan-out's
emails went out four per claim, behind the webhooks (912 of 2,006 in the 5 minutes of a
bench.fanout --quick run, against every webhook by 250 s)."""


def digest_item(alert: dict[str, Any]) -> render.DigestItem:
    data = alert["data"]
    return render.DigestItem(
        type=alert["type"],
        notice=NoticeSummary.model_validate(data["notice"]),
        matches=[Match.model_validate(m) for m in data.get("matches", [])],
        offset=data.get("offset"),
    )


class EmailChannel(Channel):
    name: ClassVar[str] = "email"
    takes_secret: ClassVar[bool] = False

    def check_address(self, address: str) -> str:
        return validate_email(address)

    def wants(self, alert: Alert, ctx: Context) -> bool:
        return ctx.prefs.email_unsubscribed_at is None or alert.type == ENDPOINT_DISABLED

    def render(self, alert: Alert, ctx: Context, target: Target) -> str:
        subject, text, html = alert.email
        return _content(subject, text, html, alert.type, alert.data, ctx.unsubscribe_url)

    def render_digest(
        self, ctx: Context, target: Target, why: str, alerts: list[dict[str, Any]]
    ) -> str:
        subject, text, html = render.render_digest_email(
            [digest_item(alert) for alert in alerts],
            why=why,
            now=ctx.now,
            tz=ctx.tz,
            public_url=ctx.public_url,
            unsubscribe_url=ctx.unsubscribe_url,
        )
        data = {"why": why, "count": len(alerts), "ids": [a["id"] for a in alerts]}
        return _content(subject, text, html, DIGEST, data, ctx.unsubscribe_url)

    def queue(self, target: str) -> str:
        return SMTP_QUEUE

    def limit(self, senders: Senders) -> int:
        return senders.smtp.connections * QUEUE_DEPTH

    async def send(self, row: DeliveryRow, senders: Senders) -> SendResult:
        content = json.loads(row.payload)
        headers = {"X-Regwatch-Alert-Id": row.id, "X-Regwatch-Notice-Id": row.notice_id}
        headers.update(unsubscribe_headers(content.get("unsubscribe_url")))
        message = compose(
            to=row.target,
            sender=senders.settings.smtp_from,
            subject=content["subject"],
            text=content["text"],
            html=content["html"],
            msg_id_header=f"<{row.id}@regwatch>",
            headers=headers,
        )
        return await senders.smtp.send(message)


def unsubscribe_headers(url: str | None) -> dict[str, str]:
    """``List-Unsubscribe`` for an unsubscribe link, and ``List-Unsubscribe-Post`` (one-click,
    RFC 8058) only when the link is HTTPS, as RFC 8058 requires: a mail app posts to it
    without asking."""
    if not url:
        return {}
    headers = {"List-Unsubscribe": f"<{url}>"}
    if is_https(url):
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def _content(
    subject: str, text: str, html: str, kind: str, data: dict[str, Any], unsubscribe: str | None
) -> str:
    content: dict[str, Any] = {
        "subject": subject,
        "text": text,
        "html": html,
        "type": kind,
        "data": data,
        "unsubscribe_url": unsubscribe,
    }
    return json.dumps(content, ensure_ascii=False)
