"""The portal's "email me a sign-in link" form: ``POST /portal/signin/email``.

The notifier serves it because it owns SMTP. The answer is always the same page ("if that
address belongs to a subscription, a link is on its way"), whether or not the address is
known, and the work happens after the answer is sent (a background task), so neither the page
nor its timing tells who subscribes. The email goes to the address stored for the
subscription, in English and Chinese, with one link per subscription of that address; each
link is made by ``shared/portal/tokens.py`` (one use, 15 minutes).

Limits, per process: :data:`PER_ADDRESS` emails to one address and :data:`PER_CLIENT`
requests from one client address per :data:`WINDOW_SECONDS`; beyond them the page is the same
and nothing is sent. It is not an alert: it does not go through the delivery ledger.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from services.notifier.email import EmailSender, compose
from services.notifier.render import render_template
from shared.accounts import Subscriber
from shared.auth_limit import AuthFailureLimiter, client_address
from shared.db import Database
from shared.logging import get_logger
from shared.portal import Translator, portal_router, read_form
from shared.portal.i18n import LANGUAGES
from shared.portal.links import link_path, request_base
from shared.portal.signin import message, signin_page
from shared.portal.tokens import create_link
from shared.settings import Settings

log = get_logger("regwatch.notifier.portal")

WINDOW_SECONDS: Final = 900.0
PER_ADDRESS: Final = 3
PER_CLIENT: Final = 10
MAX_ACCOUNTS: Final = 5


def render_link_email(accounts: list[tuple[str, str, str]]) -> tuple[str, str, str]:
    """(subject, text, html) of the sign-in email: ``accounts`` are (name, id, url)."""
    parts = []
    for lang in LANGUAGES:
        t = Translator(lang)
        parts.append(
            {
                "lang": "zh-CN" if lang == "zh" else lang,
                "intro": t("email.link.intro"),
                "accounts": [
                    {"label": t("email.link.account", name=name, id=subscriber_id), "url": url}
                    for name, subscriber_id, url in accounts
                ],
                "expiry": t("email.link.expiry"),
                "ignore": t("email.link.ignore"),
            }
        )
    subject = " / ".join(Translator(lang)("email.link.subject") for lang in LANGUAGES)
    text = render_template("signin_link.txt", parts=parts)
    html = render_template("signin_link.html", parts=parts, subject=subject)
    return subject, text, html


async def send_links(
    db: Database, sender: EmailSender, settings: Settings, address: str, base: str
) -> None:
    """Email sign-in links to the subscriptions of ``address`` (lower case), if any."""
    try:
        now = datetime.now(UTC)
        async with db.session() as session:
            rows = (
                (
                    await session.execute(
                        select(Subscriber)
                        .where(func.lower(Subscriber.email) == address)
                        .order_by(Subscriber.created_at, Subscriber.id)
                        .limit(MAX_ACCOUNTS)
                    )
                )
                .scalars()
                .all()
            )
            accounts = []
            for row in rows:
                token = await create_link(session, row.id, now=now)
                accounts.append((row.name, row.id, base + link_path(token)))
            to = rows[0].email if rows else None
        if not accounts or to is None:
            log.info("portal sign-in link asked for an address without a subscription")
            return
        subject, text, html = render_link_email(accounts)
        result = await sender.send(
            compose(to=to, sender=settings.smtp_from, subject=subject, text=text, html=html)
        )
        ids = [subscriber_id for _, subscriber_id, _ in accounts]
        if result.ok:
            log.info("portal sign-in link sent", extra={"subscriber_ids": ids})
        else:
            log.warning(
                "portal sign-in link not sent: %s", result.error, extra={"subscriber_ids": ids}
            )
    except Exception:
        log.exception("portal sign-in link failed")


def build_router(sender: EmailSender, settings: Settings) -> APIRouter:
    router = portal_router()
    per_address = AuthFailureLimiter(PER_ADDRESS, WINDOW_SECONDS)
    per_client = AuthFailureLimiter(PER_CLIENT, WINDOW_SECONDS)

    @router.post("/signin/email")
    async def email_link(request: Request, background: BackgroundTasks) -> HTMLResponse:
        form = await read_form(request)
        address = form.text("email", 320).lower()
        local, _, domain = address.partition("@")
        if not local or "." not in domain or any(char.isspace() for char in address):
            note = message(request, "error", "signin.email_invalid", "email")
            return await signin_page(request, note=note, status_code=400)
        client = client_address(request, settings.trusted_proxy_networks)
        if per_client.retry_after(client) is None and per_address.retry_after(address) is None:
            per_client.failed(client)
            per_address.failed(address)
            db: Database = request.app.state.db
            base = request_base(request, settings)
            background.add_task(send_links, db, sender, settings, address, base)
        else:
            log.info("portal sign-in link refused: too many asked", extra={"client": client})
        return await signin_page(request, note=message(request, "info", "signin.email_sent"))

    return router
