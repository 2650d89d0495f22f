from __future__ import annotations

import pytest

from services.matcher.matching import (
    company_core,
    normalize,
    normalize_pinyin,
    pinyin_key,
    strip_qualifiers,
)
from services.matcher.matching.names import split_companies


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＱＱ", "qq"),
        ("ＱＱ音乐", "qq音乐"),
        ("（深圳）", "深圳"),
        ("360 浏览器", "360浏览器"),
        ("３６０　浏览器", "360浏览器"),
        ("騰訊", "腾讯"),
        ("騰訊視頻", "腾讯视频"),
        ("《抖音》", "抖音"),
        ("Trip.com", "tripcom"),
        ("Mango TV", "mangotv"),
        ("微博·钱包！", "微博钱包"),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("抖音", "douyin"),
        ("快手", "kuaishou"),
        ("小红书", "xiaohongshu"),
        ("今日头条", "jinritoutiao"),
        ("虎牙", "huya"),
        ("芒果TV", "mangguotv"),
        ("360 浏览器", "360liulanqi"),
        ("騰訊", "tengxun"),
        ("携程旅行", "xiechenglvxing"),
        ("QQ", None),
        ("Douyin", None),
    ],
)
def test_pinyin_key(raw: str, expected: str | None) -> None:
    assert pinyin_key(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Douyin", "douyin"),
        ("Dou Yin", "douyin"),
        ("dǒuyīn", "douyin"),
        ("DǑU YĪN", "douyin"),
        ("dou3yin1", "douyin"),
        ("dou3 yin1", "douyin"),
        ("teng2xun4", "tengxun"),
        ("Zhong1guo2", "zhongguo"),
        ("Kuai Shou", "kuaishou"),
        ("lǚxíng", "lvxing"),
        ("lüxing", "lvxing"),
        ("51job", "51job"),
        ("mp3", "mp3"),
        ("QQ2", "qq2"),
        ("抖音", None),
        ("!!", None),
    ],
)
def test_normalize_pinyin(raw: str, expected: str | None) -> None:
    assert normalize_pinyin(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("深圳市腾讯计算机系统有限公司", "腾讯"),
        ("腾讯科技（深圳）有限公司", "腾讯"),
        ("腾讯科技(深圳)有限公司", "腾讯"),
        ("騰訊科技（深圳）有限公司", "腾讯"),
        ("北京微播视界科技有限公司", "微播视界"),
        ("北京快手科技有限公司", "快手"),
        ("北京快手网络科技有限公司", "快手"),
        ("北京奇虎科技有限公司", "奇虎"),
        ("北京奇元科技有限公司", "奇元"),
        ("北京小桔科技有限公司", "小桔"),
        ("北京百度网讯科技有限公司", "百度网讯"),
        ("抚州市新浪网络小额贷款有限公司", "新浪"),
        ("阿里巴巴（中国）网络技术有限公司", "阿里巴巴"),
        ("广东省通信管理局", "通信管理局"),
        ("Shanghai Ctrip Commerce Co.,Ltd", "ctrip"),
        ("Tencent Holdings Ltd.", "tencent"),
        ("Tencent-owned", "tencent"),
        ("Sogou Inc.", "sogou"),
        ("Beijing Kuaishou Technology Co., Ltd.", "kuaishou"),
        ("LinkedIn (China)", "linkedin"),
        # region kept when the rest is generic
        ("北京银行股份有限公司", "北京银行"),
        ("上海银行股份有限公司", "上海银行"),
        # never stripped to nothing
        ("科技有限公司", "科技"),
        ("Group Ltd", "group"),
    ],
)
def test_company_core(raw: str, expected: str) -> None:
    assert company_core(raw) == expected


@pytest.mark.parametrize(
    ("raw", "base", "qualifiers", "operator"),
    [
        ("微信（安卓版）", "微信", ("安卓版",), None),
        ("QQ(iOS版)", "QQ", ("iOS版",), None),
        ("微信 (V8.0.1)", "微信", ("V8.0.1",), None),
        ("抖音（北京微播视界科技有限公司）", "抖音", (), "北京微播视界科技有限公司"),
        # edition words make a different app: kept
        ("抖音（极速版）", "抖音（极速版）", (), None),
        ("QQ（HD）", "QQ（HD）", (), None),
        # nothing left but the bracket: kept
        ("（安卓版）", "（安卓版）", (), None),
    ],
)
def test_strip_qualifiers(
    raw: str, base: str, qualifiers: tuple[str, ...], operator: str | None
) -> None:
    q = strip_qualifiers(raw)
    assert (q.base, q.qualifiers, q.operator) == (base, qualifiers, operator)


def test_split_companies() -> None:
    assert split_companies("北京奇虎科技有限公司/北京奇元科技有限公司") == [
        "北京奇虎科技有限公司",
        "北京奇元科技有限公司",
    ]
    assert split_companies("北京快手科技有限公司、北京快手网络科技有限公司") == [
        "北京快手科技有限公司",
        "北京快手网络科技有限公司",
    ]
    assert split_companies("Shanghai Ctrip Commerce Co.,Ltd") == ["Shanghai Ctrip Commerce Co.,Ltd"]
    assert split_companies(" / ") == []
