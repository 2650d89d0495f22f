"""The portal's delivery page (``/portal/delivery``): channel settings, webhook secret
rotation, a signed ``test`` event, and the delivery log with replay.

Every action calls what the HTTP API calls, so both validate and behave the same:

- channel settings: ``shared/accounts.py`` (email, webhook URL, reminder offsets such as
  ``7d,1d``, time zone: what ``PATCH /v1/subscribers/me`` does) and
  ``services/notifier/preferences.py`` (digest, quiet hours, email alerts, due-day and overdue
  reminders, reminder time, chat language: ``PUT /v1/notifications/settings``); each bad field
  gets its message next to it;
- secret rotation: ``webhook_secrets.rotate_secret`` (``POST /v1/webhook/secret/rotate``); the
  new secret is shown once, in the answer to the POST;
- test event: ``webhook_probe.send_test_event`` through the notifier's webhook sender (the
  signer and SSRF checks of real deliveries); the receiver's answer is shown in the answer;
- turning a webhook disabled after ``410 Gone`` back on: ``endpoints.enable_endpoint``
  (``POST /v1/webhook/enable``);
- replay: ``history.replay_delivery`` (``POST /v1/deliveries/{id}/replay``), failed deliveries
  only; another subscriber's delivery is a 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

import services.notifier.portal_common  # noqa: F401  (templates and messages)
from services.notifier.chat_text import LANGUAGES
from services.notifier.endpoints import enable_endpoint
from services.notifier.history import list_deliveries, replay_delivery
from services.notifier.holding import DIGEST_MODES
from services.notifier.models import PreferencesRow
from services.notifier.preferences import PreferenceChanges, apply_changes, get_preferences
from services.notifier.webhook import WebhookSender
from services.notifier.webhook_probe import TestEvent, send_test_event
from services.notifier.webhook_secrets import Rotation, rotate_secret
from shared.accounts import (
    Subscriber,
    SubscriberChanges,
    update_subscriber,
    validate_email,
    validate_reminders,
    validate_timezone,
    validate_webhook,
)
from shared.db import Database
from shared.errors import InputError
from shared.portal import (
    PortalError,
    PortalSubscriber,
    portal_router,
    read_form,
    register_page,
    render,
)
from shared.portal.forms import Form
from shared.settings import Settings

PATH: Final = "/portal/delivery"
LOG_LIMIT: Final = 50

register_page(PATH, "nav.delivery", order=40)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class SettingsForm:
    """The settings form's values (as typed) and its errors (field -> message key)."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


def form_values(subscriber: Subscriber, prefs: PreferencesRow) -> dict[str, Any]:
    """The form filled in from the stored settings."""
    return {
        "email": subscriber.email or "",
        "webhook_url": subscriber.webhook_url or "",
        "reminders": subscriber.reminders,
        "timezone": subscriber.timezone,
        "digest": prefs.digest,
        "digest_hour": str(prefs.digest_hour),
        "quiet_start": prefs.quiet_start or "",
        "quiet_end": prefs.quiet_end or "",
        "email_alerts": prefs.email_unsubscribed_at is None,
        "remind_due_day": prefs.remind_due_day,
        "remind_overdue": prefs.remind_overdue,
        "reminder_time": prefs.reminder_time or "",
        "chat_language": prefs.chat_language or "",
    }


async def check_settings(
    form: Form, allow_private: bool, allow_link_local: bool = False
) -> tuple[SettingsForm, Any]:
    """Validate the posted form field by field with the API's validators; returns the form
    state and, when valid, (subscriber changes, preference changes)."""
    values: dict[str, Any] = {
        "email": form.text("email", 320),
        "webhook_url": form.text("webhook_url", 2000),
        "reminders": form.text("reminders", 200),
        "timezone": form.text("timezone", 64),
        "digest": form.text("digest", 20),
        "digest_hour": form.text("digest_hour", 2),
        "quiet_start": form.text("quiet_start", 5),
        "quiet_end": form.text("quiet_end", 5),
        "email_alerts": form.get("email_alerts") == "on",
        "remind_due_day": form.get("remind_due_day") == "on",
        "remind_overdue": form.get("remind_overdue") == "on",
        "reminder_time": form.text("reminder_time", 5),
        "chat_language": form.text("chat_language", 20),
    }
    state = SettingsForm(values)
    errors = state.errors
    email = webhook = None
    try:
        email = validate_email(values["email"]) if values["email"] else None
    except InputError:
        errors["email"] = "delivery.error.email"
    try:
        webhook = (
            await validate_webhook(
                values["webhook_url"],
                allow_private=allow_private,
                allow_link_local=allow_link_local,
            )
            if values["webhook_url"]
            else None
        )
    except InputError:
        errors["webhook_url"] = "delivery.error.webhook_url"
    if not values["email"] and not values["webhook_url"]:
        errors["email"] = "delivery.error.channel"
    try:
        reminders = validate_reminders(values["reminders"])
    except InputError:
        errors["reminders"] = "delivery.error.reminders"
    try:
        timezone = validate_timezone(values["timezone"])
    except InputError:
        errors["timezone"] = "delivery.error.timezone"
    hour = int(values["digest_hour"]) if values["digest_hour"].isdigit() else -1
    preferences = PreferenceChanges(
        email_alerts=values["email_alerts"],
        remind_due_day=values["remind_due_day"],
        remind_overdue=values["remind_overdue"],
    )
    scratch = PreferencesRow()  # the API's rules, applied to a row that is never stored
    reminder_time, chat_language = values["reminder_time"], values["chat_language"]
    for name, change in (
        ("digest", PreferenceChanges(digest=values["digest"])),
        ("digest_hour", PreferenceChanges(digest_hour=hour)),
        ("reminder_time", PreferenceChanges(reminder_time=reminder_time or None)),
        ("chat_language", PreferenceChanges(chat_language=chat_language or None)),
    ):
        try:
            apply_changes(scratch, change, _now())
        except InputError:
            errors[name] = f"delivery.error.{name}"
    preferences.digest, preferences.digest_hour = values["digest"], hour
    preferences.reminder_time = reminder_time or None
    preferences.clear_reminder_time = not reminder_time
    preferences.chat_language = chat_language or None  # empty: each chat platform's own
    preferences.clear_chat_language = not chat_language
    start, end = values["quiet_start"], values["quiet_end"]
    quiet = PreferenceChanges(
        clear_quiet_hours=not start and not end,
        quiet_start=start or None,
        quiet_end=end or None,
    )
    try:
        apply_changes(scratch, quiet, _now())
    except InputError:
        errors["quiet"] = "delivery.error.quiet"
    preferences.clear_quiet_hours = quiet.clear_quiet_hours
    preferences.quiet_start, preferences.quiet_end = quiet.quiet_start, quiet.quiet_end
    if errors:
        return state, None
    changes = SubscriberChanges(
        fields=frozenset({"email", "webhook_url", "reminders", "timezone"}),
        email=email,
        webhook_url=webhook,
        reminders=reminders,
        timezone=timezone,
    )
    return state, (changes, preferences)


def build_router(
    sender: WebhookSender, settings: Settings, on_replayed: Callable[[], None] | None = None
) -> APIRouter:
    router = portal_router()

    async def page(
        request: Request,
        subscriber_id: str,
        *,
        form: SettingsForm | None = None,
        secret: str | None = None,
        rotation: Rotation | None = None,
        test: TestEvent | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        db: Database = request.app.state.db
        async with db.session() as session:
            subscriber = await session.get(Subscriber, subscriber_id)
            if subscriber is None:
                raise PortalError(404, "error.not_found")
            prefs = await get_preferences(session, subscriber_id)
            state = form or SettingsForm(form_values(subscriber, prefs))
            log = await list_deliveries(session, subscriber_id=subscriber_id, limit=LOG_LIMIT)
            has_webhook = bool(subscriber.webhook_url)
            disabled = prefs.webhook_disabled_url
        query = request.query_params
        return await render(
            request,
            "notifier/portal_delivery.html",
            {
                "form": state.values,
                "errors": state.errors,
                "digest_modes": DIGEST_MODES,
                "hours": range(24),
                "reminder_time_default": settings.reminder_time,
                "chat_languages": LANGUAGES,
                "has_webhook": has_webhook,
                "webhook_disabled": disabled,
                "new_secret": secret,
                "rotation": rotation,
                "test": test,
                "deliveries": log,
                "saved": query.get("saved") == "1",
                "enabled": query.get("enabled") == "1",
                "replayed": query.get("replayed", "")[:40],
            },
            status_code=status_code,
        )

    async def in_session(request: Request, work: Callable[[Any], Awaitable[Any]]) -> Any:
        db: Database = request.app.state.db
        async with db.session() as session:
            return await work(session)

    @router.get("/delivery")
    async def delivery(request: Request, subscriber: PortalSubscriber) -> HTMLResponse:
        return await page(request, subscriber.id)

    @router.post("/delivery/settings", response_model=None)
    async def save_settings(
        request: Request, subscriber: PortalSubscriber
    ) -> HTMLResponse | RedirectResponse:
        state, valid = await check_settings(
            await read_form(request),
            settings.webhook_allow_private,
            settings.webhook_allow_link_local,
        )
        if valid is None:
            return await page(request, subscriber.id, form=state, status_code=400)
        changes, preferences = valid

        async def save(session: Any) -> str | None:
            row = await session.get(Subscriber, subscriber.id)
            if row is None:
                raise PortalError(404, "error.not_found")
            secret = await update_subscriber(
                session,
                row,
                changes,
                allow_private=settings.webhook_allow_private,
                allow_link_local=settings.webhook_allow_link_local,
            )
            apply_changes(await get_preferences(session, subscriber.id), preferences, _now())
            return secret

        try:
            secret = await in_session(request, save)
        except InputError:
            state.errors["email"] = "delivery.error.channel"
            return await page(request, subscriber.id, form=state, status_code=400)
        if secret is not None:  # a first webhook: its secret is shown this once
            return await page(request, subscriber.id, secret=secret)
        return RedirectResponse(f"{PATH}?saved=1", status_code=303)

    @router.post("/delivery/secret")
    async def rotate(request: Request, subscriber: PortalSubscriber) -> HTMLResponse:
        async def work(session: Any) -> Rotation:
            row = await session.get(Subscriber, subscriber.id)
            if row is None:
                raise PortalError(404, "error.not_found")
            return await rotate_secret(session, row, settings.rotation_grace, _now())

        try:
            rotation = await in_session(request, work)
        except InputError as exc:
            raise PortalError(409, "delivery.error.no_webhook") from exc
        return await page(request, subscriber.id, secret=rotation.webhook_secret, rotation=rotation)

    @router.post("/delivery/test")
    async def test_event(request: Request, subscriber: PortalSubscriber) -> HTMLResponse:
        async def work(session: Any) -> TestEvent:
            row = await session.get(Subscriber, subscriber.id)
            if row is None:
                raise PortalError(404, "error.not_found")
            return await send_test_event(session, sender, row, _now())

        try:
            sent = await in_session(request, work)
        except InputError as exc:
            raise PortalError(409, "delivery.error.no_webhook") from exc
        return await page(request, subscriber.id, test=sent)

    @router.post("/delivery/webhook/enable")
    async def enable(request: Request, subscriber: PortalSubscriber) -> RedirectResponse:
        async def work(session: Any) -> bool:
            return await enable_endpoint(session, subscriber.id, _now())

        await in_session(request, work)
        if on_replayed is not None:
            on_replayed()
        return RedirectResponse(f"{PATH}?enabled=1", status_code=303)

    @router.post("/delivery/{delivery_id}/replay")
    async def replay(
        delivery_id: str, request: Request, subscriber: PortalSubscriber
    ) -> RedirectResponse:
        async def work(session: Any) -> None:
            await replay_delivery(session, delivery_id[:40], _now(), subscriber_id=subscriber.id)

        try:
            await in_session(request, work)
        except InputError as exc:
            if str(exc).startswith("no delivery"):
                raise PortalError(404, "error.not_found") from exc
            raise PortalError(409, "delivery.error.not_failed") from exc
        if on_replayed is not None:
            on_replayed()
        return RedirectResponse(f"{PATH}?replayed={delivery_id[:40]}#log", status_code=303)

    return router
