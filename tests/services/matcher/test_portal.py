"""The matcher's portal pages over HTTP (regwatch's whole app, in-process, signed in through
the sign-in form): the watchlist (list, add, edit, remove, CSV import, directory lookups) and
the alerts (list, feedback, one notice), in both languages, one subscriber's data only."""

from __future__ import annotations

import csv
import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.matcher.alerts import match_id, record_alerts
from services.matcher.csvimport import (
    MAX_IMPORT_BYTES,
    ImportLimitError,
    csv_problem,
    decode_csv,
    parse_watch_csv,
)
from services.matcher.handler import handle_notice
from services.matcher.portal import FIELD_KEYS, REASONS, reason_key
from services.matcher.service import MatcherService
from services.matcher.store import (
    KeyedInputError,
    WatchLimitError,
    clean_aliases,
    clean_kind,
    clean_name,
)
from shared.events import EntityRef, Match, NoticeEvent, NoticeSummary, WatchRef
from shared.portal.i18n import CATALOGS, Translator
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


ENGLISH_ERRORS = (
    "is empty",
    "too long",
    "must be",
    "expected",
    "columns",
    "too many aliases",
    "already watch",
    "not valid CSV",
    "characters",
)


async def test_store_errors_are_in_the_pages_language(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    await signed_in(portal, client)
    client.headers["accept-language"] = "zh-CN,zh;q=0.9"
    page = "/portal/watches"
    cases = [
        ({"kind": "app", "name": "   "}, "名称为空"),
        ({"kind": "app", "name": "长" * 301}, "名称过长（301 个字符，上限 300 个）"),
        (
            {"kind": "planet", "name": "火星"},
            "类型必须是 app（应用）或 company（公司），不能是“planet”",
        ),
        (
            {"kind": "app", "name": "抖音", "aliases": "|".join(f"别名{n}" for n in range(21))},
            "别名过多（21 个，上限 20 个）",
        ),
        (
            {"kind": "app", "name": "抖音", "aliases": "长" * 301},
            "别名过长（301 个字符，上限 300 个）",
        ),
    ]
    for form, chinese in cases:
        answer = await post(client, page, page, **form)
        assert answer.status_code == 422, form
        shown = text(answer)
        assert chinese in shown, (form, shown)
        assert not [words for words in ENGLISH_ERRORS if words in shown], form

    # a rename to a name already watched
    for name in ("抖音", "快手"):
        assert (await post(client, page, page, kind="app", name=name)).status_code == 303
    listing = (await client.get(page)).text
    douyin, kuaishou = (
        re.search(rf'id="watch-(\d+)">\s*<td>[^<]*</td>\s*<td>{name}</td>', listing).group(1)  # type: ignore[union-attr]
        for name in ("抖音", "快手")
    )
    edit = f"/portal/watches/{kuaishou}/edit"
    clash = await post(client, edit, f"/portal/watches/{kuaishou}", name="抖音", aliases="")
    assert clash.status_code == 422
    shown = text(clash)
    assert f"您已关注应用“抖音”（关注项 {douyin}）" in shown
    assert not [words for words in ENGLISH_ERRORS if words in shown]

    # the English page says the store's own sentences
    del client.headers["accept-language"]
    english = await post(client, page, page, kind="app", name="   ")
    assert "watch name is empty" in text(english)
    assert "名称为空" not in text(english)
    clash = await post(client, edit, f"/portal/watches/{kuaishou}", name="抖音", aliases="")
    assert f"you already watch app '抖音' (watch {douyin})" in text(clash)


BAD_CSV = "\n".join(
    [
        "kind,name,aliases",
        "app,抖音,Douyin",  # 2: imported
        "app",  # 3: one column
        "app,a,b,c",  # 4: four columns
        "planet,Mars",  # 5: a bad kind
        "app,   ",  # 6: no name
        "company," + "长" * 301,  # 7: a name too long
        "app,快手," + "|".join(f"k{n}" for n in range(21)),  # 8: 21 aliases
        "app,抖音," + "|".join(f"d{n}" for n in range(20)),  # 9: with Douyin's, 21
        'app,"unclosed',  # 10: not CSV (the end of the file in a quote)
    ]
)


async def import_file(client: httpx.AsyncClient, data: bytes) -> httpx.Response:
    page = await client.get("/portal/watches")
    return await client.post(
        "/portal/watches/import",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("watches.csv", data, "text/csv")},
    )


def problem_rows(page: httpx.Response) -> dict[int, tuple[str, str]]:
    """The import report's lines: line number -> (field, problem), as shown."""
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page.text)
    return {int(line): (html.unescape(f), html.unescape(p)) for line, f, p in rows}


async def test_csv_import_problems_are_in_the_pages_language(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    await signed_in(portal, client)
    client.headers["accept-language"] = "zh"
    answer = await import_file(client, BAD_CSV.encode())
    assert answer.status_code == 200, answer.text
    assert problem_rows(answer) == {
        3: ("整行", "列数不足：应为 kind,name[,aliases]（类型、名称、可选的别名）"),
        4: ("整行", "共 4 列，最多 3 列（多个别名请用 | 分隔，不要用逗号）"),
        5: ("类型", "类型必须是 app 或 company，不能是“planet”"),
        6: ("名称", "名称为空"),
        7: ("名称", "名称过长（301 个字符，上限 300 个）"),
        8: ("别名", "别名过多（21 个，上限 20 个）"),
        9: ("别名", "别名过多：连同“抖音”已有的别名共 21 个，上限 20 个"),
        10: ("整行", "不是有效的 CSV：引号没有闭合，直到文件结束"),
    }
    shown = text(answer)
    assert "共 9 行：新增 1 项，已关注 0 项，出错 8 处。" in shown
    assert not [words for words in ENGLISH_ERRORS if words in shown]

    not_utf8 = await import_file(client, "app,抖音\n".encode("gb18030"))
    assert not_utf8.status_code == 422
    assert "CSV 文件不是 UTF-8 编码的文本（位置 4 的字节无法解码）" in text(not_utf8)

    # in English, the API's sentences (the API's report is unchanged)
    del client.headers["accept-language"]
    english = problem_rows(await import_file(client, BAD_CSV.encode()))
    assert english[5] == ("kind", "must be app or company, not 'planet'")
    assert english[6] == ("name", "watch name is empty")
    assert english[9] == (
        "aliases",
        "too many aliases (21, limit 20) together with the aliases '抖音' already has",
    )
    assert english[3] == ("row", "expected kind,name[,aliases]")
    assert not [words for _, words in english.values() if re.search("[：（个行]", words)]


def test_every_store_and_import_error_has_words_in_both_catalogs() -> None:
    """Each message key the store and the import give (raised here) is in both catalogs, with
    the values its words need."""
    errors: list[KeyedInputError] = []
    for call in (
        lambda: clean_name(" "),
        lambda: clean_name("x" * 301),
        lambda: clean_name(" ", "alias"),
        lambda: clean_name("x" * 301, "alias"),
        lambda: clean_kind("planet"),
        lambda: clean_aliases([f"a{n}" for n in range(21)]),
        lambda: decode_csv(b"x" * (MAX_IMPORT_BYTES + 1)),
        lambda: decode_csv(b"\xff"),
    ):
        with pytest.raises(KeyedInputError) as raised:
            call()
        errors.append(raised.value)
    errors += [WatchLimitError(3, 1, 3), WatchLimitError(3, 2, 3)]
    errors.append(ImportLimitError(9, WatchLimitError(3, 2, 3)))
    problems = parse_watch_csv("app\napp,a,b,c\nx,y\napp, \napp,a,b|b\n" + 'app,a,"x"y\n').problems
    problems += [
        csv_problem(1, csv.Error(detail))
        for detail in ("unexpected end of data", "field larger than field limit (131072)")
    ]
    problems += [csv_problem(1, csv.Error("new-line character seen in unquoted field"))]
    problems += [csv_problem(1, csv.Error("something else"))]
    assert all(problem.key for problem in problems)
    for lang in ("en", "zh"):
        t = Translator(lang)
        for error in errors:
            assert t(error.key, **error.params)
        for problem in problems:
            assert problem.key is not None
            assert t(problem.key, **problem.params)
        for key in FIELD_KEYS.values():
            assert t(key)
    for key in ("input.already_watched.app", "input.already_watched.company"):
        assert Translator("zh")(key, name="抖音", watch_id=3)
    assert {e.key for e in errors} >= {"input.name.empty", "watches.limit_many", "import.limit"}
    # str() is the English sentence the API and the CLI print, as before
    assert str(errors[0]) == "watch name is empty"
    assert str(errors[4]) == "watch kind must be 'app' or 'company', not 'planet'"


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


# --- alerts: pages --------------------------------------------------------------------------

ALERT_ID = re.compile(r'<article class="card alert" id="(match_[0-9a-f]+)"')
OLDER = re.compile(r'<a href="(/portal/alerts\?before=\d+)" rel="next">([^<]+)</a>')
NEWER = re.compile(r'<a href="(/portal/alerts\?after=\d+)" rel="prev">([^<]+)</a>')


async def record(portal: Portal, notice_id: str, *subscriber_ids: str) -> None:
    """An alert of notice ``notice_id`` (naming 抖音) for each subscriber, as the matcher
    records it."""
    found = Match(
        watch=WatchRef(kind="app", name="抖音"),
        entity=EntityRef(name="抖音"),
        score=1.0,
        reason="app name matches after normalization",
    )
    summary = NoticeSummary.of(notice(notice_id, ("抖音", None)))
    await record_alerts(portal.db, summary, {s: [found] for s in subscriber_ids}, cause="notice")


async def walk(client: httpx.AsyncClient, url: str, link: re.Pattern[str]) -> list[list[str]]:
    """The alerts (match ids) of each page from ``url`` on, following ``link``."""
    pages: list[list[str]] = []
    next_url: str | None = url
    while next_url is not None:
        page = await client.get(next_url)
        assert page.status_code == 200, (next_url, page.text)
        pages.append(ALERT_ID.findall(page.text))
        found = link.search(page.text)
        next_url = html.unescape(found.group(1)) if found else None
        assert len(pages) < 10, "the links go round"
    return pages


async def test_alert_pages_visit_each_alert_once_newest_first(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    me = await signed_in(portal, client)
    other, _ = await add_subscriber(portal.db, name="Other", email="other@example.com")
    for n in range(120):  # every third notice alerts the other subscriber too
        await record(portal, f"p{n:03}", me, *([other] if n % 3 == 0 else []))
    await record(portal, "theirs", other)
    newest_first = [match_id(me, f"p{n:03}") for n in reversed(range(120))]

    first = await client.get("/portal/alerts")
    assert ALERT_ID.findall(first.text) == newest_first[:50]
    assert NEWER.search(first.text) is None  # the newest page
    older = OLDER.search(first.text)
    assert older is not None and older.group(2) == "Older alerts"
    # new alerts arrive while the subscriber reads: the older pages do not shift
    for n in range(120, 125):
        await record(portal, f"p{n:03}", me, other)
    pages = [ALERT_ID.findall(first.text), *await walk(client, older.group(1), OLDER)]
    assert [len(page) for page in pages] == [50, 50, 20]
    assert [mid for page in pages for mid in page] == newest_first
    theirs = {match_id(other, f"p{n:03}") for n in range(125)} | {match_id(other, "theirs")}
    assert not theirs & {mid for page in pages for mid in page}

    # and back up with "Newer": the same pages, then the newest (with the 5 new alerts)
    last = (await client.get(html.unescape(OLDER.findall(first.text)[0][0]))).text
    last = (await client.get(html.unescape(OLDER.search(last).group(1)))).text  # type: ignore[union-attr]
    assert ALERT_ID.findall(last) == newest_first[100:]
    assert OLDER.search(last) is None
    up = await walk(client, NEWER.search(last).group(1), NEWER)  # type: ignore[union-attr]
    assert up[:2] == [newest_first[50:100], newest_first[:50]]
    assert up[2] == [match_id(me, f"p{n:03}") for n in reversed(range(125))][:50]
    assert len(up) == 3

    # in Chinese, the links are too; feedback on an older page comes back to it
    zh = await client.get(older.group(1), headers={"accept-language": "zh"})
    assert [m.group(2) for m in (OLDER.search(zh.text), NEWER.search(zh.text))] == [
        "更早的提醒",
        "较新的提醒",
    ]
    assert "最新的提醒" in zh.text
    alert_id = ALERT_ID.findall(zh.text)[0]
    answer = await client.post(
        f"/portal/alerts/{alert_id}/feedback",
        data={
            "csrf_token": csrf_of(zh.text),
            "watch_kind": "app",
            "watch_name": "抖音",
            "entity_name": "抖音",
            "verdict": "right",
            "back": older.group(1),
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{older.group(1)}#{alert_id}"


async def test_a_bad_alert_page_link_is_a_400_page(
    portal: Portal, client: httpx.AsyncClient
) -> None:
    me = await signed_in(portal, client)
    await record(portal, "b1", me)
    for query in (
        "before=abc",
        "before=",
        "before=0",
        "before=-3",
        "after=1.5",
        "before=99999999999",
        "before=2&after=1",
        f"before={'9' * 41}",
    ):
        page = await client.get(f"/portal/alerts?{query}")
        assert page.status_code == 400, query
        assert "This link to older or newer alerts is not valid." in text(page), query
    zh = await client.get("/portal/alerts?before=x&lang=zh")
    assert zh.status_code == 400
    assert "此翻页链接无效。请从最新的提醒重新开始。" in text(zh)
    # a cursor past every alert: an empty page, with the way back
    beyond = await client.get("/portal/alerts?before=1&lang=en")
    assert beyond.status_code == 200
    assert "No alerts on this page." in text(beyond)
    assert 'href="/portal/alerts">' in beyond.text
