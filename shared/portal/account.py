"""The account page (``/portal/``): who is signed in, their channels, links to the API docs."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse

from shared.portal.auth import PortalSubscriber, portal_settings
from shared.portal.links import request_base
from shared.portal.pages import register_page
from shared.portal.router import portal_router
from shared.portal.templating import render

router = portal_router()
register_page("/portal/", "nav.account", order=0)


@router.get("/")
async def account(request: Request, subscriber: PortalSubscriber) -> HTMLResponse:
    try:
        zone = ZoneInfo(subscriber.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    created = subscriber.created_at.astimezone(zone)
    return await render(
        request,
        "portal/account.html",
        {
            "created": f"{created:%Y-%m-%d %H:%M} ({subscriber.timezone})",
            "created_iso": created.isoformat(),
            "base_url": request_base(request, portal_settings(request)),
        },
    )
