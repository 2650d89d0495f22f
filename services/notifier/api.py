"""Notifier routes: reminders, the delivery ledger, notification settings, webhook secret
rotation and the calendar feed (the email unsubscribe link: ``unsubscribe.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from services.notifier.deadlines import open_deadlines
from services.notifier.endpoints import enable_endpoint
from services.notifier.history import list_deliveries, parse_since, replay_delivery
from services.notifier.ics import CalendarDeadline, calendar
from services.notifier.links import calendar_url
from services.notifier.preferences import (
    PreferenceChanges,
    apply_changes,
    by_token,
    describe,
    get_preferences,
    new_token,
)
from services.notifier.reminders import SHANGHAI
from services.notifier.scheduler import answer_deadline, list_reminders, notice_reminders
from services.notifier.tracking import read_summary
from services.notifier.webhook_secrets import rotate_secret
from shared.accounts import Subscriber
from shared.db import Database
from shared.errors import InputError
from shared.http import (
    AUTH,
    INVALID,
    JSON_BODY,
    Responses,
    app_db,
    app_settings,
    current_subscriber,
    error_response,
)
from shared.settings import Settings

DbDep = Annotated[Database, Depends(app_db)]
SubscriberDep = Annotated[Subscriber, Depends(current_subscriber)]
SettingsDep = Annotated[Settings, Depends(app_settings)]
Token = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


def _not_found(what: str) -> Responses:
    return {404: error_response(f"no such {what} for this subscriber")}


def _conflict(what: str) -> Responses:
    return {409: error_response(what)}


class QuietHours(BaseModel):
    start: str = Field(description="HH:MM local time", examples=["22:00"])
    end: str = Field(description="HH:MM local time", examples=["07:00"])


class SettingsUpdate(BaseModel):
    """Leave a field out to keep it; ``quiet_hours: null`` removes quiet hours."""

    digest: Literal["immediate", "daily"] | None = None
    digest_hour: int | None = Field(default=None, ge=0, le=23)
    quiet_hours: QuietHours | None = None
    email_alerts: bool | None = None
    remind_due_day: bool | None = None
    remind_overdue: bool | None = None
    reminder_time: str | None = Field(
        default=None,
        description="HH:MM your time at which day reminders fire; null = the server's (09:00)",
        examples=["08:30"],
    )
    chat_language: str | None = Field(
        default=None,
        description="zh or en for chat messages whose target names no language; null = each "
        "platform's own (Chinese for DingTalk, WeCom, Feishu; English for Slack, Teams)",
        examples=["en"],
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _bad(exc: InputError) -> HTTPException:
    return HTTPException(422, str(exc))


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["notifications"])

    # --- reminders and deadlines --------------------------------------------------------

    @router.get("/reminders", responses=AUTH)
    async def reminders(db: DbDep, subscriber: SubscriberDep) -> list[dict[str, Any]]:
        """Reminders with ``fire_at`` (UTC), ``fire_at_local`` (your time zone), ``late``;
        ``skipped`` ones with the reason in ``note``."""
        return await list_reminders(db, subscriber.id)

    @router.get("/reminders/{notice_id}", responses={**AUTH, **_not_found("tracked deadline")})
    async def notice_reminders_route(
        notice_id: Annotated[str, Path(max_length=80)], db: DbDep, subscriber: SubscriberDep
    ) -> dict[str, Any]:
        """One notice's deadline and its reminders: ``{notice_id, due_on, status,
        deadline_passed, message, reminders}``; ``message`` says when the deadline has passed
        and nothing is planned any more."""
        try:
            return await notice_reminders(db, subscriber.id, notice_id, _now())
        except InputError as exc:
            raise HTTPException(404, str(exc)) from exc

    @router.post(
        "/reminders/{notice_id}/answer", responses={**AUTH, **_not_found("tracked deadline")}
    )
    async def answer(
        notice_id: Annotated[str, Path(max_length=80)], db: DbDep, subscriber: SubscriberDep
    ) -> dict[str, Any]:
        """You dealt with this deadline: its remaining reminders stop and it leaves the
        calendar."""
        try:
            async with db.session() as session:
                cancelled = await answer_deadline(session, subscriber.id, notice_id, _now())
        except InputError as exc:
            raise HTTPException(404, str(exc)) from exc
        return {"notice_id": notice_id, "status": "answered", "reminders_cancelled": cancelled}

    # --- the delivery ledger ------------------------------------------------------------

    @router.get("/deliveries", responses={**AUTH, **INVALID})
    async def deliveries(
        db: DbDep,
        subscriber: SubscriberDep,
        status: Annotated[str | None, Query(description="pending, held, failed, ...")] = None,
        channel: Annotated[
            str | None, Query(description="email, webhook, dingtalk, wecom, feishu, slack, teams")
        ] = None,
        since: Annotated[str | None, Query(description="ISO-8601: created at or after")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """Your deliveries, newest first, each with every attempt (``history``)."""
        try:
            async with db.session() as session:
                return await list_deliveries(
                    session,
                    subscriber_id=subscriber.id,
                    status=status,
                    channel=channel,
                    since=parse_since(since),
                    limit=limit,
                )
        except InputError as exc:
            raise _bad(exc) from exc

    @router.post(
        "/deliveries/{delivery_id}/replay",
        responses={
            **AUTH,
            **_not_found("delivery"),
            **_conflict("only a failed delivery is sent again"),
        },
    )
    async def replay(
        delivery_id: Annotated[str, Path(max_length=40)], db: DbDep, subscriber: SubscriberDep
    ) -> dict[str, Any]:
        """Send a failed delivery again (same id, attempts kept)."""
        try:
            async with db.session() as session:
                row = await replay_delivery(
                    session, delivery_id, _now(), subscriber_id=subscriber.id
                )
                return {"id": row.id, "status": row.status, "attempts": row.attempts}
        except InputError as exc:
            code = 404 if str(exc).startswith("no delivery") else 409
            raise HTTPException(code, str(exc)) from exc

    # --- settings -----------------------------------------------------------------------

    @router.get("/notifications/settings", responses=AUTH)
    async def get_settings(
        db: DbDep, subscriber: SubscriberDep, settings: SettingsDep
    ) -> dict[str, Any]:
        """Digest, quiet hours, email alerts on/off, due-day and overdue reminders, reminder
        time."""
        async with db.session() as session:
            prefs = await get_preferences(session, subscriber.id)
            return describe(prefs, subscriber, settings)

    @router.put("/notifications/settings", responses={**AUTH, **JSON_BODY})
    async def put_settings(
        update: SettingsUpdate, db: DbDep, subscriber: SubscriberDep, settings: SettingsDep
    ) -> dict[str, Any]:
        """Change what you give; ``reminder_time: null`` goes back to the server's time. Your
        scheduled reminders move to a new reminder time within a reminder sweep."""
        changes = PreferenceChanges(
            digest=update.digest,
            digest_hour=update.digest_hour,
            clear_quiet_hours="quiet_hours" in update.model_fields_set
            and update.quiet_hours is None,
            quiet_start=update.quiet_hours.start if update.quiet_hours else None,
            quiet_end=update.quiet_hours.end if update.quiet_hours else None,
            email_alerts=update.email_alerts,
            remind_due_day=update.remind_due_day,
            remind_overdue=update.remind_overdue,
            reminder_time=update.reminder_time,
            clear_reminder_time="reminder_time" in update.model_fields_set
            and update.reminder_time is None,
            chat_language=update.chat_language,
            clear_chat_language="chat_language" in update.model_fields_set
            and update.chat_language is None,
        )
        try:
            async with db.session() as session:
                prefs = await get_preferences(session, subscriber.id)
                apply_changes(prefs, changes, _now())
                return describe(prefs, subscriber, settings)
        except InputError as exc:
            raise _bad(exc) from exc

    # --- webhooks -----------------------------------------------------------------------

    @router.post(
        "/webhook/secret/rotate",
        responses={**AUTH, **_conflict("no webhook: nothing to sign")},
    )
    async def rotate(db: DbDep, subscriber: SubscriberDep, settings: SettingsDep) -> dict[str, Any]:
        """A new signing secret; the old one keeps signing beside it for
        ``REGWATCH_SECRET_ROTATION_GRACE``."""
        try:
            async with db.session() as session:
                rotation = await rotate_secret(session, subscriber, settings.rotation_grace, _now())
        except InputError as exc:
            raise HTTPException(409, str(exc)) from exc
        return rotation.as_dict()

    @router.post("/webhook/enable", responses=AUTH)
    async def enable(db: DbDep, subscriber: SubscriberDep) -> dict[str, Any]:
        """Turn a webhook endpoint disabled after ``410 Gone`` back on."""
        async with db.session() as session:
            enabled = await enable_endpoint(session, subscriber.id, _now())
        return {"enabled": enabled}

    # --- calendar -----------------------------------------------------------------------

    @router.get("/calendar", responses=AUTH)
    async def calendar_info(
        db: DbDep, subscriber: SubscriberDep, settings: SettingsDep
    ) -> dict[str, str]:
        """The URL of your deadline calendar (subscribe to it in any calendar app)."""
        async with db.session() as session:
            prefs = await get_preferences(session, subscriber.id)
            return {"url": calendar_url(settings, prefs.calendar_token)}

    @router.post("/calendar/rotate", responses=AUTH)
    async def calendar_rotate(
        db: DbDep, subscriber: SubscriberDep, settings: SettingsDep
    ) -> dict[str, str]:
        """A new calendar URL; the old one stops working."""
        async with db.session() as session:
            prefs = await get_preferences(session, subscriber.id)
            prefs.calendar_token = new_token()
            prefs.updated_at = _now()
            return {"url": calendar_url(settings, prefs.calendar_token)}

    @router.get(
        "/calendar/{token}.ics",
        response_class=Response,
        responses={
            200: {"content": {"text/calendar": {}}},
            404: error_response("unknown or replaced calendar URL"),
        },
    )
    async def calendar_feed(token: Token, db: DbDep) -> Response:
        """The iCalendar feed: one all-day event per open deadline (no API key: the URL is
        the secret)."""
        today = datetime.now(SHANGHAI).date()
        async with db.session() as session:
            found = await by_token(session, "calendar_token", token)
            if found is None:
                raise HTTPException(404, "unknown calendar")
            _prefs, subscriber = found
            items = []
            for row in await open_deadlines(session, subscriber.id, from_day=today):
                notice, matches = read_summary(row.payload)
                items.append(
                    CalendarDeadline(subscriber.id, notice, matches, row.due_on, row.updated_at)
                )
        return Response(
            calendar(items),
            media_type="text/calendar; charset=utf-8",
            headers={"cache-control": "private, max-age=300"},
        )

    return router
