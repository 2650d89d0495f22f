"""The portal's chat channels page (``/portal/channels``): the subscriber's chat targets
(DingTalk, WeCom and Feishu robots, Slack and Teams webhooks), add one, remove one, send one a
test message.

Every action calls what ``/v1/channels`` calls (``services/notifier/targets.py`` and
``target_probe.py``), so both validate and behave the same:

- list: ``list_targets`` shown through ``target_out`` (a robot's token masked, never a secret),
  oldest first, with the language its messages are in: its own, else the subscriber's chat
  language (``chat_language``, set on the delivery page), else the platform's own;
- add: each field is checked first with the rules ``add_target`` applies (a known chat
  channel, ``validate_webhook_url``, the length limits, ``zh``/``en`` or none: "use my chat
  language"), so a bad field gets its
  message next to it in the page's language; what ``add_target`` still refuses is shown as it
  says it. The secret is write-only: never put back in a page, not even after a refusal;
- remove: ``remove_target`` (what still waited to go to it is cancelled);
- test: ``send_test`` through the notifier's senders, as an alert would go (signed, keyword
  carried, within the platform's rate); the platform's answer is shown; a spent rate says when
  to try again.

Another subscriber's target id is the portal's 404.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

import services.notifier.portal_common  # noqa: F401  (templates and messages)
from services.notifier.channels import channel
from services.notifier.channels.base import Senders, SendResult
from services.notifier.channels.robot import RobotChannel
from services.notifier.chat_text import LANGUAGES
from services.notifier.models import PreferencesRow, TargetRow
from services.notifier.target_probe import TooSoon, send_test
from services.notifier.targets import (
    MAX_KEYWORD,
    MAX_LABEL,
    MAX_SECRET,
    MAX_TARGETS,
    NewTarget,
    add_target,
    chat_channels,
    list_targets,
    remove_target,
    target_out,
)
from shared.db import Database
from shared.errors import InputError
from shared.portal import (
    PortalError,
    PortalSubscriber,
    Translator,
    portal_router,
    read_form,
    register_page,
    render,
)
from shared.portal.forms import Form
from shared.portal.i18n import request_language
from shared.ssrf import validate_webhook_url

PATH: Final = "/portal/channels"
ID_LIMIT: Final = 40
FIELD_LIMIT: Final = 4000
"""What is read of a field at most: more than any limit, so a too long value is refused with
its limit named rather than cut without a word."""

register_page(PATH, "nav.channels", order=45)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class TargetForm:
    """The add form as typed (never the secret) and its errors (field -> message, in the
    page's language; ``""`` for one about the whole form)."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    secret_typed: bool = False
    """A secret was typed: the page asks for it again (it is never sent back)."""


@dataclass(frozen=True)
class TestMessage:
    """A test message's outcome, for the page."""

    target: dict[str, Any]
    result: SendResult


def empty_form() -> TargetForm:
    channels = chat_channels()
    return TargetForm(
        {
            "channel": channels[0] if channels else "",
            "address": "",
            "keyword": "",
            "language": "",
            "label": "",
        }
    )


def platform_languages(names: list[str]) -> dict[str, str]:
    """Each chat platform's own language: what its messages are in when neither the target nor
    the subscriber names one."""
    found = {}
    for name in names:
        platform = channel(name)
        if isinstance(platform, RobotChannel):
            found[name] = platform.default_language
    return found


def check_target(form: Form, t: Translator) -> tuple[TargetForm, NewTarget | None]:
    """The posted target checked field by field with ``add_target``'s rules; the form state
    and, when every field is valid, the target to add."""
    values = {
        "channel": form.text("channel", 20),
        "address": form.text("address", FIELD_LIMIT),
        "keyword": form.text("keyword", FIELD_LIMIT),
        "language": form.text("language", 20),
        "label": form.text("label", FIELD_LIMIT),
    }
    secret = form.text("secret", FIELD_LIMIT)
    state = TargetForm(values, secret_typed=bool(secret))
    errors = state.errors
    if values["channel"] not in chat_channels():
        errors["channel"] = t("channels.error.channel")
    if not values["address"]:
        errors["address"] = t("channels.error.address_empty")
    else:
        try:
            validate_webhook_url(values["address"])
        except InputError:
            errors["address"] = t("delivery.error.webhook_url")
    for name, limit, value in (
        ("secret", MAX_SECRET, secret),
        ("keyword", MAX_KEYWORD, values["keyword"]),
        ("label", MAX_LABEL, values["label"]),
    ):
        if len(value) > limit:
            errors[name] = t("channels.error.too_long", limit=limit, length=len(value))
    if values["language"] and values["language"] not in LANGUAGES:
        errors["language"] = t("channels.error.language")
    if errors:
        return state, None
    new = NewTarget(
        values["channel"],
        values["address"],
        secret or None,
        values["keyword"] or None,
        values["language"] or None,
        values["label"] or None,
    )
    return state, new


def build_router(senders: Callable[[], Senders]) -> APIRouter:
    """``senders``: what the notifier sends with (for test messages)."""
    router = portal_router()

    def database(request: Request) -> Database:
        db: Database = request.app.state.db
        return db

    async def page(
        request: Request,
        subscriber_id: str,
        *,
        form: TargetForm | None = None,
        test: TestMessage | None = None,
        too_soon: int | None = None,
        problem: str | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        async with database(request).read_session() as session:
            rows = await list_targets(session, subscriber_id)
            prefs = await session.get(PreferencesRow, subscriber_id)
        chat_language = prefs.chat_language if prefs is not None else None
        query = request.query_params
        cancelled = query.get("cancelled", "")
        chat = chat_channels()  # the account's email and webhook are on the delivery page
        return await render(
            request,
            "notifier/portal_channels.html",
            {
                "targets": [target_out(row) for row in rows if row.channel in chat],
                "channels": chat,
                "target_languages": LANGUAGES,
                "chat_language": chat_language if chat_language in LANGUAGES else None,
                "platform_languages": platform_languages(chat),
                "form": (form or empty_form()).values,
                "errors": (form.errors if form else {}),
                "secret_typed": bool(form and form.secret_typed),
                "max_targets": MAX_TARGETS,
                "full": len(rows) >= MAX_TARGETS,
                "test": test,
                "too_soon": too_soon,
                "problem": problem,
                "added": query.get("added") == "1",
                "removed": query.get("removed") == "1",
                "cancelled": int(cancelled) if cancelled.isdigit() else 0,
            },
            status_code=status_code,
        )

    async def own_target(request: Request, subscriber_id: str, target_id: str) -> TargetRow:
        async with database(request).read_session() as session:
            row = await session.get(TargetRow, target_id[:ID_LIMIT])
        if row is None or row.subscriber_id != subscriber_id:
            raise PortalError(404, "error.not_found")
        return row

    @router.get("/channels")
    async def channels_page(request: Request, subscriber: PortalSubscriber) -> HTMLResponse:
        return await page(request, subscriber.id)

    @router.post("/channels/add", response_model=None)
    async def add(
        request: Request, subscriber: PortalSubscriber
    ) -> HTMLResponse | RedirectResponse:
        t = Translator(request_language(request))
        state, new = check_target(await read_form(request), t)
        if new is None:
            return await page(request, subscriber.id, form=state, status_code=422)
        try:
            async with database(request).session() as session:
                rows = await list_targets(session, subscriber.id)
                address = new.address.strip()
                if len(rows) >= MAX_TARGETS:
                    state.errors[""] = t("channels.error.too_many", limit=MAX_TARGETS)
                elif any(r.channel == new.channel and r.address == address for r in rows):
                    state.errors["address"] = t("channels.error.duplicate")
                else:
                    await add_target(session, subscriber.id, new, _now())
        except InputError as exc:  # what the checks above do not know: as add_target says
            state.errors[""] = str(exc)
        if state.errors:
            return await page(request, subscriber.id, form=state, status_code=422)
        return RedirectResponse(f"{PATH}?added=1#targets", status_code=303)

    @router.post("/channels/{target_id}/remove")
    async def remove(
        target_id: str, request: Request, subscriber: PortalSubscriber
    ) -> RedirectResponse:
        async with database(request).session() as session:
            cancelled = await remove_target(session, subscriber.id, target_id[:ID_LIMIT])
        if cancelled is None:
            raise PortalError(404, "error.not_found")
        return RedirectResponse(f"{PATH}?removed=1&cancelled={cancelled}#targets", status_code=303)

    @router.post("/channels/{target_id}/test")
    async def test(target_id: str, request: Request, subscriber: PortalSubscriber) -> HTMLResponse:
        row = await own_target(request, subscriber.id, target_id)
        try:
            result = await send_test(senders(), subscriber.id, row.id, _now())
        except TooSoon as exc:
            wait = max(1, math.ceil(exc.wait))
            return await page(request, subscriber.id, too_soon=wait, status_code=429)
        except InputError as exc:  # e.g. a channel this version does not know
            return await page(request, subscriber.id, problem=str(exc), status_code=409)
        if result is None:  # removed meanwhile
            raise PortalError(404, "error.not_found")
        return await page(request, subscriber.id, test=TestMessage(target_out(row), result))

    return router
