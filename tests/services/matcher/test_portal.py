"""The matcher's portal pages over HTTP (regwatch's whole app, in-process, signed in through
the sign-in form): the watchlist (list, add, edit, remove, CSV import, directory lookups) and
the alerts (list, feedback, one notice), in both languages, one subscriber's data only."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.matcher.alerts import match_id
from services.matcher.handler import handle_notice
from services.matcher.portal import REASONS, reason_key
from services.matcher.service import MatcherService
from shared.events import NoticeEvent
from shared.portal.i18n import CATALOGS
from tests.support.portal import Portal, add_subscriber, client_for, csrf_of, portal_app, sign_in

BASE = "http://127.0.0.1:8080"
TENCENT_DEV = "深圳市腾讯计算机系统有限公司"


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    async with portal_app(tmp_path, max_watches_per_subscriber=5) as found:
        yield found


@pytest.fixture
async def client(portal: Portal) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(portal.app, BASE) as found:
        yield found


async def signed_in(portal: Portal, client: httpx.AsyncClient, name: str = "Risk team") -> str:
    subscriber_id, key = await add_subscriber(
        portal.db, name=name, email=f"{name[:4].lower()}@example.com"
    )
    assert (await sign_in(client, key)).status_code == 303
    return subscriber_id


def text(page: httpx.Response) -> str:
    """The page's text without tags (for reading what a subscriber sees)."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text)))


async def post(client: httpx.AsyncClient, page: str, url: str, **data: str) -> httpx.Response:
    token = csrf_of((await client.get(page)).text)
    return await client.post(url, data={"csrf_token": token, **data})


def notice(
    notice_id: str, *entities: tuple[str, str | None], incomplete: bool = False
) -> NoticeEvent:
    return NoticeEvent.model_validate(
        {
            "notice_id": notice_id,
            "regulator": {"code": "MIIT", "name": "工业和信息化部"},
            "title": f"关于侵害用户权益行为的App通报（{notice_id}）",
            "published_on": "2099-08-01",
            "deadline": {"due_on": "2099-08-10", "rule": "absolute", "source_text": "8月10日前"},
            "source_url": f"https://www.miit.gov.cn/{notice_id}.html",
            "entities": [{"name": n, "developer": d} for n, d in entities],
            "list_incomplete": incomplete,
        }
    )


async def ingest(portal: Portal, event: NoticeEvent) -> None:
    [matcher] = [s for s in portal.services if isinstance(s, MatcherService)]
    await matcher.watchlist.load()
    await handle_notice(portal.db, matcher.watchlist, event)


# --- watchlist ------------------------------------------------------------------------------


async def test_add_edit_and_remove_a_watch(portal: Portal, client: httpx.AsyncClient) -> None:
    await signed_in(portal, client)
    empty = await client.get("/portal/watches")
    assert empty.status_code == 200
    assert "You watch nothing yet." in empty.text
    assert 'href="/portal/watches" aria-current="page"' in empty.text

    added = await post(
        client,
        "/portal/watches",
        "/portal/watches",
        kind="app",
        name="Douyin",
        aliases="抖音极速\nDY",
    )
    assert added.status_code == 303
    page = await client.get(added.headers["location"])
    shown = text(page)
    assert "You now watch Douyin." in shown
    # what the directory knows of the name, without JavaScript
    assert "App: Douyin → 抖音 / Douyin short video, 北京微播视界科技有限公司 (ByteDance)" in shown
    assert "抖音极速, DY" in shown

    watch_id = re.search(r"/portal/watches/(\d+)/edit", page.text).group(1)  # type: ignore[union-attr]
    edit = await client.get(f"/portal/watches/{watch_id}/edit")
    assert edit.status_code == 200 and 'value="Douyin"' in edit.text
    saved = await client.post(
        f"/portal/watches/{watch_id}",
        data={"csrf_token": csrf_of(edit.text), "name": "抖音", "aliases": "Douyin | 抖音短视频"},
    )
    assert saved.status_code == 303
    assert "Saved: 抖音." in text(await client.get(saved.headers["location"]))
    api = await client.get("/portal/watches")
    assert "Douyin, 抖音短视频" in text(api)

    clash = await post(client, "/portal/watches", "/portal/watches", kind="app", name="抖音")
    assert clash.status_code == 303  # the same watch again: aliases kept, no error
    bad = await post(client, "/portal/watches", "/portal/watches", kind="thing", name="x")
    assert bad.status_code == 422
    assert "watch kind must be" in text(bad)

    removed = await post(client, "/portal/watches", f"/portal/watches/{watch_id}/remove")
    assert removed.status_code == 303
    assert "You no longer watch 抖音." in text(await client.get(removed.headers["location"]))
    again = await post(client, "/portal/watches", f"/portal/watches/{watch_id}/remove")
    assert again.status_code == 404


async def test_a_name_the_directory_does_not_know_is_warned_about(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    await signed_in(portal, client)
    added = await post(client, "/portal/watches", "/portal/watches", kind="company", name="Tencnet")
    page = await client.get(added.headers["location"])
    assert "Tencnet matches nothing regwatch knows: did you mean Tencent?" in text(page)
    assert "Watch Tencent instead" in page.text
    # the button renames the watch
    renamed = re.search(r'action="(/portal/watches/\d+)"', page.text).group(1)  # type: ignore[union-attr]
    answer = await client.post(
        renamed, data={"csrf_token": csrf_of(page.text), "name": "Tencent", "aliases": ""}
    )
    assert "Company: Tencent → 腾讯" in text(await client.get(answer.headers["location"]))

    lookup = await client.get("/portal/watches/lookup", params={"name": "Tencnet"})
    assert lookup.status_code == 200
    assert lookup.json()["did_you_mean"] == ["Tencent"]
    assert "did you mean Tencent?" in lookup.json()["warning"]
    known = (
        await client.get("/portal/watches/lookup", params={"name": "Douyin", "kind": "app"})
    ).json()
    assert known["lines"] == [
        "App: Douyin → 抖音 / Douyin short video, 北京微播视界科技有限公司 (ByteDance)"
    ]
    assert known["warning"] is None
    nothing = (
        await client.get("/portal/watches/lookup", params={"name": "Zzyzx Qqq", "lang": "zh"})
    ).json()
    assert nothing["warning"] == "Zzyzx Qqq 与 regwatch 已知的名称都不符：只会按字面匹配。"


async def test_the_lookup_needs_a_session_and_its_script_is_served(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/portal/watches/lookup", params={"name": "Douyin"})
    assert answer.status_code == 303
    script = await client.get("/portal/matcher/namelookup.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "data-lookup" in script.text  # the URL comes from the page
    style = await client.get("/portal/matcher/matcher.css")
    assert style.headers["content-type"].startswith("text/css")
    assert (await client.get("/portal/matcher/portal.py")).status_code == 404


async def test_csv_import_reports_each_bad_line(portal: Portal, client: httpx.AsyncClient) -> None:
    await signed_in(portal, client)
    page = await client.get("/portal/watches")
    csv = "kind,name,aliases\napp,抖音,Douyin|TikTok China\nplanet,Mars\ncompany,腾讯\napp,\n"
    answer = await client.post(
        "/portal/watches/import",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("watches.csv", csv.encode(), "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    shown = text(answer)
    assert "4 rows: 2 added, 0 already watched, 2 with errors." in shown
    assert re.search(r"<td>3</td><td>kind</td>", answer.text)
    assert re.search(r"<td>5</td><td>name</td>", answer.text)
    assert "抖音" in shown and "腾讯" in shown

    too_many = "\n".join(f"app,App {n}" for n in range(10)).encode()
    refused = await client.post(
        "/portal/watches/import",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("many.csv", too_many, "text/csv")},
    )
    assert refused.status_code == 422
    assert (
        "Import refused, nothing imported: you watch 2 items and the file's 10 new ones would "
        "pass your limit of 5." in text(refused)
    )
    for name in ("QQ", "微信", "快手"):
        await post(client, "/portal/watches", "/portal/watches", kind="app", name=name)
    full = await post(client, "/portal/watches?lang=zh", "/portal/watches", kind="app", name="淘宝")
    assert full.status_code == 422
    assert "已达关注上限：您已关注 5 项，上限为 5 项。" in text(full)

    forged = await client.post(
        "/portal/watches/import",
        data={"csrf_token": "x" * 43},
        files={"file": ("w.csv", b"app,QQ\n", "text/csv")},
    )
    assert forged.status_code == 403
    elsewhere = await client.post(
        "/portal/watches/import",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("w.csv", b"app,QQ\n", "text/csv")},
        headers={"origin": "https://evil.example"},
    )
    assert elsewhere.status_code == 403
    oversize = await client.post(
        "/portal/watches/import",
        content=b"x" * 100,
        headers={"content-type": "multipart/form-data; boundary=b", "content-length": "20000000"},
    )
    assert oversize.status_code == 413


# --- alerts ---------------------------------------------------------------------------------


async def test_alerts_show_the_notice_the_matches_and_take_feedback(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    me = await signed_in(portal, client)
    await post(client, "/portal/watches", "/portal/watches", kind="company", name="Tencent")
    await post(client, "/portal/watches", "/portal/watches", kind="app", name="Douyin")
    await ingest(portal, notice("n1", ("腾讯地图", TENCENT_DEV), ("抖音", None), incomplete=True))
    await ingest(portal, notice("n2", ("快手", None)))

    page = await client.get("/portal/alerts")
    assert page.status_code == 200
    shown = text(page)
    assert "工业和信息化部 (MIIT)" in shown
    assert "2099-08-01" in shown and "2099-08-10" in shown
    assert "List incomplete" in shown
    assert "腾讯地图" in shown and TENCENT_DEV in shown and "抖音" in shown
    assert "Your watch: Company Tencent" in shown
    assert re.search(r"score \d+%", shown)
    assert "Why: The developer belongs to the company you watch." in shown
    assert "Why: The same name written in pinyin." in shown
    assert "快手" not in shown

    alert_id = match_id(me, "n1")
    verdict = await client.post(
        f"/portal/alerts/{alert_id}/feedback",
        data={
            "csrf_token": csrf_of(page.text),
            "watch_kind": "company",
            "watch_name": "Tencent",
            "entity_name": "腾讯地图",
            "entity_developer": TENCENT_DEV,
            "verdict": "wrong",
            "back": "/portal/alerts",
        },
    )
    assert verdict.status_code == 303
    assert verdict.headers["location"] == f"/portal/alerts#{alert_id}"
    after = await client.get("/portal/alerts")
    assert "You said: not us." in text(after)
    assert 'value="wrong" aria-pressed="true"' in after.text

    # the API reports the same verdict
    async with portal.db.session() as session:
        from services.matcher.alerts import list_feedback

        [row] = await list_feedback(session, me)
    assert (row.watch_name, row.entity_name, row.verdict) == ("Tencent", "腾讯地图", "wrong")

    one = await client.get(f"/portal/alerts/{alert_id}")
    assert one.status_code == 200
    detail = text(one)
    assert "Every app the notice names (2)" in detail
    assert "https://www.miit.gov.cn/n1.html" in detail
    assert "8月10日前" in detail
    # the ingestor's page of the notice, served in this app (a link only when it is)
    assert 'href="/portal/notices/n1"' in one.text

    unknown = await client.post(
        f"/portal/alerts/{alert_id}/feedback",
        data={
            "csrf_token": csrf_of(page.text),
            "watch_kind": "app",
            "watch_name": "微信",
            "entity_name": "微信",
            "verdict": "right",
        },
    )
    assert unknown.status_code == 400


async def test_another_subscribers_ids_are_404(portal: Portal, client: httpx.AsyncClient) -> None:
    other_id, other_key = await add_subscriber(portal.db, name="Other", email="other@example.com")
    async with client_for(portal.app, BASE) as other:
        await sign_in(other, other_key)
        await post(other, "/portal/watches", "/portal/watches", kind="app", name="抖音")
        theirs = re.search(
            r"/portal/watches/(\d+)/edit", (await other.get("/portal/watches")).text
        ).group(1)  # type: ignore[union-attr]
    await ingest(portal, notice("n9", ("抖音", None)))
    await signed_in(portal, client)
    page = await client.get("/portal/watches")
    token = csrf_of(page.text)
    their_alert = match_id(other_id, "n9")
    assert (await client.get(f"/portal/alerts/{their_alert}")).status_code == 404
    assert (await client.get(f"/portal/watches/{theirs}/edit")).status_code == 404
    for url, data in [
        (f"/portal/watches/{theirs}", {"name": "x"}),
        (f"/portal/watches/{theirs}/remove", {}),
        (
            f"/portal/alerts/{their_alert}/feedback",
            {"watch_kind": "app", "watch_name": "抖音", "entity_name": "抖音", "verdict": "wrong"},
        ),
    ]:
        answer = await client.post(url, data={"csrf_token": token, **data})
        assert answer.status_code == 404, url
    assert "抖音" not in text(await client.get("/portal/alerts"))


async def test_every_page_renders_in_both_languages(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    me = await signed_in(portal, client)
    await post(client, "/portal/watches", "/portal/watches", kind="app", name="抖音")
    await ingest(portal, notice("z1", ("抖音", None)))
    watch_id = re.search(
        r"/portal/watches/(\d+)/edit", (await client.get("/portal/watches")).text
    ).group(1)  # type: ignore[union-attr]
    pages = [
        "/portal/watches",
        "/portal/watches?added=" + watch_id,
        f"/portal/watches/{watch_id}/edit",
        "/portal/alerts",
        f"/portal/alerts/{match_id(me, 'z1')}",
    ]
    for lang, words in (("en", "Your alerts"), ("zh", "您的提醒")):
        for url in pages:
            sep = "&" if "?" in url else "?"
            page = await client.get(f"{url}{sep}lang={lang}")
            assert page.status_code == 200, (url, lang)
        assert words in (await client.get(f"/portal/alerts?lang={lang}")).text
    zh = text(await client.get("/portal/alerts?lang=zh"))
    assert "匹配度" in zh and "监管部门" in zh
    nav = (await client.get("/portal/alerts?lang=en")).text
    assert nav.index('href="/portal/watches"') < nav.index('href="/portal/alerts"')


def test_every_reason_has_words_in_both_catalogs() -> None:
    keys = {key for _, key in REASONS} | {"reason.other", "reason.via_alias"}
    for lang in ("en", "zh"):
        assert keys <= set(CATALOGS.messages[lang]), lang
    assert reason_key("via your alias 'DY': pinyin of 抖音 is douyin") == ("reason.pinyin", True)
    assert reason_key("腾讯地图's developer 深圳 belongs to Tencent")[0] == "reason.group"
    assert reason_key("something new") == ("reason.other", False)
