from __future__ import annotations

from datetime import date

from services.ingestor.extract.followup import declared_count, find_follows_up


def test_removal_refers_to_the_earlier_notice() -> None:
    text = "2021年1月22日，我部向社会通报了157家存在侵害用户权益行为的企业。截至目前，尚有3款APP未完成整改。"
    ref = find_follows_up(text, "MIIT")
    assert ref is not None
    assert (ref.published_on, ref.count, ref.regulator_code) == (date(2021, 1, 22), 157, "MIIT")


def test_other_wordings() -> None:
    ref = find_follows_up("我局于2022年3月1日通报了二十款APP，现组织下架。", "CA-TIANJIN")
    assert ref is not None and (ref.published_on, ref.count) == (date(2022, 3, 1), 20)
    assert ref.regulator_code == "CA-TIANJIN"
    named = find_follows_up(
        "2020年12月3日，工业和信息化部发布《关于侵害用户权益行为的APP通报》，通报了60款APP。",
        "CA-GUANGDONG",
    )
    assert named is not None and named.regulator_code == "MIIT"
    assert named.title == "关于侵害用户权益行为的APP通报"


def test_no_reference() -> None:
    assert find_follows_up("上述APP应在3月3日前完成整改。", "MIIT") is None
    assert find_follows_up("2021年5月10日\n国家互联网信息办公室", "CAC") is None


def test_declared_count() -> None:
    assert (
        declared_count("关于抖音等84款App违法违规收集使用个人信息情况的通报", "", english=False)
        == 84
    )
    assert declared_count("监测发现十四款违法移动应用", "", english=False) == 14
    # the title's count, however many words stand between it and "移动应用", wins over the
    # count of the first group below it
    title = "关于20款违法违规收集使用个人信息的移动应用的通报"
    assert declared_count(title, "一、…涉及9款App如下：", english=False) == 20
    body = "2021年1月22日，我部通报了157款APP。截至目前，尚有5款APP未按要求完成整改。"
    assert declared_count("关于下架侵害用户权益APP名单的通报", body, english=False) == 5
    assert declared_count("Regulator names 43 apps", "", english=True) == 43
    assert (
        declared_count(
            "x", "Last week it removed 90 apps.\nIt named twenty-five apps.", english=True
        )
        == 25
    )
    assert declared_count("关于APP的通报", "正文", english=False) is None
