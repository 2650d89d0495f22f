from __future__ import annotations

import pytest

from services.ingestor.extract.regulators import PROVINCES, detect_regulator
from shared.errors import InputError


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("广东省通信管理局关于侵害用户权益行为的APP通报", "CA-GUANGDONG"),
        ("北京市通信管理局关于侵害用户权益行为的APP通报", "CA-BEIJING"),
        ("北京通信管理局通报", "CA-BEIJING"),
        ("山东省通信管理局关于侵害用户权益行为的APP通报", "CA-SHANDONG"),
        ("贵州省通信管理局关于APP的通报", "CA-GUIZHOU"),
        ("陕西省通信管理局关于APP的通报", "CA-SHAANXI"),
        ("山西省通信管理局关于APP的通报", "CA-SHANXI"),
        ("内蒙古自治区通信管理局关于APP的通报", "CA-NEIMENGGU"),
        ("广西壮族自治区通信管理局关于APP的通报", "CA-GUANGXI"),
        ("新疆维吾尔自治区通信管理局关于APP的通报", "CA-XINJIANG"),
        ("国家互联网信息办公室关于抖音等App的通报", "CAC"),
        ("国家网信办通报一批App", "CAC"),
        ("网信办通报", "CAC"),
        ("The Cyberspace Administration of China named 105 apps", "CAC"),
        ("关于侵害用户权益行为的APP通报\n正文\n工业和信息化部信息通信管理局\n2021年9月7日", "MIIT"),
        ("工信部通报43款APP", "MIIT"),
        ("China's Ministry of Industry and Information Technology named 43 apps", "MIIT"),
        ("国家网络安全通报中心发现多款移动应用违规", "MPS"),
        ("国家计算机病毒应急处理中心监测发现违法移动应用", "MPS"),
        ("公安部网络安全保卫局通报", "MPS"),
        ("国家市场监督管理总局关于App的公告", "SAMR"),
    ],
)
def test_detect(text: str, code: str) -> None:
    assert detect_regulator(text).code == code


def test_all_provinces_have_a_code() -> None:
    assert len(PROVINCES) == 31
    codes = set()
    for province, (code, full) in PROVINCES.items():
        regulator = detect_regulator(f"{full}通信管理局关于APP的通报")
        assert regulator.code == f"CA-{code}", province
        assert regulator.name == f"{full}通信管理局"
        assert code.isascii() and code.isupper()
        codes.add(code)
    assert len(codes) == 31


def test_names() -> None:
    assert detect_regulator("国家网信办通报").name == "国家互联网信息办公室"
    assert detect_regulator("工信部通报").name == "工业和信息化部"


PROVINCIAL_WITH_MIIT_IN_BODY = """关于侵害用户权益行为的APP通报（2024年第6批）
2024-07-05
根据工业和信息化部关于APP专项整治的统一部署，按照工信部要求，我局对APP进行了检测。
工信部高度重视此项工作。工业和信息化部将持续开展整治。
1. 某某（某某有限公司）
广东省通信管理局
2024年7月5日
"""


def test_provincial_signature_wins_over_ministry_in_body() -> None:
    assert detect_regulator(PROVINCIAL_WITH_MIIT_IN_BODY).code == "CA-GUANGDONG"


def test_provincial_title_wins_over_ministry_in_body() -> None:
    text = "山东省通信管理局关于APP的通报\n为落实工业和信息化部工作要求，工信部……工信部……\n"
    assert detect_regulator(text).code == "CA-SHANDONG"


def test_ministry_citing_a_provincial_bureau_stays_ministry() -> None:
    text = (
        "关于侵害用户权益行为的APP通报\n"
        "工业和信息化部组织检测，广东省通信管理局、北京市通信管理局配合开展了核查。\n"
        "工业和信息化部信息通信管理局\n2021年9月7日"
    )
    assert detect_regulator(text).code == "MIIT"


def test_title_argument_counts() -> None:
    text = "正文提到工信部。\n1. 某某（某某有限公司）"
    assert detect_regulator(text, title="贵州省通信管理局关于APP的通报").code == "CA-GUIZHOU"


def test_source_marker() -> None:
    text = "关于APP的通报\n发布时间：2021-01-01 来源：国家网信办\n根据工信部有关要求……"
    assert detect_regulator(text).code == "CAC"


def test_unknown_regulator() -> None:
    with pytest.raises(InputError, match="cannot tell which regulator published this notice"):
        detect_regulator("某某公司关于产品升级的公告\n2021年5月10日")
