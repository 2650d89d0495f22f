"""Subscriber API: accounts and channels, API keys, watch items (CRUD, CSV import), alert
history with match reasons, and feedback on matches.

Every subscriber route acts on the caller's own data only (the API key names the subscriber);
another subscriber's watch item, alert or feedback answers 404, exactly as a missing one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.matcher.alerts import (
    AlertGroup,
    alert_groups,
    delete_feedback,
    give_feedback,
    list_feedback,
    suppression_key,
    verdicts_by_key,
)
from services.matcher.csvimport import MAX_IMPORT_BYTES, import_csv_bytes
from services.matcher.models import FeedbackRow, WatchRow
from services.matcher.schemas import (
    AlertMatchOut,
    AlertOut,
    ApiKeyOut,
    Credentials,
    FeedbackIn,
    FeedbackOut,
    ImportReport,
    SubscriberIn,
    SubscriberOut,
    SubscriberPatch,
    SubscriberUpdated,
    WatchIn,
    WatchOut,
    WatchPatch,
)
from services.matcher.store import (
    aliases_of,
    get_watch,
    list_watches,
    put_watch,
    remove_watch,
    update_watch,
)
from shared.accounts import (
    Subscriber,
    SubscriberChanges,
    register_subscriber,
    rotate_api_key,
    update_subscriber,
)
from shared.db import Database
from shared.errors import InputError
from shared.events import EntityRef, WatchRef
from shared.http import (
    ADMIN,
    AUTH,
    JSON_BODY,
    Responses,
    app_db,
    app_settings,
    current_subscriber,
    error_response,
    read_body,
    require_admin,
)
from shared.settings import Settings

CSV_EXAMPLE = "kind,name,aliases\napp,抖音,Douyin|TikTok China\ncompany,腾讯\n"


def _not_found(what: str) -> Responses:
    return {
        404: error_response(f"no such {what} for this subscriber (also when it is someone else's)")
    }


# Row ids are INTEGER columns (32 bits in PostgreSQL): a larger number names no row, and the
# database driver would fail on it instead of finding nothing.
MAX_ROW_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]

Db = Annotated[Database, Depends(app_db)]
Me = Annotated[Subscriber, Depends(current_subscriber)]
AppSettings = Annotated[Settings, Depends(app_settings)]


def subscriber_out(row: Subscriber) -> SubscriberOut:
    return SubscriberOut(
        id=row.id,
        name=row.name,
        email=row.email,
        webhook_url=row.webhook_url,
        reminders=row.reminders,
        timezone=row.timezone,
        created_at=row.created_at,
    )


def watch_out(row: WatchRow) -> WatchOut:
    return WatchOut(
        id=row.id,
        kind=row.kind,
        name=row.name,
        aliases=aliases_of(row),
        created_at=row.created_at,
    )


def feedback_out(row: FeedbackRow) -> FeedbackOut:
    return FeedbackOut(
        id=row.id,
        match_id=row.match_id,
        watch=WatchRef(kind=row.watch_kind, name=row.watch_name),
        entity=EntityRef(name=row.entity_name, developer=row.entity_developer),
        verdict=row.verdict,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def alert_out(subscriber_id: str, group: AlertGroup, verdicts: dict[str, str]) -> AlertOut:
    matches = [
        AlertMatchOut(
            watch=match.watch,
            entity=match.entity,
            score=match.score,
            reason=match.reason,
            alert_reason=entry.row.reason,
            cause=entry.row.cause,
            alerted_at=entry.row.created_at,
            feedback=verdicts.get(suppression_key(subscriber_id, match.watch, match.entity)),
        )
        for entry in group.entries
        for match in entry.event.matches
    ]
    return AlertOut(
        match_id=group.match_id,
        notice=group.notice,
        matches=matches,
        first_alerted_at=group.entries[0].row.created_at,
        last_alerted_at=group.entries[-1].row.created_at,
    )


async def _own_subscriber(session: AsyncSession, me: Subscriber) -> Subscriber:
    row = await session.get(Subscriber, me.id)
    if row is None:  # deleted between authentication and now
        raise HTTPException(401, "unknown API key")
    return row


def build_router(on_change: Callable[[], None] | None = None) -> APIRouter:
    """``on_change`` is called after a write that queued events (it kicks the outbox relay)."""
    router = APIRouter(prefix="/v1")

    def changed() -> None:
        if on_change is not None:
            on_change()

    # --- subscribers -----------------------------------------------------------------------

    @router.post(
        "/subscribers",
        status_code=201,
        dependencies=[Depends(require_admin)],
        tags=["subscribers"],
        responses={**ADMIN, **JSON_BODY},
    )
    async def create_subscriber(body: SubscriberIn, db: Db, settings: AppSettings) -> Credentials:
        """Create a subscriber (operator); the answer holds its API key and webhook secret,
        shown once."""
        try:
            async with db.session() as session:
                created = await register_subscriber(
                    session,
                    name=body.name,
                    email=body.email,
                    webhook_url=body.webhook_url,
                    reminders=body.reminders,
                    default_reminders=settings.default_reminders,
                    allow_private=settings.webhook_allow_private,
                    allow_link_local=settings.webhook_allow_link_local,
                    timezone=body.timezone,
                )
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc
        return Credentials(**created.as_dict())

    @router.get("/subscribers/me", tags=["subscribers"], responses=AUTH)
    async def get_me(me: Me) -> SubscriberOut:
        """Your settings: name, channels (email, webhook URL), reminder offsets, time zone."""
        return subscriber_out(me)

    @router.patch("/subscribers/me", tags=["subscribers"], responses={**AUTH, **JSON_BODY})
    async def update_me(
        body: SubscriberPatch, me: Me, db: Db, settings: AppSettings
    ) -> SubscriberUpdated:
        """Change your name, channels, reminder offsets (e.g. ``7d,3d,1d``) or time zone (an
        IANA name). Webhook URLs must be http(s) and, unless the operator allows private
        targets, resolve to public addresses. ``null`` removes a channel; one must remain."""
        changes = SubscriberChanges(fields=frozenset(body.model_fields_set), **body.model_dump())
        try:
            async with db.session() as session:
                row = await _own_subscriber(session, me)
                secret = await update_subscriber(
                    session,
                    row,
                    changes,
                    allow_private=settings.webhook_allow_private,
                    allow_link_local=settings.webhook_allow_link_local,
                )
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc
        return SubscriberUpdated(**subscriber_out(row).model_dump(), webhook_secret=secret)

    @router.post("/subscribers/me/api-keys/rotate", tags=["subscribers"], responses=AUTH)
    async def rotate_my_key(me: Me, db: Db) -> ApiKeyOut:
        """A new API key; the key used for this request stops working at once."""
        async with db.session() as session:
            api_key = await rotate_api_key(session, me.id)
        if api_key is None:
            raise HTTPException(401, "unknown API key")
        return ApiKeyOut(id=me.id, api_key=api_key)

    # --- watch items -----------------------------------------------------------------------

    @router.post(
        "/watches",
        status_code=201,
        tags=["watches"],
        responses={200: {"model": WatchOut, "description": "already watched"}, **AUTH, **JSON_BODY},
    )
    async def create_watch(
        body: WatchIn, me: Me, db: Db, settings: AppSettings, response: Response
    ) -> WatchOut:
        """Watch an app or a company, optionally with your own aliases. Watching the same
        kind and name again answers 200 with the existing item (new aliases are added). A new
        item beyond your watch limit (10,000 unless the operator set another) answers 422."""
        try:
            async with db.session() as session:
                added = await put_watch(
                    session,
                    me.id,
                    body.kind,
                    body.name,
                    body.aliases,
                    limit=settings.max_watches_per_subscriber,
                )
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc
        changed()
        if not added.created:
            response.status_code = 200
        return watch_out(added.row)

    @router.get("/watches", tags=["watches"], responses=AUTH)
    async def get_watches(
        me: Me,
        db: Db,
        after_id: Annotated[
            int, Query(ge=0, le=MAX_ROW_ID, description="page after this watch id")
        ] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> list[WatchOut]:
        """Your watch items by id; page with ``after_id`` (the last id of the previous page)."""
        async with db.session() as session:
            rows = await list_watches(session, me.id, after_id=after_id, limit=limit)
        return [watch_out(row) for row in rows]

    @router.post(
        "/watches/import",
        tags=["watches"],
        responses={
            **AUTH,
            413: error_response(
                f"CSV larger than {MAX_IMPORT_BYTES} bytes (refused as soon as the body passes it)"
            ),
            415: error_response("the body is not text/csv"),
            422: error_response(
                "the CSV is not UTF-8 text, or its new items would pass your watch limit "
                "(nothing is imported then)"
            ),
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "text/csv": {
                        "schema": {"type": "string"},
                        "example": CSV_EXAMPLE,
                    }
                },
            }
        },
    )
    async def import_csv(request: Request, me: Me, db: Db, settings: AppSettings) -> ImportReport:
        """Add many watch items from CSV: ``kind,name[,aliases]`` per line, aliases separated
        by ``|``, an optional header line, at most 10 MB. Good rows are imported even when
        others are bad; each bad row is reported with its line number and field. An import
        whose new items would take you past your watch limit is refused as a whole (422)."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in ("text/csv", "text/plain"):
            raise HTTPException(415, f"send the CSV as text/csv, not {content_type or 'nothing'}")
        data = await read_body(request, MAX_IMPORT_BYTES, "CSV")
        try:
            result = await import_csv_bytes(
                db, me.id, data, limit=settings.max_watches_per_subscriber
            )
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc
        if result.added or result.existing:
            changed()
        return ImportReport.model_validate(result.as_dict())

    @router.get(
        "/watches/{watch_id}", tags=["watches"], responses={**AUTH, **_not_found("watch item")}
    )
    async def get_one_watch(watch_id: RowId, me: Me, db: Db) -> WatchOut:
        async with db.session() as session:
            row = await get_watch(session, me.id, watch_id)
        if row is None:
            raise HTTPException(404, f"no watch item {watch_id} for this subscriber")
        return watch_out(row)

    @router.patch(
        "/watches/{watch_id}",
        tags=["watches"],
        responses={**AUTH, **_not_found("watch item"), **JSON_BODY},
    )
    async def patch_watch(watch_id: RowId, body: WatchPatch, me: Me, db: Db) -> WatchOut:
        """Rename a watch item or replace its aliases (the kind cannot change)."""
        try:
            async with db.session() as session:
                row = await update_watch(
                    session, me.id, watch_id, name=body.name, aliases=body.aliases
                )
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc
        if row is None:
            raise HTTPException(404, f"no watch item {watch_id} for this subscriber")
        changed()
        return watch_out(row)

    @router.delete(
        "/watches/{watch_id}",
        status_code=204,
        tags=["watches"],
        responses={**AUTH, **_not_found("watch item")},
    )
    async def delete_watch(watch_id: RowId, me: Me, db: Db) -> None:
        """Stop watching; the running matcher stops matching it within moments."""
        async with db.session() as session:
            removed = await remove_watch(session, me.id, watch_id)
        if not removed:
            raise HTTPException(404, f"no watch item {watch_id} for this subscriber")
        changed()

    # --- alerts and feedback ---------------------------------------------------------------

    @router.get("/alerts", tags=["alerts"], responses=AUTH)
    async def get_alerts(
        me: Me,
        db: Db,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        notice_id: Annotated[str | None, Query(max_length=80)] = None,
    ) -> list[AlertOut]:
        """Your alert history, newest first: one entry per notice with every match, its score,
        the reason it matched, when it was alerted and your feedback."""
        async with db.session() as session:
            groups = await alert_groups(session, me.id, limit=limit, notice_id=notice_id)
            verdicts = verdicts_by_key(await list_feedback(session, me.id))
        return [alert_out(me.id, group, verdicts) for group in groups]

    @router.get("/alerts/{match_id}", tags=["alerts"], responses={**AUTH, **_not_found("alert")})
    async def get_alert(match_id: str, me: Me, db: Db) -> AlertOut:
        async with db.session() as session:
            groups = await alert_groups(session, me.id, limit=1, match_id_=match_id)
            verdicts = verdicts_by_key(await list_feedback(session, me.id))
        if not groups:
            raise HTTPException(404, f"no alert {match_id} for this subscriber")
        return alert_out(me.id, groups[0], verdicts)

    @router.post(
        "/alerts/{match_id}/feedback",
        tags=["alerts"],
        responses={**AUTH, **_not_found("alert"), **JSON_BODY},
    )
    async def post_feedback(match_id: str, body: FeedbackIn, me: Me, db: Db) -> FeedbackOut:
        """Mark one match of an alert ``wrong`` (that watch is never alerted on that entity
        again) or ``right``. Name the match by its ``watch`` and ``entity`` as the alert
        shows them."""
        try:
            async with db.session() as session:
                row = await give_feedback(
                    session, me.id, match_id, body.watch, body.entity, body.verdict
                )
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc
        if row is None:
            raise HTTPException(404, f"no alert {match_id} for this subscriber")
        return feedback_out(row)

    @router.get("/feedback", tags=["alerts"], responses=AUTH)
    async def get_feedback(me: Me, db: Db) -> list[FeedbackOut]:
        """Your verdicts on matches (``wrong`` ones are suppressed)."""
        async with db.session() as session:
            rows = await list_feedback(session, me.id)
        return [feedback_out(row) for row in rows]

    @router.delete(
        "/feedback/{feedback_id}",
        status_code=204,
        tags=["alerts"],
        responses={**AUTH, **_not_found("feedback")},
    )
    async def remove_feedback(feedback_id: RowId, me: Me, db: Db) -> None:
        """Withdraw a verdict (a suppressed match is alerted again from then on)."""
        async with db.session() as session:
            removed = await delete_feedback(session, me.id, feedback_id)
        if not removed:
            raise HTTPException(404, f"no feedback {feedback_id} for this subscriber")

    return router
