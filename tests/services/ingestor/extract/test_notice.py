from __future__ import annotations

import re
from datetime import date

import pytest

from services.ingestor.extract import notice_identity, parse_notice
from services.ingestor.extract.notice import find_batch
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


@pytest.mark.parametrize("name", ["list.pdf", "list.xlsx", "list.png", "list.zip"])
def test_unknown_extension(name: str) -> None:
    with pytest.raises(InputError, match=rf"^{re.escape(name)}: unsupported file type"):
        parse_notice(CAC_TEXT.encode(), name=name)


def test_no_entities() -> None:
    text = (
        "国家互联网信息办公室关于App的通报\n名单见附件图片。\n国家互联网信息办公室\n2021年5月10日\n"
    )
    with pytest.raises(
        InputError, match=r"^n\.txt: no apps, SDKs or companies found in the notice$"
    ):
        parse_notice(text.encode(), name="n.txt")


def test_no_date() -> None:
    text = CAC_TEXT.replace("2021年5月10日", "")
    with pytest.raises(InputError, match=r"^d\.txt: no publication date found$"):
        parse_notice(text.encode(), name="d.txt")


def test_no_regulator() -> None:
    text = "关于某某App的通报\n2021-05-10\n1. 某某阅读（北京某某文化传媒有限公司）\n"
    with pytest.raises(
        InputError, match=r"^r\.txt: cannot tell which regulator published this notice$"
    ):
        parse_notice(text.encode(), name="r.txt")


def test_default_name() -> None:
    with pytest.raises(InputError, match=r"^<input>: file is empty$"):
        parse_notice(b"  ")


def test_title_skips_navigation_lines() -> None:
    text = "首页 > 通知公告\n" + CAC_TEXT
    event = parse_notice(text.encode(), name="nav.txt")
    assert event.title.startswith("国家互联网信息办公室关于某某等2款App")
