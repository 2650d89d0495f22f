"""Alerts say in words what part of a notice's list regwatch could not read."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.notifier import payloads
from services.notifier.completeness import list_note
from services.notifier.render import render_match_email
from shared.events import Entity, EntityRef, Match, NoticeEvent, NoticeSummary, Regulator, WatchRef


def image_only_notice(read: int = 28, **fields: object) -> NoticeEvent:
    base: dict[str, object] = {
        "notice_id": "cac-20210501-img",
        "regulator": Regulator(code="CAC", name="国家互联网信息办公室"),
        "kind": "rectification",
        "title": "关于抖音等105款App违法违规收集使用个人信息情况的通报",
        "published_on": date(2021, 5, 1),
        "entities": [Entity(name=f"应用{n}", source="text") for n in range(read)],
        "declared_count": 105,
        "list_incomplete": True,
        "list_incomplete_reason": "the list is an image; only the apps named in the text are given",
    }
    base.update(fields)
    return NoticeEvent.model_validate(base)


MATCH = Match(
    watch=WatchRef(kind="app", name="应用1"),
    entity=EntityRef(name="应用1"),
    score=1.0,
    reason="same name",
)


def test_the_summary_counts_what_was_read_and_from_where() -> None:
    notice = image_only_notice(
        entities=[Entity(name="甲", source="text"), Entity(name="乙", source="attachment")]
    )
    summary = NoticeSummary.of(notice)
    assert (summary.declared_count, summary.entities_read) == (105, 2)
    assert summary.entities_read_from == {"text": 1, "attachment": 1}
    assert summary.list_incomplete and summary.list_incomplete_reason


def test_an_image_list_is_said_in_words() -> None:
    note = list_note(NoticeSummary.of(image_only_notice()))
    assert note is not None
    assert note.startswith(
        "This notice names 105 apps; 28 read from the text; "
        "the rest are in an image we could not read."
    )


def test_several_sources_and_a_missing_attachment() -> None:
    notice = image_only_notice(
        entities=[Entity(name="甲", source="table"), Entity(name="乙"), Entity(name="丙")],
        declared_count=None,
        list_incomplete_reason="the list is in an attachment that was not given",
    )
    note = list_note(NoticeSummary.of(notice))
    assert note is not None
    assert note.startswith(
        "This notice names more apps than we could read; "
        "3 read: 2 from the text, 1 from a table in the page; "
        "the rest are in an attachment"
    )


def test_a_list_as_long_as_declared_but_marked_partial_says_why() -> None:
    partial = image_only_notice(
        read=3, declared_count=3, list_incomplete_reason="the notice lists only part of the apps"
    )
    note = list_note(NoticeSummary.of(partial))
    assert note is not None and "the rest" not in note
    assert "3 read from the text; yet the list may be incomplete (the notice lists only" in note


def test_a_whole_list_says_nothing() -> None:
    whole = image_only_notice(list_incomplete=False, list_incomplete_reason=None)
    assert list_note(NoticeSummary.of(whole)) is None
    # a summary stored before these fields existed reads as whole
    old = NoticeSummary.model_validate(
        NoticeSummary.of(whole).model_dump(
            include={"notice_id", "regulator", "title", "published_on"}
        )
    )
    assert list_note(old) is None and old.entities_read is None


def test_the_webhook_and_the_email_carry_it() -> None:
    summary = NoticeSummary.of(image_only_notice())
    data = payloads.notice_data(summary)
    assert (data["list_incomplete"], data["declared_count"], data["entities_read"]) == (
        True,
        105,
        28,
    )
    assert data["list_incomplete_reason"].startswith("the list is an image")
    assert data["list_note"] == list_note(summary)
    _subject, text, html = render_match_email(
        summary, [MATCH], now=datetime(2021, 5, 2, tzinfo=UTC)
    )
    assert "names 105 apps; 28 read from the text" in text
    assert "names 105 apps; 28 read from the text" in html
    _subject, text, _html = render_match_email(
        NoticeSummary.of(image_only_notice(list_incomplete=False)),
        [MATCH],
        now=datetime(2021, 5, 2, tzinfo=UTC),
    )
    assert "List:" not in text
