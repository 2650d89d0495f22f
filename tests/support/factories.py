"""Small builders of events for tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.events import (
    Deadline,
    EntityRef,
    Match,
    MatchEvent,
    NoticeSummary,
    Regulator,
    WatchRef,
)


def match_event(subscriber_id: str, due_on: date | None) -> MatchEvent:
    deadline = None
    if due_on is not None:
        deadline = Deadline(due_on=due_on, rule="absolute", source_text="应在…前完成整改")
    return MatchEvent(
        match_id="match_1",
        subscriber_id=subscriber_id,
        notice=NoticeSummary(
            notice_id="miit-20990801-abc",
            regulator=Regulator(code="MIIT", name="工业和信息化部"),
            kind="rectification",
            title="关于侵害用户权益行为的APP通报",
            published_on=date(2099, 8, 1),
            deadline=deadline,
        ),
        matches=[
            Match(
                watch=WatchRef(kind="app", name="Douyin"),
                entity=EntityRef(name="抖音", developer="北京微播视界科技有限公司"),
                score=0.95,
                reason="pinyin of 抖音 is douyin",
            )
        ],
        matched_at=datetime(2099, 8, 1, tzinfo=UTC),
    )
