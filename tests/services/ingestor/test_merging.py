"""Pure merge rules: reprints fold into one notice, removal notices find what they follow up."""

from __future__ import annotations

from datetime import date

from services.ingestor.merging import follow_up_score, merge, name_key, same_notice
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
