"""``/v1/channels``: a subscriber's channel targets (DingTalk robots, more email addresses or
webhook URLs ...): list, add, remove, send a test message. Secrets are write-only
(``has_secret`` says whether one is set)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import Response
from pydantic import BaseModel, Field

from services.notifier.channels.base import Senders
from services.notifier.target_probe import TooSoon, send_test
from services.notifier.targets import (
    MAX_KEYWORD,
    MAX_LABEL,
    MAX_SECRET,
    NewTarget,
    add_target,
    list_targets,
    remove_target,
    target_out,
)
from shared.accounts import Subscriber
from shared.db import Database
from shared.errors import InputError
from shared.http import AUTH, JSON_BODY, app_db, current_subscriber, error_response

DbDep = Annotated[Database, Depends(app_db)]
SubscriberDep = Annotated[Subscriber, Depends(current_subscriber)]


class TargetIn(BaseModel):
    channel: str = Field(max_length=20, examples=["dingtalk"])
    address: str = Field(
        max_length=2048,
        description="the robot's webhook URL",
        examples=["https://oapi.dingtalk.com/robot/send?access_token=..."],
    )
    secret: str | None = Field(default=None, max_length=MAX_SECRET, description="write-only")
    keyword: str | None = Field(default=None, max_length=MAX_KEYWORD)
    language: str | None = Field(default=None, max_length=5, examples=["zh", "en"])
    label: str | None = Field(default=None, max_length=MAX_LABEL)


def build_targets_router(senders: Callable[[], Senders]) -> APIRouter:
    """``senders``: what the notifier sends with (for test messages)."""
    router = APIRouter(prefix="/v1", tags=["notifications"])

    @router.get("/channels", responses=AUTH)
    async def targets(db: DbDep, subscriber: SubscriberDep) -> list[dict[str, Any]]:
        """Your chat channel targets (robot tokens masked, secrets never shown)."""
        async with db.read_session() as session:
            return [target_out(row) for row in await list_targets(session, subscriber.id)]

    @router.post(
        "/channels",
        status_code=201,
        responses={**AUTH, **JSON_BODY, 422: error_response("a field is not valid")},
    )
    async def add(body: TargetIn, db: DbDep, subscriber: SubscriberDep) -> dict[str, Any]:
        """Add a target: alerts go to it from now on (several per channel allowed)."""
        new = NewTarget(
            body.channel, body.address, body.secret, body.keyword, body.language, body.label
        )
        try:
            async with db.session() as session:
                row = await add_target(session, subscriber.id, new, datetime.now(UTC))
                return target_out(row)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc

    @router.delete(
        "/channels/{target_id}",
        status_code=204,
        responses={
            **AUTH,
            404: error_response("no such target for this subscriber"),
            422: error_response("the account's own email address or webhook URL"),
        },
    )
    async def remove(
        target_id: Annotated[str, Path(max_length=40)], db: DbDep, subscriber: SubscriberDep
    ) -> Response:
        """Remove a target; what was still waiting to go to it is cancelled. The account's own
        email address and webhook URL are changed with ``PATCH /v1/subscribers/me`` instead."""
        try:
            async with db.session() as session:
                cancelled = await remove_target(session, subscriber.id, target_id)
        except InputError as exc:
            raise HTTPException(422, str(exc)) from exc
        if cancelled is None:
            raise HTTPException(404, "no such target for this subscriber")
        return Response(status_code=204)

    @router.post(
        "/channels/{target_id}/test",
        responses={
            **AUTH,
            404: error_response("no such target for this subscriber"),
            429: error_response("the target's rate is used up: try again later"),
        },
    )
    async def test(
        target_id: Annotated[str, Path(max_length=40)], subscriber: SubscriberDep
    ) -> dict[str, Any]:
        """Send a test message to the target now, as an alert would go (signed, with its
        keyword), and show the platform's answer. Not an alert: not logged, not retried."""
        try:
            result = await send_test(senders(), subscriber.id, target_id, datetime.now(UTC))
        except TooSoon as exc:
            raise HTTPException(
                429, str(exc), headers={"Retry-After": str(max(1, round(exc.wait)))}
            ) from exc
        if result is None:
            raise HTTPException(404, "no such target for this subscriber")
        return {
            "ok": result.ok,
            "status_code": result.status_code,
            "error": result.error,
            "answer": result.body_excerpt,
            "duration_ms": result.duration_ms,
        }

    return router
