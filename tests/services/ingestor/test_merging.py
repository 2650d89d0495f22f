"""Pure merge rules: reprints fold into one notice, removal notices find what they follow up."""

from __future__ import annotations

from datetime import date

from services.ingestor.merging import (
    follow_up_score,
    is_press,
    merge,
    name_key,
    press_fit,
    same_notice,
)
from shared.events import Deadline, Entity, NoticeEvent, NoticeRef, Regulator

CAC = Regulator(code="CAC", name="国家互联网信息办公室")


def event(*entities: Entity, **fields: object) -> NoticeEvent:
    base: dict[str, object] = {
        "notice_id": "cac-1",
        "regulator": CAC,
        "kind": "rectification",
        "title": "关于App的通报",
        "published_on": date(2021, 5, 10),
        "entities": list(entities),
    }
    base.update(fields)
    return NoticeEvent.model_validate(base)


def test_name_key_folds_script_width_case_and_spacing() -> None:
    assert name_key("騰訊 視頻") == name_key("腾讯视频")
    assert name_key("ＱＱ音乐") == name_key("qq音乐")
    assert name_key("QQ") != name_key("QQ阅读")


def test_merge_completes_entities_and_keeps_two_apps_sharing_a_name() -> None:
    old = event(Entity(name="天气通"), Entity(name="快手", developer="北京快手科技有限公司"))
    new = event(
        Entity(name="天气通", developer="甲公司", store="应用宝", issues=["超范围收集个人信息"]),
        Entity(name="快手", developer="另一家公司"),
    )
    merged = merge(old, new)
    assert [(e.name, e.developer, e.store, e.issues) for e in merged.entities] == [
        ("天气通", "甲公司", "应用宝", ["超范围收集个人信息"]),
        ("快手", "北京快手科技有限公司", None, []),
        ("快手", "另一家公司", None, []),
    ]
    assert merged.notice_id == "cac-1" and old.entities[0].developer is None


def test_regulators_own_deadline_replaces_the_press_summary() -> None:
    press = Deadline(
        due_on=date(2021, 5, 25), rule="calendar_days", amount=15, source_text="15 days"
    )
    own = Deadline(
        due_on=date(2021, 5, 31), rule="working_days", amount=15, source_text="15个工作日内"
    )
    english = event(Entity(name="Douyin"), language="en", title="CAC names 84 apps", deadline=press)
    chinese = event(Entity(name="抖音"), deadline=own)
    merged = merge(english, chinese)
    assert merged.deadline == own and merged.language == "zh"
    assert merge(chinese, english).deadline == own


def test_merge_fills_missing_fields_and_marks_the_list_complete() -> None:
    partial = event(Entity(name="抖音"), list_incomplete=True, list_incomplete_reason="image")
    full = event(
        Entity(name="抖音"), batch="第3批", source_url="https://x.example/n", declared_count=1
    )
    merged = merge(partial, full)
    assert (merged.batch, merged.source_url, merged.declared_count) == (
        "第3批",
        "https://x.example/n",
        1,
    )
    assert merged.list_incomplete is False and merged.list_incomplete_reason is None


def test_removal_notices_never_gain_a_deadline() -> None:
    own = Deadline(due_on=date(2021, 5, 31), rule="absolute", source_text="5月31日前")
    assert merge(event(kind="removal"), event(deadline=own)).deadline is None


APPS = [Entity(name=n) for n in ("抖音", "快手", "微博", "知乎")]


def test_same_notice_needs_regulator_date_kind_and_entities() -> None:
    stored = event(*APPS)
    assert same_notice(stored, event(*APPS, notice_id="x", published_on=date(2021, 5, 12)))
    assert not same_notice(stored, event(*APPS, published_on=date(2021, 5, 20)))
    assert not same_notice(stored, event(*APPS, regulator=Regulator(code="MIIT", name="工信部")))
    assert not same_notice(stored, event(*APPS, kind="removal"))
    assert not same_notice(stored, event(*APPS[:2]))
    assert same_notice(event(APPS[0]), event(APPS[0]))
    assert not same_notice(event(APPS[0]), event(APPS[0], published_on=date(2021, 5, 11)))
    assert not same_notice(event(*APPS, batch="第1批"), event(*APPS, batch="第2批"))


def test_follow_up_prefers_exact_date_count_and_shared_apps() -> None:
    removal = event(
        APPS[0],
        notice_id="cac-removal",
        kind="removal",
        published_on=date(2021, 2, 5),
        follows_up=NoticeRef(published_on=date(2021, 1, 22), count=4),
    )
    cited = date(2021, 1, 22)
    exact = follow_up_score(removal, event(*APPS, published_on=cited), cited)
    near = follow_up_score(removal, event(*APPS, published_on=date(2021, 1, 21)), cited)
    other = follow_up_score(removal, event(Entity(name="微信"), published_on=cited), cited)
    assert exact is not None and near is not None and other is not None
    assert exact > near and exact > other
    assert follow_up_score(removal, event(*APPS, published_on=date(2021, 1, 1)), cited) is None
    assert follow_up_score(removal, event(*APPS, kind="removal", published_on=cited), cited) is None


# --- press stories about a regulator's notice -------------------------------------------------

OWN_DEADLINE = Deadline(
    due_on=date(2021, 5, 31), rule="working_days", amount=15, source_text="15个工作日内"
)
PRESS_DEADLINE = Deadline(
    due_on=date(2021, 5, 26), rule="calendar_days", amount=15, source_text="15 days"
)
FILLER = [Entity(name=f"示例应用{n}", developer=f"示例{n}科技有限公司") for n in range(36)]
FAMOUS = [
    Entity(name="抖音", developer="北京微播视界科技有限公司"),
    Entity(name="快手", developer="北京快手科技有限公司"),
    Entity(name="领英", developer="领英网络技术（北京）有限公司"),
    Entity(name="腾讯视频", developer="深圳市腾讯计算机系统有限公司"),
]


def official(count: int = 40, **fields: object) -> NoticeEvent:
    """The regulator's own notice: a "关于…的通报" title, the whole list, its deadline."""
    entities = (FAMOUS + FILLER)[:count]
    base: dict[str, object] = {
        "notice_id": "cac-own",
        "title": f"关于抖音等{count}款App违法违规收集使用个人信息情况的通报",
        "declared_count": count,
        "deadline": OWN_DEADLINE,
        "source_url": "https://www.cac.gov.cn/notice.htm",
    }
    base.update(fields)
    return event(*entities, **base)


def english_story(*names: str, **fields: object) -> NoticeEvent:
    """A news agency's story a day later, in English, naming a few apps."""
    base: dict[str, object] = {
        "notice_id": "cac-press",
        "title": "China's internet regulator says 40 apps broke data rules",
        "language": "en",
        "published_on": date(2021, 5, 11),
        "declared_count": 40,
        "deadline": PRESS_DEADLINE,
        "list_incomplete": True,
        "list_incomplete_reason": "the notice names 40 apps, its text lists a few",
        "source_url": "https://news.example.com/tech/apps",
    }
    base.update(fields)
    return event(*(Entity(name=n) for n in names), **base)


def chinese_story(*names: str, **fields: object) -> NoticeEvent:
    base: dict[str, object] = {
        "notice_id": "cac-zh-press",
        "title": "网信办通报" + "、".join(names) + "等40款App违规收集个人信息",
        "published_on": date(2021, 5, 11),
        "declared_count": 40,
        "list_incomplete": True,
        "source_url": "https://www.paper.example.cn/a/1",
    }
    base.update(fields)
    return event(*(Entity(name=n) for n in names), **base)


def test_press_is_told_from_the_regulators_own_text() -> None:
    assert is_press(english_story("Douyin"))
    assert is_press(chinese_story("抖音", "快手"))
    assert not is_press(official())
    assert not is_press(
        official(title="国家互联网信息办公室关于抖音等40款App的通报_网信网", source_url=None)
    )
    assert is_press(official(title="新京报：网信办发布关于40款App的通报", source_url=None))
    assert not is_press(chinese_story("抖音", batch="2021年第3批"))
    assert not is_press(chinese_story("抖音", source_url="https://www.miit.gov.cn/x/1.html"))


def test_an_english_story_naming_a_few_apps_is_the_regulators_notice() -> None:
    story = english_story("Douyin", "LinkedIn", "Tencent Video")
    assert press_fit(official(), story) == 3  # pinyin for Douyin, the shared table for the rest
    assert same_notice(official(), story) and same_notice(story, official())
    # whichever came first
    assert same_notice(official(published_on=date(2021, 5, 9)), story)


def test_a_press_story_is_not_a_different_notice_of_the_same_week() -> None:
    story = english_story("Douyin", declared_count=84, title="Regulator names 84 apps")
    assert not same_notice(official(33), story)  # 33 apps, not 84
    assert same_notice(official(84, declared_count=84), story)
    assert not same_notice(official(), english_story("Douyin", published_on=date(2021, 5, 15)))
    assert not same_notice(official(), english_story("Douyin", published_on=date(2021, 5, 8)))
    miit = Regulator(code="MIIT", name="工业和信息化部")
    batch_8 = official(regulator=miit, batch="2021年第8批")
    assert not same_notice(
        batch_8, chinese_story("抖音", "快手", regulator=miit, batch="2021年第9批")
    )
    assert same_notice(batch_8, chinese_story("抖音", "快手", regulator=miit, batch="2021年第8批"))
    assert not same_notice(official(), english_story("Douyin", regulator=miit))


def test_apps_missing_from_a_whole_list_tell_another_notice() -> None:
    assert same_notice(official(), chinese_story("抖音", "快手", "领英"))
    assert not same_notice(official(), chinese_story("云端相册", "星光日历", "抖音"))
    # without a count, two apps in common and half of its own
    assert same_notice(official(), chinese_story("抖音", "快手", "星光日历", declared_count=None))
    assert not same_notice(official(), chinese_story("抖音", "星光日历", declared_count=None))
    assert not same_notice(official(), english_story("Douyin", declared_count=None))


def test_regulator_first_then_the_press_story_adds_nothing() -> None:
    own = official()
    merged = merge(own, english_story("Douyin", "LinkedIn", "Keep"))
    assert merged == own


def test_the_press_adds_apps_an_image_only_notice_could_not_give() -> None:
    image_only = official(
        entities=[FAMOUS[0]], list_incomplete=True, list_incomplete_reason="the list is an image"
    )
    merged = merge(image_only, english_story("Douyin", "Meiyou"))
    assert [e.name for e in merged.entities] == ["抖音", "Meiyou"]
    assert merged.deadline == OWN_DEADLINE and merged.title == image_only.title


def test_the_regulators_text_upgrades_a_press_only_notice_in_place() -> None:
    story = english_story("Douyin", "LinkedIn")
    merged = merge(story, official())
    assert merged.notice_id == "cac-press"
    assert merged.title == official().title and merged.deadline == OWN_DEADLINE
    assert merged.published_on == date(2021, 5, 10) and merged.language == "zh"
    assert [e.name for e in merged.entities] == [e.name for e in official().entities]
    assert merged.list_incomplete is False and merged.source_url == official().source_url


def test_an_app_only_the_chinese_press_named_is_not_lost_in_the_upgrade() -> None:
    story = chinese_story("抖音", "快手", "星光日历")
    merged = merge(story, official())
    assert [e.name for e in merged.entities][-1] == "星光日历"
    assert len(merged.entities) == len(official().entities) + 1


def test_two_press_stories_with_one_count_are_one_notice() -> None:
    first = english_story("Douyin")
    second = chinese_story("快手", "百度", published_on=date(2021, 5, 12))
    assert same_notice(first, second)
    merged = merge(first, second)
    assert [e.name for e in merged.entities] == ["Douyin", "快手", "百度"]
    assert not same_notice(first, chinese_story("快手", declared_count=41))


def test_copies_that_together_read_the_declared_count_complete_the_list() -> None:
    half = {"declared_count": 4, "list_incomplete": True, "list_incomplete_reason": "image"}
    merged = merge(event(*APPS[:2], **half), event(*APPS[2:], **half))
    assert merged.list_incomplete is False and merged.list_incomplete_reason is None
    short = merge(
        event(*APPS[:1], **half), event(*APPS[1:3], **half | {"list_incomplete_reason": "3"})
    )
    assert short.list_incomplete and short.list_incomplete_reason == "3"
