"""The portal's notices page (issue 12): every stored notice, to browse and search, in Chinese
and English.

- ``/portal/notices``: a search form (regulator, since, until, app or company name, words in
  the title; GET parameters, so a search is a link), the notices found newest first
  (regulator, date, title, deadline, how many apps, "list incomplete") and a "next page" link
  (keyset pages: ``next_cursor``); a parameter that is wrong is shown at its field;
- ``/portal/notices/{notice_id}``: one notice whole: regulator, dates, deadline, every app,
  SDK, mini program and company it names (developer, where it was read), notes, its source
  and every copy read.

The filters and pages are :mod:`services.ingestor.listing`'s (as ``GET /v1/notices``'s).
Notices are public regulatory information: any signed-in subscriber reads them all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse

from services.ingestor.listing import BadParameter, list_notices, notice_detail, notice_filter
from shared.portal import (
    PortalError,
    PortalSubscriber,
    add_messages,
    add_templates,
    portal_router,
    register_page,
    render,
)
from shared.portal.assets import serve_assets
from shared.portal.auth import portal_db

HERE: Final = Path(__file__).parent
PATH: Final = "/portal/notices"
ASSETS: Final = {"ingestor.css": "text/css"}
FIELDS: Final = ("regulator", "since", "until", "app", "q")
PAGE_SIZE = 25
"""Notices per page (a module value so the tests can page through a few)."""
NoticeId = Annotated[str, PathParam(min_length=1, max_length=80)]

add_templates("ingestor", HERE / "templates" / "portal")
add_messages(HERE / "portal_locales")
register_page(PATH, "nav.notices", order=50)


def notice_href(notice_id: str) -> str:
    return f"{PATH}/{quote(notice_id, safe='')}"


def search_href(form: dict[str, str], cursor: str | None = None) -> str:
    """This search (its non-blank fields), at the page after ``cursor`` when given."""
    pairs = [(name, value) for name, value in form.items() if value.strip()]
    if cursor:
        pairs.append(("cursor", cursor))
    return f"{PATH}?{urlencode(pairs)}" if pairs else PATH


def is_web_link(text: str | None) -> bool:
    return bool(text) and str(text).lower().startswith(("https://", "http://"))


def build_router() -> APIRouter:
    router = portal_router()

    serve_assets(router, "ingestor", HERE / "static", ASSETS)

    @router.get("/notices")
    async def notices(
        request: Request,
        subscriber: PortalSubscriber,
        regulator: str = "",
        since: str = "",
        until: str = "",
        app: str = "",
        q: str = "",
        cursor: str = "",
    ) -> HTMLResponse:
        form = {"regulator": regulator, "since": since, "until": until, "app": app, "q": q}
        error: str | None = None
        items = []
        next_href = None
        try:
            where = notice_filter(**form)
            async with portal_db(request).read_session() as session:
                page = await list_notices(session, where, limit=PAGE_SIZE, cursor=cursor or None)
        except BadParameter as exc:
            error = exc.parameter if exc.parameter in FIELDS else "cursor"
            if exc.parameter == "until" and "before since" in exc.problem:
                error = "order"
        else:
            items = page.items
            if page.next_cursor is not None:
                next_href = search_href(form, page.next_cursor)
        return await render(
            request,
            "ingestor/notices.html",
            {
                "form": form,
                "error": error,
                "searched": any(value.strip() for value in form.values()),
                "items": items,
                "next_href": next_href,
                "first_href": search_href(form) if cursor else None,
                "notice_href": notice_href,
            },
        )

    @router.get("/notices/{notice_id}")
    async def notice(
        request: Request, subscriber: PortalSubscriber, notice_id: NoticeId
    ) -> HTMLResponse:
        async with portal_db(request).read_session() as session:
            detail = await notice_detail(session, notice_id)
        if detail is None:
            raise PortalError(404, "error.not_found")
        return await render(
            request,
            "ingestor/notice.html",
            {
                "detail": detail,
                "notice": detail.notice,
                "notice_href": notice_href,
                "is_web_link": is_web_link,
            },
        )

    return router
