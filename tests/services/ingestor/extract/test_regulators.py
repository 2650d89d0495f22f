from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingestor.extract.regulators import (
    CENTRAL,
    PROVINCES,
    detect_regulator,
    identify_issuer,
    printed_issuer,
)
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


# --- provincial cyberspace offices, market regulators, public security ------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("海南省互联网信息办公室关于App的通报", "CAC-HAINAN"),
        ("海南省委网信办通报一批App", "CAC-HAINAN"),
        ("海南网信办：3款App违规收集个人信息", "CAC-HAINAN"),
        ("北京市委网信办通报一批App", "CAC-BEIJING"),
        ("北京市互联网信息办公室关于App的通报", "CAC-BEIJING"),
        ("中共贵州省委网络安全和信息化委员会办公室关于App的通报", "CAC-GUIZHOU"),
        ("新疆维吾尔自治区党委网信办通报", "CAC-XINJIANG"),
        ("关于App的通报\n发布时间：2024-03-12 来源：网信北京\n正文", "CAC-BEIJING"),
        ("Hainan Provincial Cyberspace Administration names 5 apps", "CAC-HAINAN"),
        ("国家网信办通报一批App", "CAC"),
        ("中央网信办关于App的通报", "CAC"),
        ("国家市场监督管理总局关于App的公告", "SAMR"),
        ("市场监管总局通报", "SAMR"),
        ("上海市市场监督管理局关于App的消费提示", "SAMR-SHANGHAI"),
        ("上海市场监管局提示消费者", "SAMR-SHANGHAI"),
        ("浙江省市场监管局关于App的通报", "SAMR-ZHEJIANG"),
        ("The Shanghai Municipal Administration for Market Regulation said", "SAMR-SHANGHAI"),
        ("the Beijing Municipal Bureau of Market Regulation fined", "SAMR-BEIJING"),
        ("Zhejiang's market regulator said", "SAMR-ZHEJIANG"),
        ("国家网络安全通报中心关于App的通报", "MPS"),
        ("国家计算机病毒应急处理中心监测发现", "MPS"),
        ("广东省公安厅关于App的通报", "MPS-GUANGDONG"),
        ("北京市公安局网安总队通报", "MPS-BEIJING"),
    ],
)
def test_provincial_offices(text: str, code: str) -> None:
    assert detect_regulator(text).code == code


def test_every_province_has_its_cyberspace_and_market_office() -> None:
    for province, (code, full) in PROVINCES.items():
        cyberspace = detect_regulator(f"{full}互联网信息办公室关于App的通报")
        assert (cyberspace.code, cyberspace.name) == (f"CAC-{code}", f"{full}互联网信息办公室")
        market = detect_regulator(f"{full}市场监督管理局关于App的通报")
        assert (market.code, market.name) == (f"SAMR-{code}", f"{full}市场监督管理局"), province


def test_provinces_named_in_a_national_notice_do_not_win() -> None:
    text = (
        "国家互联网信息办公室关于App的通报\n"
        "近期，国家互联网信息办公室会同北京市委网信办、海南省委网信办开展了检测。\n"
        "1. 某某（某某有限公司）\n国家互联网信息办公室\u30002024年9月20日\n"
    )
    assert detect_regulator(text).code == "CAC"


def test_a_province_in_the_body_does_not_win_over_the_signer() -> None:
    text = (
        "关于App的通报\n根据国家网信办部署，配合海南省委网信办开展检测。\n"
        "1. 某某（某某有限公司）\n北京市委网信办\n2023年3月2日\n"
    )
    assert detect_regulator(text).code == "CAC-BEIJING"


def test_market_regulator_relaying_the_notification_centre_publishes() -> None:
    text = (
        "关于国家网络安全通报中心通报的违法违规App的消费提示\n"
        "发布时间：2023-09-05 来源：上海市市场监督管理局\n"
        "近日，国家网络安全通报中心通报了一批App。现将有关情况转发如下：\n"
        "《某某》（版本1.0，应用宝）\n国家网络安全通报中心提示……\n"
        "上海市市场监督管理局\n2023年9月5日\n"
    )
    assert detect_regulator(text).code == "SAMR-SHANGHAI"
    regulator, note = identify_issuer(text)
    assert regulator.code == "SAMR-SHANGHAI" and regulator.recognised and note is None


def test_city_cyberspace_office_is_not_the_national_one() -> None:
    with pytest.raises(InputError):
        detect_regulator("云岭市网信办发布违规App名单\n1. 某某（某某有限公司）")
    regulator, note = identify_issuer("云岭市网信办发布违规App名单\n1. 某某（某某有限公司）")
    assert (regulator.code, regulator.name, regulator.recognised) == (
        "OTHER",
        "云岭市网信办",
        False,
    )
    assert note is not None and "云岭市网信办" in note


# --- issuers regwatch does not know -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        (
            "关于App的提示\n正文。\n1. 某某\n青石县市场监督管理局\n2024年4月18日\n",
            "青石县市场监督管理局",
        ),
        ("关于App的提示\n正文。\n1. 某某\n东岳产业联盟秘书处　2023年5月\n", "东岳产业联盟秘书处"),
        ("星海网络安全促进会关于部分App的提示\n正文。\n1. 某某\n", "星海网络安全促进会"),
        ("【转载】云岭市网信办发布违规App名单\n正文。\n", "云岭市网信办"),
        ("某某行业协会\n关于App的通报\n正文。\n", "某某行业协会"),
        ("北京市海淀区市场监督管理局关于App的提示\n正文。\n", "北京市海淀区市场监督管理局"),
    ],
)
def test_printed_issuer(text: str, printed: str) -> None:
    assert printed_issuer(text) == printed
    regulator, note = identify_issuer(text)
    assert (regulator.code, regulator.name, regulator.recognised) == ("OTHER", printed, False)
    assert note is not None and printed in note


def test_known_regulator_in_the_signature_is_not_printed_as_unknown() -> None:
    text = "关于App的通报\n正文。\n1. 某某\n广东省通信管理局\n2024年1月5日\n"
    assert printed_issuer(text) is None
    assert identify_issuer(text) == (detect_regulator(text), None)


def test_unknown_signer_wins_over_a_regulator_cited_in_the_body() -> None:
    text = (
        "关于提醒消费者的公告\n正文。\n近日，国家网络安全通报中心发现一批App违规。\n"
        "1. 某某（某某有限公司）\n青石县市场监督管理局\n2024年4月18日\n"
    )
    assert detect_regulator(text).code == "MPS"
    assert identify_issuer(text)[0].code == "OTHER"


def test_no_issuer_at_all() -> None:
    regulator, note = identify_issuer("关于某某App的通报\n2021-05-10\n1. 某某阅读\n")
    assert (regulator.code, regulator.name, regulator.recognised) == (
        "OTHER",
        "unknown issuer",
        False,
    )
    assert note is not None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Hainan's provincial cyberspace administration named 12 apps", "CAC-HAINAN"),
        ("The Beijing municipal cyberspace authorities said on Monday", "CAC-BEIJING"),
        ("China's cyberspace administration named 12 apps", "CAC"),
    ],
)
def test_english_provincial_offices(text: str, code: str) -> None:
    assert detect_regulator(text).code == code


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("近日，青石县市场监管局发布一批违规App名单\n正文。\n", "青石县市场监管局"),
        ("某某省大数据中心管理局关于App的通报\n正文。\n", "某某省大数据中心管理局"),
        ("中国信息通信研究院发布App个人信息保护报告\n正文。\n", "中国信息通信研究院"),
    ],
)
def test_issuer_that_opens_the_text(text: str, printed: str) -> None:
    assert printed_issuer(text) == printed


def test_a_newsroom_is_not_an_issuer() -> None:
    text = (
        "这些App被点名\n国家网信办近日通报了一批App。\n国家网信办要求整改。\n正文。\n"
        "1. 某某（某某有限公司）\n晨报编辑部\n2023年6月2日\n"
    )
    assert printed_issuer(text) is None
    assert identify_issuer(text)[0].code == "CAC"


def test_city_bureau_relaying_the_centre_publishes_even_under_the_centre_signature() -> None:
    text = (
        "杭州市市场监督管理局转发国家网络安全通报中心关于违规App的通报\n"
        "2023-05-06 来源：杭州市市场监督管理局\n"
        "1. 《某甲》（版本1.0，应用宝）\n国家网络安全通报中心\n"
    )
    regulator, note = identify_issuer(text)
    assert (regulator.code, regulator.name) == ("OTHER", "杭州市市场监督管理局")
    assert note is not None


def test_source_marker_names_an_unknown_issuer() -> None:
    text = "关于违规App的提示\n发布时间：2023-05-06 来源：青石县市场监督管理局\n1. 某甲\n"
    assert printed_issuer(text) == "青石县市场监督管理局"
    assert identify_issuer(text)[0].name == "青石县市场监督管理局"


def test_a_known_signer_outweighs_an_unknown_letterhead() -> None:
    text = "某某行业协会\n关于App的通报\n1. 某甲\n广东省通信管理局\n2024年1月5日\n"
    assert identify_issuer(text)[0].code == "CA-GUANGDONG"


_PIECES = st.sampled_from(
    [
        "海南省委网信办",
        "国家网信办",
        "青石县市场监督管理局",
        "关于",
        "转发",
        "发布",
        "通报",
        "某某协会",
        "来源：",
        "2023年5月",
        "2024年1月5日",
        "\n",
        "\u3000",
        "1. 某某（某某有限公司）",
        "Cyberspace Administration",
        "（",
        "）",
    ]
)


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=14).map("".join))
def test_identify_issuer_always_names_one(text: str) -> None:
    regulator, note = identify_issuer(text)
    assert regulator.code == "OTHER" or regulator.code.split("-")[0] in CENTRAL
    assert (regulator.code == "OTHER") is (not regulator.recognised) is (note is not None)
    assert regulator.name
