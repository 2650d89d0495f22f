"""Webhook bodies and delivery ids."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone

from services.notifier import payloads
from shared.events import MatchEvent, NoticeSummary


def make_event() -> MatchEvent:
    return MatchEvent.model_validate(
        {
            "match_id": "m-1",
            "subscriber_id": "sub-1",
            "matched_at": "2021-05-21T10:00:00Z",
            "notice": {
                "notice_id": "cac-2021-05-21",
                "regulator": {"code": "CAC", "name": "国家互联网信息办公室"},
                "kind": "rectification",
                "title": "关于抖音、快手等105款App违法违规收集使用个人信息情况的通报",
                "published_on": "2021-05-21",
                "batch": None,
                "deadline": {
                    "due_on": "2021-06-11",
                    "rule": "working_days",
                    "amount": 15,
                    "source_text": "本通报发布之日起15个工作日内",
                },
                "source_url": "https://www.cac.gov.cn/2021-05/21/c_1623191833.htm",
            },
            "matches": [
                {
                    "watch": {"kind": "app", "name": "Douyin"},
                    "entity": {"name": "抖音", "developer": "北京微播视界科技有限公司"},
                    "score": 0.97,
                    "reason": "alias: Douyin = 抖音",
                },
                {
                    "watch": {"kind": "company", "name": "Kuaishou"},
                    "entity": {"name": "快手", "developer": "北京快手科技有限公司"},
                    "score": 0.9,
                    "reason": "developer owned by Kuaishou Technology",
                },
            ],
        }
    )


def test_webhook_body_shape_and_utf8() -> None:
    when = datetime(2021, 5, 21, 18, 0, tzinfo=timezone(timedelta(hours=8)))
    body = payloads.webhook_body("notice.matched", {"title": "抖音"}, when)
    assert "抖音".encode() in body  # not \u escaped
    document = json.loads(body.decode("utf-8"))
    assert document == {
        "type": "notice.matched",
        "timestamp": "2021-05-21T10:00:00Z",
        "data": {"title": "抖音"},
    }


def test_webhook_body_naive_timestamp_is_utc() -> None:
    body = payloads.webhook_body("x", {}, datetime(2021, 1, 2, 3, 4, 5, 600000))
    assert json.loads(body)["timestamp"] == "2021-01-02T03:04:05.600000Z"


def test_match_data_follows_the_public_contract() -> None:
    event = make_event()
    data = payloads.match_data(event)
    assert set(data) == {"notice", "subscriber_id", "match_id", "matches", "reason"}
    assert data["match_id"] == "m-1"
    assert data["subscriber_id"] == "sub-1"
    assert data["reason"] == "match"
    notice = data["notice"]
    for key in (
        "notice_id",
        "regulator",
        "kind",
        "title",
        "published_on",
        "batch",
        "deadline",
        "source_url",
    ):
        assert key in notice
    assert notice["regulator"] == {
        "code": "CAC",
        "name": "国家互联网信息办公室",
        "recognised": True,
    }
    assert notice["list_incomplete"] is False and notice["list_note"] is None
    assert notice["published_on"] == "2021-05-21"
    assert notice["deadline"]["due_on"] == "2021-06-11"
    assert notice["deadline"]["rule"] == "working_days"
    assert NoticeSummary.model_validate(notice) == event.notice
    assert data["matches"][0] == {
        "watch": {"kind": "app", "name": "Douyin"},
        "entity": {"name": "抖音", "developer": "北京微播视界科技有限公司"},
        "score": 0.97,
        "reason": "alias: Douyin = 抖音",
    }
    assert len(data["matches"]) == 2
    # the whole body is JSON-serialisable
    json.loads(payloads.webhook_body("notice.matched", data, event.matched_at))


def test_reminder_data() -> None:
    event = make_event()
    data = payloads.reminder_data(event.notice, event.matches[:1], "3d", 3)
    assert data["offset"] == "3d"
    assert data["days_left"] == 3
    assert data["due_on"] == "2021-06-11"
    assert data["notice"]["notice_id"] == "cac-2021-05-21"
    assert [m["entity"]["name"] for m in data["matches"]] == ["抖音"]
    json.loads(payloads.webhook_body(payloads.DEADLINE_REMINDER, data, datetime.now(UTC)))


def test_reminder_data_late_and_local_time() -> None:
    event = make_event()
    due = datetime(2021, 6, 10, 15, 59, 59, tzinfo=UTC)
    data = payloads.reminder_data(
        event.notice,
        event.matches,
        "1d",
        1,
        late=True,
        fire_at=due,
        timezone="Europe/Berlin",
        fire_at_local="2021-06-10T17:59:59+02:00",
    )
    assert data["late"] is True
    assert data["fire_at"] == "2021-06-10T15:59:59Z"
    assert (data["timezone"], data["fire_at_local"]) == (
        "Europe/Berlin",
        "2021-06-10T17:59:59+02:00",
    )


def test_escalation_data_marks_the_removal() -> None:
    event = make_event()
    data = payloads.escalation_data(event, "retroactive")
    assert data["reason"] == "retroactive"
    assert data["escalation"]["level"] == "removal"
    assert data["matches"] == payloads.match_data(event)["matches"]


def test_digest_data_lists_alerts_with_their_ids() -> None:
    alerts = [{"id": "msg_a", "type": "notice.matched", "data": {}}]
    data = payloads.digest_data("sub-1", "quiet", alerts, datetime(2021, 1, 1, tzinfo=UTC))
    assert data == {
        "subscriber_id": "sub-1",
        "why": "quiet",
        "released_at": "2021-01-01T00:00:00Z",
        "count": 1,
        "alerts": alerts,
    }


def test_reminder_data_without_deadline() -> None:
    notice = make_event().notice.model_copy(update={"deadline": None})
    assert payloads.reminder_data(notice, [], "1d", 1)["due_on"] is None


def test_delivery_id_is_stable_and_well_formed() -> None:
    first = payloads.delivery_id("sub-1", "cac-2021-05-21", "notice.matched", "webhook")
    again = payloads.delivery_id("sub-1", "cac-2021-05-21", "notice.matched", "webhook")
    assert first == again
    assert re.fullmatch(r"msg_[a-z2-7]{26}", first)
    assert first != payloads.delivery_id("sub-1", "cac-2021-05-21", "notice.matched", "email")


def test_delivery_id_is_the_one_earlier_versions_gave() -> None:
    """Receivers deduplicate on it: the same parts keep the id they always had (these are
    base32 of the whole SHA-256 digest, cut to 26 characters)."""
    assert (
        payloads.delivery_id("sub-1", "cac-2021-05-21", "notice.matched", "match", "webhook")
        == "msg_5ik2d3sz4gtkd72mcydbpk66yo"
    )
    assert (
        payloads.delivery_id("sub_x", "n", "deadline.reminder", "7d", "dingtalk", "tgt_1")
        == "msg_zsunghhn5mvylqy6ucqaqcj32q"
    )


def test_delivery_id_parts_are_not_ambiguous() -> None:
    assert payloads.delivery_id("a", "bc") != payloads.delivery_id("ab", "c")
    assert payloads.delivery_id("ab") != payloads.delivery_id("a", "b")


def test_event_dates_survive() -> None:
    assert make_event().notice.published_on == date(2021, 5, 21)
