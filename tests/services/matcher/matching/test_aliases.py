from __future__ import annotations

import pytest

from services.matcher.matching import BRANDS, GROUPS, brand_of, group_named, group_of_company
from services.matcher.matching.aliases import _tables, group_by_id, group_chain


def test_tables_build_without_conflicts() -> None:
    by_name, by_pinyin, group_names, group_members = _tables()
    assert by_name["qq"] == "qq"
    assert by_name["qq音乐"] == "qq_music"
    assert by_pinyin["weixin"] == "wechat"
    assert group_names["tencent"] == "tencent"
    assert group_members["微播视界"] == "bytedance"


def test_every_entry_has_a_source_and_known_references() -> None:
    ids = {g.id for g in GROUPS}
    for brand in BRANDS:
        assert brand.source.strip()
        assert brand.owner is None or brand.owner in ids
    for group in GROUPS:
        assert group.source.strip()
        assert group.parent is None or group.parent in ids
        for member in group.members:
            found = group_of_company(member)
            assert found is not None and found.id == group.id, member


@pytest.mark.parametrize(
    ("name", "brand_id"),
    [
        ("WeChat", "wechat"),
        ("微信", "wechat"),
        ("Weixin", "wechat"),
        ("wēi xìn", "wechat"),
        ("WeCom", "wecom"),
        ("企业微信", "wecom"),
        ("QQ", "qq"),
        ("ＱＱ", "qq"),
        ("QQ音乐", "qq_music"),
        ("QQ Music", "qq_music"),
        ("QQ阅读", "qq_reader"),
        ("LinkedIn", "linkedin"),
        ("51job", "51job"),
        ("前程无忧", "51job"),
        ("Trip.com", "ctrip"),
        ("攜程旅行", "ctrip"),
        ("Mango TV", "mango_tv"),
        ("Tengxun Shipin", "tencent_video"),
        ("Tencent Maps", "tencent_maps"),
        ("RED", "xiaohongshu"),
    ],
)
def test_brand_of(name: str, brand_id: str) -> None:
    brand = brand_of(name)
    assert brand is not None and brand.id == brand_id


@pytest.mark.parametrize(
    "name", ["TikTok", "芒果", "QQ输入法", "QQ浏览器", "抖音极速版", "斗音", "WeTV", "Kwai"]
)
def test_not_a_brand(name: str) -> None:
    assert brand_of(name) is None


def test_tiktok_is_not_douyin() -> None:
    douyin = next(b for b in BRANDS if b.id == "douyin")
    assert "tiktok" not in {n.lower() for n in douyin.names}
    assert "TikTok" in douyin.note


@pytest.mark.parametrize(
    ("name", "group_id"),
    [
        ("Tencent", "tencent"),
        ("腾讯", "tencent"),
        ("騰訊控股", "tencent"),
        ("ByteDance", "bytedance"),
        ("字节跳动", "bytedance"),
        ("Qihoo 360", "qihoo360"),
        ("奇虎", "qihoo360"),
        ("微博", "sina"),
        ("Microsoft", "microsoft"),
        ("LinkedIn", "linkedin"),
    ],
)
def test_group_named(name: str, group_id: str) -> None:
    group = group_named(name)
    assert group is not None and group.id == group_id


def test_member_names_no_group_but_belongs_to_one() -> None:
    assert group_named("北京微播视界科技有限公司") is None
    assert group_named("北京奇元科技有限公司") is None
    member = group_of_company("北京奇元科技有限公司")
    assert member is not None and member.id == "qihoo360"


def test_group_chain() -> None:
    assert [g.id for g in group_chain(group_by_id("linkedin"))] == ["linkedin", "microsoft"]
    assert [g.id for g in group_chain(group_by_id("tme"))] == ["tme", "tencent"]
    assert [g.id for g in group_chain(group_by_id("tencent"))] == ["tencent"]
