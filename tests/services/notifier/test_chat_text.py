"""Chat messages: the email's facts in Chinese or English, and a long list of apps cut to fit
with how many more there are."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.notifier.chat_text import as_markdown, chat_message
from services.notifier.payloads import match_data
from shared.events import EntityRef, Match, WatchRef
from tests.support.factories import match_event

NOW = datetime(2099, 8, 25, 2, 0, tzinfo=UTC)


def data(apps: int = 1) -> dict[str, object]:
    event = match_event("sub_1", date(2099, 9, 1))
    event.notice.source_url = "https://www.miit.gov.cn/notice.html"
    event.matches = [
        Match(
            watch=WatchRef(kind="app", name=f"App {n}"),
            entity=EntityRef(name=f"应用{n}", developer=f"某某科技有限公司{n}"),
            score=1.0,
            reason="same name",
        )
        for n in range(apps)
    ]
    return match_data(event)


def test_a_match_says_regulator_title_deadline_days_left_apps_and_links() -> None:
    zh = chat_message(
        "notice.matched", data(), language="zh", now=NOW, public_url="https://rw.example"
    )
    title, text = as_markdown(zh, 20_000)
    assert title == "工业和信息化部 通报了您关注的应用"
    assert "整改期限：2099-09-01（还剩 7 天）" in text
    assert "应用0（关注项：App 0；same name），开发者 某某科技有限公司0" in text
    assert "[通报原文](https://www.miit.gov.cn/notice.html)" in text
    assert "(https://rw.example/portal/alerts/match_1)" in text  # the alert's own page
    en = chat_message("notice.matched", data(), language="en", now=NOW, public_url=None)
    title, text = as_markdown(en, 20_000, prefix="regwatch")
    assert title == "regwatch MIIT (工业和信息化部) named apps you watch"
    assert "Deadline: 2099-09-01 (7 days left)" in text and "/portal/" not in text


def test_a_long_list_is_cut_to_fit_and_says_how_many_more() -> None:
    message = chat_message("notice.matched", data(400), language="zh", now=NOW, public_url=None)
    title, text = as_markdown(message, 20_000)
    assert len((title + text).encode()) <= 20_000
    assert "应用0" in text and "应用399" not in text
    shown = sum(1 for line in text.splitlines() if line[:1].isdigit())
    assert f"……另有 {400 - shown} 项，见通报全文" in text
    whole = as_markdown(
        chat_message("notice.matched", data(3), language="zh", now=NOW, public_url=None), 20_000
    )[1]
    assert "另有" not in whole


def test_markdown_in_names_is_escaped() -> None:
    payload = data()
    payload["matches"][0]["entity"]["name"] = "[click](https://evil.example)"  # type: ignore[index]
    _, text = as_markdown(
        chat_message("notice.matched", payload, language="en", now=NOW, public_url=None), 20_000
    )
    assert "\\[click\\](https://evil.example)" in text


def test_a_reminder_links_to_the_deadlines_and_an_alert_without_id_to_the_alerts() -> None:
    reminder = chat_message(
        "deadline.reminder",
        {"notice": {}},
        language="en",
        now=NOW,
        public_url="https://rw.example/",
    )
    assert reminder.links == [("Open in regwatch", "https://rw.example/portal/deadlines")]
    plain = chat_message(
        "notice.matched", {}, language="en", now=NOW, public_url="https://rw.example"
    )
    assert plain.links == [("Open in regwatch", "https://rw.example/portal/alerts")]
