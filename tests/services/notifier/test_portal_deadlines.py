"""The portal's deadlines page: the month calendar and open deadlines with days left (working
days for deadlines counted in working days), "dealt with" (its reminders stop), the .ics URL,
another subscriber's deadline is a 404, and both languages."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx

from services.notifier.deadlines import working_days_left
from tests.services.notifier.portal_support import (
    BASE,
    client,
    portal,
    reminder_statuses,
    signed_in,
    today,
    track,
)
from tests.support.portal import Portal, add_subscriber, csrf_of

__all__ = ["client", "portal"]  # fixtures


def test_working_days_count_monday_to_friday() -> None:
    friday = date(2026, 12, 4)
    assert working_days_left(friday, friday) == 0
    assert working_days_left(friday, friday + timedelta(days=1)) == 0  # Saturday
    assert working_days_left(friday, friday + timedelta(days=3)) == 1  # Monday
    assert working_days_left(friday, friday + timedelta(days=14)) == 10
    assert working_days_left(friday + timedelta(days=3), friday) == -1


async def test_the_list_and_the_calendar_show_open_deadlines_with_days_left(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    subscriber_id = await signed_in(portal, client)
    await track(portal.db, portal.settings, subscriber_id, notice_id="miit-a", due_in=10)
    await track(
        portal.db,
        portal.settings,
        subscriber_id,
        notice_id="cac-b",
        due_in=21,
        rule="working_days",
        title="网信办通报",
    )
    page = await client.get("/portal/deadlines")
    assert page.status_code == 200
    html = page.text
    assert 'aria-current="page">Deadlines<' in html  # in the navigation
    assert "10 days left" in html and "21 days left" in html
    due = today() + timedelta(days=21)
    working = working_days_left(today(), due)
    assert f"{working} working days left" in html
    assert "Monday to Friday" in html  # the note on how working days are counted
    assert "网信办通报" in html and "抖音" in html
    assert html.index("10 days left") < html.index("21 days left")  # soonest first
    # the calendar of this month, and of the month of the later deadline
    month = await client.get(f"/portal/deadlines?month={due:%Y-%m}")
    assert f"{due.month}/{due.year}" in month.text
    assert re.search(
        rf'<td class="[^"]*due[^"]*">\s*<a href="#deadline-\d+"[^>]*>{due.day}<', month.text
    )
    assert "<script>" not in html and "style=" not in html


async def test_the_ics_url_is_shown_to_copy_and_is_the_feed(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    subscriber_id = await signed_in(portal, client)
    await track(portal.db, portal.settings, subscriber_id, notice_id="miit-a", due_in=5)
    html = (await client.get("/portal/deadlines")).text
    found = re.search(r'id="ics-url" readonly data-select value="([^"]+)"', html)
    assert found, html
    url = found.group(1)
    assert url.startswith(f"{BASE}/v1/calendar/") and url.endswith(".ics")
    assert 'data-copy="ics-url"' in html and '<script src="/portal/notifier/notifier.js"' in html
    feed = await client.get(url.removeprefix(BASE))
    assert feed.status_code == 200 and "BEGIN:VEVENT" in feed.text
    script = await client.get("/portal/notifier/notifier.js")
    assert script.status_code == 200 and "clipboard" in script.text
    assert script.headers["content-type"].startswith("text/javascript")
    assert (await client.get("/portal/notifier/other.js")).status_code == 404


async def test_dealt_with_stops_the_reminders_and_leaves_the_list(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    subscriber_id = await signed_in(portal, client)
    deadline_id = await track(portal.db, portal.settings, subscriber_id, notice_id="miit-a")
    assert await reminder_statuses(portal.db, subscriber_id, "miit-a") == {"scheduled"}
    page = await client.get("/portal/deadlines")
    assert f'action="/portal/deadlines/{deadline_id}/dealt"' in page.text
    answer = await client.post(
        f"/portal/deadlines/{deadline_id}/dealt", data={"csrf_token": csrf_of(page.text)}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/portal/deadlines?dealt=1"
    after = await client.get(answer.headers["location"])
    assert "Marked as dealt with" in after.text and "No open deadlines." in after.text
    assert await reminder_statuses(portal.db, subscriber_id, "miit-a") == {"cancelled"}
    feed_url = re.search(r'value="(http[^"]+\.ics)"', after.text)
    assert feed_url
    assert "BEGIN:VEVENT" not in (await client.get(feed_url.group(1).removeprefix(BASE))).text
    again = await client.post(
        f"/portal/deadlines/{deadline_id}/dealt", data={"csrf_token": csrf_of(after.text)}
    )
    assert again.status_code == 404


async def test_without_the_csrf_token_nothing_is_dealt_with(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    subscriber_id = await signed_in(portal, client)
    deadline_id = await track(portal.db, portal.settings, subscriber_id, notice_id="miit-a")
    answer = await client.post(f"/portal/deadlines/{deadline_id}/dealt", data={})
    assert answer.status_code == 403
    assert await reminder_statuses(portal.db, subscriber_id, "miit-a") == {"scheduled"}


async def test_another_subscribers_deadline_is_a_404(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    other_id, _ = await add_subscriber(portal.db, "Other", "other@example.com")
    theirs = await track(
        portal.db, portal.settings, other_id, notice_id="theirs", title="别人的通报"
    )
    await signed_in(portal, client)
    page = await client.get("/portal/deadlines")
    assert "别人的通报" not in page.text and "No open deadlines." in page.text
    answer = await client.post(
        f"/portal/deadlines/{theirs}/dealt", data={"csrf_token": csrf_of(page.text)}
    )
    assert answer.status_code == 404
    assert "There is nothing here" in answer.text
    assert await reminder_statuses(portal.db, other_id, "theirs") == {"scheduled"}


async def test_the_page_in_chinese(portal: Portal, client: httpx.AsyncClient) -> None:
    subscriber_id = await signed_in(portal, client)
    await track(
        portal.db, portal.settings, subscriber_id, notice_id="cac-b", due_in=12, rule="working_days"
    )
    html = (await client.get("/portal/deadlines?lang=zh")).text
    assert '<html lang="zh-CN">' in html
    assert "截止日期" in html and "还剩 12 天" in html and "个工作日" in html
    assert "标记为已处理" in html and "日历订阅" in html and "星期一" in html


async def test_signing_in_is_needed(client: httpx.AsyncClient) -> None:
    answer = await client.get("/portal/deadlines")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal/signin?next=/portal/deadlines"
