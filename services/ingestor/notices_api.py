"""Reading stored notices over HTTP: ``GET /v1/notices`` (filtered, newest first, in pages) and
``GET /v1/notices/{notice_id}`` (one notice whole, with where it was seen).

Notices are public regulatory information, but the API is not anonymous: any subscriber's API
key or the operator token (``REGWATCH_ADMIN_TOKEN``) reads them; without either, 401 (also
when no operator token is set). The filters and pages are :mod:`services.ingestor.listing`'s.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from services.ingestor.listing import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_TEXT,
    BadParameter,
    NoticeDetail,
    NoticePage,
    list_notices,
    notice_detail,
    notice_filter,
)
from shared.accounts import subscriber_by_api_key
from shared.db import Database
from shared.http import (
    INVALID,
    TOO_MANY_FAILURES,
    ApiKeyBearer,
    ApiKeyHeader,
    AuthGate,
    OperatorBearer,
    OperatorHeader,
    Responses,
    app_db,
    app_settings,
    auth_gate,
    bearer,
    error_response,
    same_secret,
)
from shared.settings import Settings

READER: Responses = {
    401: error_response("missing or unknown API key (a subscriber's key or the operator token)"),
    **TOO_MANY_FAILURES,
}
NOT_FOUND: Responses = {404: error_response("no stored notice with this id")}


async def notice_reader(
    db: Annotated[Database, Depends(app_db)],
    settings: Annotated[Settings, Depends(app_settings)],
    gate: Annotated[AuthGate, Depends(auth_gate)],
    authorization: ApiKeyBearer,
    x_api_key: ApiKeyHeader,
    _operator: OperatorBearer,
    _operator_header: OperatorHeader,
) -> None:
    """A subscriber's API key or the operator token; 401 without one (a wrong one counts as a
    failed attempt). Both come in the same headers: the operator schemes are declared so the
    OpenAPI document lists all four ways."""
    token = bearer(authorization, x_api_key)
    if token is None:
        raise HTTPException(
            401, "missing API key: send 'Authorization: Bearer <api_key>' (or the operator token)"
        )
    gate.check()
    if settings.admin_token is not None and same_secret(token, settings.admin_token):
        return
    async with db.session() as session:
        subscriber = await subscriber_by_api_key(session, token)
    if subscriber is None:
        gate.failed()
        raise HTTPException(401, "unknown API key")


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["notices"], dependencies=[Depends(notice_reader)])

    @router.get("/notices", responses={**READER, **INVALID})
    async def get_notices(
        db: Annotated[Database, Depends(app_db)],
        regulator: Annotated[
            str | None,
            Query(
                max_length=100,
                description="a regulator code, any case (CAC, MIIT, CAC-HAINAN); ending in '*' "
                "a prefix: CAC* is CAC and every CAC-<PROVINCE>",
                examples=["CAC*"],
            ),
        ] = None,
        since: Annotated[
            str | None,
            Query(
                max_length=40,
                description="published on or after this day (YYYY-MM-DD)",
                examples=["2021-05-01"],
            ),
        ] = None,
        until: Annotated[
            str | None,
            Query(
                max_length=40,
                description="published on or before this day (YYYY-MM-DD)",
                examples=["2021-12-31"],
            ),
        ] = None,
        app: Annotated[
            str | None,
            Query(
                max_length=MAX_TEXT,
                description="an app or company name the notice names (as an app, SDK, company "
                "or developer: any case or width, simplified or traditional, 抖音 also as "
                "Douyin), or its title contains",
                examples=["抖音"],
            ),
        ] = None,
        q: Annotated[
            str | None,
            Query(
                max_length=MAX_TEXT,
                description="words the title contains, all of them (case-insensitive)",
                examples=["个人信息"],
            ),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        cursor: Annotated[
            str | None,
            Query(max_length=200, description="the next_cursor of the page before"),
        ] = None,
    ) -> NoticePage:
        """Stored notices, newest first (publication date, then notice id), each with its
        regulator, deadline, batch and the apps and companies it names. Page with ``cursor``:
        the ``next_cursor`` of the page before (null on the last page); a notice stored
        meanwhile never shifts the pages still to come. 422 names the parameter that is
        wrong."""
        try:
            where = notice_filter(regulator=regulator, since=since, until=until, app=app, q=q)
            async with db.read_session() as session:
                return await list_notices(session, where, limit=limit, cursor=cursor)
        except BadParameter as exc:
            raise HTTPException(422, str(exc)) from exc

    @router.get("/notices/{notice_id}", responses={**READER, **NOT_FOUND, **INVALID})
    async def get_notice(
        notice_id: Annotated[str, Path(min_length=1, max_length=80)],
        db: Annotated[Database, Depends(app_db)],
    ) -> NoticeDetail:
        """One stored notice: the whole NoticeEvent, every copy read (where and when), and
        when it was stored and last changed. A reprint's own id finds the notice it was folded
        into."""
        async with db.read_session() as session:
            detail = await notice_detail(session, notice_id)
        if detail is None:
            raise HTTPException(404, f"no stored notice {notice_id!r}")
        return detail

    return router
