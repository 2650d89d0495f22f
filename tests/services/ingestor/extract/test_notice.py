from __future__ import annotations

import re
from datetime import date

import pytest

from services.ingestor.extract import notice_identity, parse_notice
from services.ingestor.extract.notice import batch_key, find_batch, title_key
from shared.errors import InputError

CAC_TEXT = """国家互联网信息办公室关于某某等2款App违法违规收集使用个人信息情况的通报
近期，国家网信办组织检测，发现以下App未经用户同意收集使用个人信息。
要求相关App运营者自本通报发布之日起15个工作日内完成整改。
1. 某某阅读（北京某某文化传媒有限公司）
2. 某某地图（上海某某信息技术有限公司）
国家互联网信息办公室
2021年5月10日
"""


def test_parse_text_notice() -> None:
    event = parse_notice(CAC_TEXT.encode(), name="cac.txt", source_url="https://example.org/n/1")
    assert event.regulator.code == "CAC"
    assert event.published_on == date(2021, 5, 10)
    assert event.kind == "rectification"
    assert event.deadline is not None and event.deadline.due_on == date(2021, 5, 31)
    assert event.title.startswith("国家互联网信息办公室关于")
    assert event.batch is None
    assert event.language == "zh"
    assert event.source_url == "https://example.org/n/1"
    assert [(e.name, e.developer) for e in event.entities] == [
        ("某某阅读", "北京某某文化传媒有限公司"),
        ("某某地图", "上海某某信息技术有限公司"),
    ]
    assert re.fullmatch(r"cac-20210510-[0-9a-f]{10}", event.notice_id)
    dumped = event.dump()
    assert dumped["schema"] == "regwatch.notice/v1"
    assert dumped["published_on"] == "2021-05-10"


def test_republished_copy_gets_the_same_id() -> None:
    first = parse_notice(CAC_TEXT.encode(), name="a.txt")
    reprint = CAC_TEXT.replace("的通报\n", " 的通报 \n").replace("App", "ＡＰＰ".lower(), 1)
    second = parse_notice(reprint.encode("gb18030"), name="b.txt")
    assert first.notice_id == second.notice_id


def test_html_page_with_list_in_paragraphs_falls_back_to_text() -> None:
    html = """<html><head><title>关于某某等App的通报_国家互联网信息办公室</title></head><body>
<h1>关于某某等App违法违规收集使用个人信息情况的通报</h1>
<p>发布时间：2021-05-10</p>
<p>要求自本通报发布之日起15个工作日内完成整改。</p>
<p>1. <span>某某阅读</span>（北京某某文化传媒有限公司）</p>
<p>2. 某某地图（上海某某信息技术有限公司）</p>
<p>国家互联网信息办公室</p></body></html>"""
    event = parse_notice(html.encode(), name="page.html")
    assert event.regulator.code == "CAC"
    assert event.title == "关于某某等App违法违规收集使用个人信息情况的通报"
    assert [e.name for e in event.entities] == ["某某阅读", "某某地图"]


def test_removal_has_no_deadline() -> None:
    text = """关于下架侵害用户权益APP名单的通报
2021-02-05
2021年1月22日，我部通报了一批企业，要求于2021年1月29日前完成整改。截至目前，尚有2款APP未完成整改。
我部组织对上述2款APP进行下架，并要求应用商店在7日内完成下架。
1. 某某清理（合肥某某网络科技有限公司）
2. 某某相机（南京某某软件有限公司）
工业和信息化部信息通信管理局
"""
    event = parse_notice(text.encode(), name="removal.txt")
    assert event.kind == "removal"
    assert event.deadline is None


def test_other_kind_without_rectification() -> None:
    text = """国家计算机病毒应急处理中心发现违法移动应用
发布日期：2022-08-16
1.《某某记账》（版本2.4.1，小米应用商店）
2.《某某天气》（版本7.0.3，华为应用市场）
"""
    event = parse_notice(text.encode(), name="mps.txt")
    assert (event.regulator.code, event.kind, event.deadline) == ("MPS", "other", None)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("关于侵害用户权益行为的APP通报（2021年第8批，总第17批）", "2021年第8批（总第17批）"),
        ("关于侵害用户权益行为的APP通报(2021年第8批 总第17批)", "2021年第8批（总第17批）"),
        ("关于侵害用户权益行为的APP通报（2024年第6批）", "2024年第6批"),
        ("关于侵害用户权益行为的APP通报（第3批）", "第3批"),
        ("关于抖音等App的通报", None),
    ],
)
def test_batch(title: str, expected: str | None) -> None:
    assert find_batch(title, "") == expected


def test_identity_uses_batch_when_present() -> None:
    a = notice_identity("MIIT", date(2021, 7, 26), "2021年第8批（总第17批）", "标题一")
    b = notice_identity("MIIT", date(2021, 7, 26), "2021年第8批,总第17批", "另一个标题")
    c = notice_identity("MIIT", date(2021, 7, 26), "2021年第9批（总第18批）", "标题一")
    assert a == b != c
    assert re.fullmatch(r"miit-20210726-[0-9a-f]{10}", a)


def test_identity_without_batch_uses_date_and_normalized_title() -> None:
    a = notice_identity("CAC", date(2021, 5, 10), None, "关于抖音等84款App的通报")
    b = notice_identity("CAC", date(2021, 5, 10), None, " 关于抖音等84款ＡＰＰ的通报。")
    c = notice_identity("CAC", date(2021, 5, 11), None, "关于抖音等84款App的通报")
    d = notice_identity("CAC", date(2021, 5, 10), None, "關於抖音等84款App的通報")
    assert a == b == d != c
    assert notice_identity("CA-GUANGDONG", date(2024, 7, 5), None, "x").startswith(
        "ca-guangdong-20240705-"
    )


def test_english_language() -> None:
    text = """China names apps over data misuse
July 26, 2021
The Ministry of Industry and Information Technology named 43 apps, including WeChat and Kugou.
"""
    event = parse_notice(text.encode(), name="news.txt")
    assert event.language == "en"
    assert event.regulator.code == "MIIT"
    assert [e.name for e in event.entities] == ["WeChat", "Kugou"]


# --- bad input ---------------------------------------------------------------


def test_empty_file() -> None:
    with pytest.raises(InputError, match=r"^empty\.txt: file is empty$"):
        parse_notice(b"", name="empty.txt")


def test_undecodable_bytes() -> None:
    with pytest.raises(InputError, match=r"^junk\.txt: cannot decode text"):
        parse_notice(b"\x00\x01\x02\x80\xff" * 50, name="junk.txt")


@pytest.mark.parametrize("name", ["list.doc", "list.ppt", "list.gif", "list.zip"])
def test_unknown_extension(name: str) -> None:
    with pytest.raises(InputError, match=rf"^{re.escape(name)}: unsupported file type"):
        parse_notice(CAC_TEXT.encode(), name=name)


def test_no_entities() -> None:
    text = (
        "国家互联网信息办公室关于App的通报\n近期开展了检测。\n国家互联网信息办公室\n2021年5月10日\n"
    )
    with pytest.raises(
        InputError, match=r"^n\.txt: no apps, SDKs or companies found in the notice$"
    ):
        parse_notice(text.encode(), name="n.txt")


def test_list_only_in_an_attachment_gives_an_empty_incomplete_list() -> None:
    text = (
        "国家互联网信息办公室关于App的通报\n名单见附件图片。\n国家互联网信息办公室\n2021年5月10日\n"
    )
    event = parse_notice(text.encode(), name="n.txt")
    assert event.entities == []
    assert event.list_incomplete
    assert event.list_incomplete_reason == "the list is in an attachment that was not given"


def test_no_date() -> None:
    text = CAC_TEXT.replace("2021年5月10日", "")
    with pytest.raises(
        InputError, match=r"^d\.txt: no publication date found \(give it with --published-on "
    ):
        parse_notice(text.encode(), name="d.txt")
    given = parse_notice(text.encode(), name="d.txt", published_on=date(2021, 5, 11))
    assert given.published_on == date(2021, 5, 11)
    fed = parse_notice(text.encode(), name="d.txt", fallback_published_on=date(2021, 5, 12))
    assert fed.published_on == date(2021, 5, 12)
    dated = parse_notice(CAC_TEXT.encode(), name="d.txt", fallback_published_on=date(2021, 5, 12))
    assert dated.published_on == date(2021, 5, 10)


def test_no_regulator_still_reads_the_apps() -> None:
    text = "关于某某App的通报\n2021-05-10\n1. 某某阅读（北京某某文化传媒有限公司）\n"
    event = parse_notice(text.encode(), name="r.txt")
    assert (event.regulator.code, event.regulator.name) == ("OTHER", "unknown issuer")
    assert event.regulator.recognised is False
    assert event.notice_id.startswith("other-20210510-")
    assert [e.name for e in event.entities] == ["某某阅读"]
    assert any("unknown issuer" in note for note in event.notes)


def test_no_regulator_and_no_apps() -> None:
    text = "关于某某事项的通知\n2021-05-10\n请各单位做好准备。\n"
    with pytest.raises(InputError, match=r"^r\.txt: no apps, SDKs or companies found"):
        parse_notice(text.encode(), name="r.txt")


def test_default_name() -> None:
    with pytest.raises(InputError, match=r"^<input>: file is empty$"):
        parse_notice(b"  ")


def test_title_skips_navigation_lines() -> None:
    text = "首页 > 通知公告\n" + CAC_TEXT
    event = parse_notice(text.encode(), name="nav.txt")
    assert event.title.startswith("国家互联网信息办公室关于某某等2款App")


# --- identity across republications ------------------------------------------------------


def test_title_key_survives_rewording_script_width_and_junk() -> None:
    keys = {
        title_key(title)
        for title in [
            "国家互联网信息办公室关于云游宝等12款App违法违规收集使用个人信息情况的通报",
            "【轉載】國家互聯網信息辦公室關於雲遊寶等12款App違法違規收集使用個人信息情況的通報（全文）",
            "网信办通报：云游宝等12款App违法违规收集使用个人信息 - 晨光财经网",
            "关于云游宝等１２款ＡＰＰ违法违规收集使用个人信息情况的通报",
        ]
    }
    assert keys == {"list|12"}
    assert title_key("Regulator names 12 apps over data misuse") == "list|12"
    assert title_key("关于下架星途司机等25款App的通报") == "removal|25"
    assert title_key("国家计算机病毒应急处理中心监测发现十四款违法移动应用") == title_key(
        "【转】国家计算机病毒应急处理中心监测发现14款违法移动应用"
    )
    assert title_key("关于侵害用户权益行为的APP通报") != title_key("关于APP违规问题的通报")


def test_batch_key_ignores_the_running_total_and_spelling() -> None:
    assert batch_key("2021年第8批（总第17批）") == batch_key("2021年第8批") == "2021-8"
    assert batch_key("第3批（总第12批）") == "total-12"


def test_reprint_posted_a_day_later_keeps_the_id() -> None:
    original = CAC_TEXT.replace(
        "国家互联网信息办公室关于", "发布时间：2021-05-10\n国家互联网信息办公室关于"
    )
    reprint = (
        "网信办通报：某某等2款App违法违规收集使用个人信息\n2021-05-11 09:00 来源：某某科技网\n"
        + CAC_TEXT
    )
    first = parse_notice(original.encode(), name="a.txt")
    second = parse_notice(reprint.encode(), name="b.html.txt")
    assert first.published_on == second.published_on == date(2021, 5, 10)
    assert first.notice_id == second.notice_id


def test_traditional_reprint_keeps_the_id_and_its_own_script() -> None:
    traditional = (
        "【轉載】國家互聯網信息辦公室關於某某等2款App違法違規收集使用個人信息情況的通報\n"
        "國家網信辦要求相關App運營者自本通報發佈之日起15個工作日內完成整改。\n"
        "1. 某某閱讀（北京某某文化傳媒有限公司）\n"
        "2. 某某地圖（上海某某信息技術有限公司）\n"
        "國家互聯網信息辦公室\n2021年5月10日\n"
    )
    first = parse_notice(CAC_TEXT.encode(), name="a.txt")
    second = parse_notice(traditional.encode(), name="b.txt")
    assert first.notice_id == second.notice_id
    assert second.title.startswith("國家互聯網信息辦公室關於")
    assert [(e.name, e.developer) for e in second.entities] == [
        ("某某閱讀", "北京某某文化傳媒有限公司"),
        ("某某地圖", "上海某某信息技術有限公司"),
    ]
    assert second.deadline is not None and second.deadline.due_on == date(2021, 5, 31)


# --- publication date override -------------------------------------------------------------

NEWS_WITHOUT_YEAR = """China names apps over data misuse
SHANGHAI, Aug 2 (Reuters) - China's cyberspace regulator said on Monday that 17 apps, including Ele.me and Xiachufang, had illegally collected personal information.
The operators had 10 working days to rectify the problems.
"""


def test_dateline_without_a_year_needs_the_date_from_the_caller() -> None:
    with pytest.raises(InputError, match=r"^n\.txt: no publication date found \(the dateline"):
        parse_notice(NEWS_WITHOUT_YEAR.encode(), name="n.txt")
    event = parse_notice(NEWS_WITHOUT_YEAR.encode(), name="n.txt", published_on=date(2021, 8, 2))
    assert event.published_on == date(2021, 8, 2)
    assert event.regulator.code == "CAC"
    assert event.deadline is not None and event.deadline.due_on == date(2021, 8, 16)
    assert [e.name for e in event.entities] == ["Ele.me", "Xiachufang"]
    assert event.list_incomplete and event.declared_count == 17


def test_dateline_year_from_the_copyright_line() -> None:
    text = NEWS_WITHOUT_YEAR + "© 2021 Reuters. All rights reserved.\n"
    assert parse_notice(text.encode(), name="n.txt").published_on == date(2021, 8, 2)


def test_override_wins_over_the_page() -> None:
    event = parse_notice(CAC_TEXT.encode(), name="c.txt", published_on=date(2021, 5, 11))
    assert event.published_on == date(2021, 5, 11)


# --- completeness, follow-ups, deadlines with an hour ------------------------------------------


def test_image_only_list_names_what_the_text_gives() -> None:
    html = """<html><body><h1>关于星途出行等25款App违法违规收集使用个人信息情况的通报</h1>
<p>2021-07-09 来源：国家网信办</p><p>要求运营者自本通报发布之日起15个工作日内完成整改。</p>
<p><img src="list.jpg"></p><p>国家互联网信息办公室</p></body></html>"""
    event = parse_notice(html.encode(), name="img.html")
    assert [(e.name, e.developer) for e in event.entities] == [("星途出行", None)]
    assert event.list_incomplete
    assert event.list_incomplete_reason is not None and "image" in event.list_incomplete_reason
    assert event.declared_count == 25


def test_complete_list_is_not_flagged() -> None:
    event = parse_notice(CAC_TEXT.encode(), name="c.txt")
    assert (event.list_incomplete, event.list_incomplete_reason) == (False, None)
    assert event.declared_count == 2


def test_removal_links_the_earlier_notice() -> None:
    text = """关于下架侵害用户权益APP名单的通报
发布时间：2021-02-05
2021年1月22日，我部向社会通报了157家存在侵害用户权益行为的企业。截至目前，尚有2款APP未完成整改。
我部组织对上述2款APP进行下架。
1. 某某清理（合肥某某网络科技有限公司）
2. 某某相机（南京某某软件有限公司）
工业和信息化部信息通信管理局
"""
    event = parse_notice(text.encode(), name="removal.txt")
    assert event.kind == "removal" and event.deadline is None
    assert event.follows_up is not None
    assert event.follows_up.model_dump(exclude={"notice_id"}) == {
        "published_on": date(2021, 1, 22),
        "count": 157,
        "regulator_code": "MIIT",
        "title": None,
    }


def test_deadline_at_noon_in_january_after_a_december_notice() -> None:
    text = """工业和信息化部关于侵害用户权益行为的APP通报（第一批）
2019-12-19 来源：信息通信管理局
上述APP应于1月6日12点前完成整改落实工作。
1. 天天快讯（北京天天快讯网络科技有限公司）
2. 萌宝相册（萌宝（广州）网络科技有限公司）
"""
    event = parse_notice(text.encode(), name="n.txt")
    assert event.batch == "第1批"
    assert event.deadline is not None
    assert (event.deadline.due_on, event.deadline.due_hour) == (date(2020, 1, 6), 12)


# --- more inputs ----------------------------------------------------------------------------


def test_csv_file() -> None:
    data = (
        "关于侵害用户权益行为的APP通报（2022年第2批，总第22批）,,,\n"
        "发布时间：2022-04-15,,,\n"
        "序号,应用名称,应用开发者,应用版本\n"
        '1,悠悠健康,"悠悠健康科技（上海）有限公司",6.0.2\n'
        "工业和信息化部信息通信管理局,,,\n"
    ).encode("utf-8-sig")
    event = parse_notice(data, name="list.csv")
    assert (event.regulator.code, event.published_on) == ("MIIT", date(2022, 4, 15))
    assert [(e.name, e.developer, e.version) for e in event.entities] == [
        ("悠悠健康", "悠悠健康科技（上海）有限公司", "6.0.2")
    ]


def test_utf16_without_bom() -> None:
    event = parse_notice(CAC_TEXT.encode("utf-16-le"), name="u.txt")
    assert event.regulator.code == "CAC"
    assert len(event.entities) == 2


def _workbook(rows: list[list[str]]) -> bytes:
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_list_file_without_a_date_is_dated_the_day_it_was_read() -> None:
    data = _workbook(
        [
            ["序号", "应用名称", "应用开发者", "应用版本"],
            ["1", "晴空相机", "深圳晴空影像技术有限公司", "5.0.8"],
            ["2", "墨鱼输入法", "杭州墨鱼网络有限公司", "2.1.0"],
        ]
    )
    event = parse_notice(data, name="名单.xlsx", received_on=date(2024, 3, 5))
    assert [(e.name, e.developer, e.source) for e in event.entities] == [
        ("晴空相机", "深圳晴空影像技术有限公司", "attachment"),
        ("墨鱼输入法", "杭州墨鱼网络有限公司", "attachment"),
    ]
    assert (event.published_on, event.published_on_estimated) == (date(2024, 3, 5), True)
    assert any("--published-on" in note for note in event.notes)
    # the date the caller gives wins, and is not an estimate
    given = parse_notice(data, name="名单.xlsx", published_on=date(2024, 3, 1))
    assert (given.published_on, given.published_on_estimated) == (date(2024, 3, 1), False)


def test_a_page_without_a_date_is_still_refused() -> None:
    text = "关于晴空相机等2款App的通报\n1. 晴空相机（深圳晴空影像技术有限公司）\n2. 墨鱼输入法（杭州墨鱼网络有限公司）\n"
    with pytest.raises(InputError, match="--published-on"):
        parse_notice(text.encode(), name="undated.txt", received_on=date(2024, 3, 5))


def test_the_reason_says_where_the_apps_were_read() -> None:
    page = (
        "<html><body><h1>关于晴空相机等5款App违法违规收集使用个人信息情况的通报</h1>"
        "<p>2021-07-09 来源：国家网信办</p><p>发现晴空相机、墨鱼输入法等5款App存在问题。</p>"
        "<table><tr><td>序号</td><td>应用名称</td><td>应用开发者</td></tr>"
        "<tr><td>1</td><td>快看天气</td><td>北京快看科技有限公司</td></tr></table>"
        "<p>国家互联网信息办公室</p></body></html>"
    )
    event = parse_notice(page.encode(), name="mixed.html")
    assert [(e.name, e.source) for e in event.entities] == [
        ("快看天气", "table"),
        ("晴空相机", "text"),
        ("墨鱼输入法", "text"),
    ]
    assert event.list_incomplete_reason == (
        "names 5 apps; 3 read (1 from a table, 2 from the text); the notice does not name the rest"
    )
