"""The portal's deadlines page (``/portal/deadlines``): a month calendar and the list of open
deadlines with days left (and working days left for deadlines counted in working days, Monday
to Friday: see ``services/notifier/deadlines.py``), a "dealt with" button per deadline (what
``POST /v1/reminders/{notice_id}/answer`` does: its reminders stop and it leaves the calendar
feed), and the subscriber's ``.ics`` URL to copy."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

import services.notifier.portal_common  # noqa: F401  (templates and messages)
from services.notifier.deadlines import DeadlineView, open_deadlines, own_deadline, view
from services.notifier.links import calendar_url
from services.notifier.preferences import get_preferences
from services.notifier.reminders import SHANGHAI
from services.notifier.scheduler import answer_deadline
from shared.db import Database
from shared.portal import PortalError, PortalSubscriber, portal_router, register_page, render
from shared.portal.links import request_base
from shared.settings import Settings

PATH: Final = "/portal/deadlines"
MONTH: Final = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

register_page(PATH, "nav.deadlines", order=30)


def _now() -> datetime:
    return datetime.now(UTC)


def _month_of(text: str | None, today: date) -> date:
    found = MONTH.match(text or "")
    if found is None:
        return today.replace(day=1)
    return date(int(found.group(1)), int(found.group(2)), 1)


def _shift(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_grid(first: date, today: date, items: list[DeadlineView]) -> list[list[dict[str, Any]]]:
    """Weeks (Monday first) of the month of ``first``: each day with its deadlines."""
    by_day: dict[date, list[DeadlineView]] = {}
    for item in items:
        by_day.setdefault(item.due_on, []).append(item)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    return [
        [
            {
                "day": day,
                "iso": day.isoformat(),
                "outside": day.month != first.month,
                "today": day == today,
                "deadlines": by_day.get(day, []),
            }
            for day in week
        ]
        for week in weeks
    ]


def build_router(settings: Settings) -> APIRouter:
    router = portal_router()

    @router.get("/deadlines")
    async def deadlines(
        request: Request,
        subscriber: PortalSubscriber,
        month: str | None = None,
        dealt: str | None = None,
    ) -> HTMLResponse:
        now = _now()
        today = now.astimezone(SHANGHAI).date()
        db: Database = request.app.state.db
        async with db.session() as session:
            rows = await open_deadlines(session, subscriber.id)
            prefs = await get_preferences(session, subscriber.id)
            ics_url = calendar_url(settings, prefs.calendar_token, request_base(request, settings))
        items = [view(row, now) for row in rows]
        first = _month_of(month, today)
        return await render(
            request,
            "notifier/portal_deadlines.html",
            {
                "items": items,
                "weeks": month_grid(first, today, items),
                "weekdays": WEEKDAYS,
                "month_label": first,
                "previous_month": _shift(first, -1).strftime("%Y-%m"),
                "next_month": _shift(first, 1).strftime("%Y-%m"),
                "this_month": today.strftime("%Y-%m"),
                "ics_url": ics_url,
                "dealt": dealt == "1",
            },
        )

    @router.post("/deadlines/{deadline_id}/dealt")
    async def dealt_with(
        deadline_id: int, request: Request, subscriber: PortalSubscriber
    ) -> RedirectResponse:
        db: Database = request.app.state.db
        async with db.session() as session:
            row = await own_deadline(session, subscriber.id, deadline_id)
            if row is None or row.status != "open":
                raise PortalError(404, "error.not_found")
            await answer_deadline(session, subscriber.id, row.notice_id, _now())
        return RedirectResponse(f"{PATH}?dealt=1", status_code=303)

    return router
