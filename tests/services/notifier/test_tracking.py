"""The pure parts of deadline tracking: how watch names compare, how a later MatchEvent's
apps join those known, and the stored summary of a notice and its apps."""

from __future__ import annotations

from datetime import date

from services.notifier.tracking import (
    merge_matches,
    name_key,
    read_summary,
    summary_payload,
    watch_key,
)
from shared.events import EntityRef, Match, WatchRef
from tests.support.factories import match_event


def a_match(watch: str, entity: str, kind: str = "app") -> Match:
    return Match(
        watch=WatchRef(kind=kind, name=watch),  # type: ignore[arg-type]
        entity=EntityRef(name=entity),
        score=1.0,
        reason="same name",
    )


def test_names_compare_by_width_case_and_spacing() -> None:
    assert name_key("  ＤｏｕＹｉｎ\u3000App ") == name_key("douyin app")
    assert name_key("抖音") != name_key("快手")
    assert len(name_key("x" * 1000)) == 300


def test_a_watch_is_its_kind_and_its_name_key() -> None:
    assert watch_key(a_match("WeChat", "微信")) == watch_key(a_match("wechat ", "微信"))
    assert watch_key(a_match("Tencent", "腾讯", "company")) != watch_key(a_match("Tencent", "腾讯"))


def test_a_later_event_adds_only_the_apps_it_newly_names() -> None:
    known = [a_match("Douyin", "抖音"), a_match("Kuaishou", "快手")]
    later = [a_match("douyin", "抖音"), a_match("WeChat", "微信"), a_match("Douyin", "抖音极速版")]
    merged = merge_matches(known, later)
    assert [(m.watch.name, m.entity.name) for m in merged] == [
        ("Douyin", "抖音"),
        ("Kuaishou", "快手"),
        ("WeChat", "微信"),
        ("Douyin", "抖音极速版"),
    ]
    assert merge_matches(merged, later) == merged


def test_the_summary_of_a_notice_and_its_apps_reads_back_the_same() -> None:
    event = match_event("sub_1", date(2099, 9, 1))
    notice, matches = read_summary(summary_payload(event.notice, list(event.matches)))
    assert notice == event.notice
    assert matches == list(event.matches)
    assert "抖音" in summary_payload(event.notice, list(event.matches))  # stored readable
