"""Email composing, rendering (templates), and sending to a real SMTP server
(tests/support/receivers.py)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from datetime import UTC, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest

from services.notifier.channels.email import unsubscribe_headers
from services.notifier.email import EmailSender, compose
from services.notifier.render import (
    DigestItem,
    describe_deadline,
    render_digest_email,
    render_endpoint_disabled_email,
    render_match_email,
    render_reminder_email,
    render_unsubscribe_page,
)
from shared.events import MatchEvent, Regulator
from tests.support.receivers import SmtpReceiver

NOW = datetime(2021, 5, 21, 10, tzinfo=UTC)
TO = "compliance@example.com"
FROM = "regwatch <alerts@regwatch.local>"


def make_event(**notice_changes: object) -> MatchEvent:
    event = MatchEvent.model_validate(
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
                }
            ],
        }
    )
    event.notice = event.notice.model_copy(update=notice_changes)
    return event


def roundtrip(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


# --- compose -----------------------------------------------------------------------------


def test_compose_is_multipart_alternative_utf8() -> None:
    message = roundtrip(
        compose(
            to=TO,
            sender=FROM,
            subject="[regwatch] CAC 抖音",
            text="纯文本 plain",
            html="<p>超文本</p>",
            msg_id_header="msg_abc",
            headers={"X-Regwatch-Alert-Id": "msg_abc"},
        )
    )
    assert message.get_content_type() == "multipart/alternative"
    subtypes = [part.get_content_type() for part in message.iter_parts()]
    assert subtypes == ["text/plain", "text/html"]
    for part in message.iter_parts():
        assert part.get_content_charset() == "utf-8"
        assert part["Content-Transfer-Encoding"] in (None, "7bit", "base64", "quoted-printable")
    assert parts(message) == ("纯文本 plain\n", "<p>超文本</p>\n")
    assert message["Subject"] == "[regwatch] CAC 抖音"
    assert message["Message-ID"] == "<msg_abc@regwatch.local>"
    assert message["X-Regwatch-Alert-Id"] == "msg_abc"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"]


def test_compose_keeps_a_full_message_id() -> None:
    message = compose(
        to=TO, sender=FROM, subject="s", text="t", html="h", msg_id_header="<x@regwatch>"
    )
    assert message["Message-ID"] == "<x@regwatch>"
    assert compose(to=TO, sender=FROM, subject="s", text="t", html="h", msg_id_header=None)[
        "Message-ID"
    ].endswith("@regwatch.local>")


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r", "\u2028", "\x0b", "\x85"])
def test_header_values_cannot_inject_headers(newline: str) -> None:
    message = roundtrip(
        compose(
            to=TO,
            sender=FROM,
            subject=f"Notice{newline}Bcc: victim@evil.example{newline}{newline}body",
            text="t",
            html="h",
            msg_id_header=f"id{newline}X-Evil: 1",
            headers={"X-Regwatch-Notice-Id": f"n1{newline}Cc: other@evil.example"},
        )
    )
    assert message["Bcc"] is None
    assert message["Cc"] is None
    assert message["X-Evil"] is None
    assert message["Subject"] == "Notice Bcc: victim@evil.example body"
    assert message["X-Regwatch-Notice-Id"] == "n1 Cc: other@evil.example"


@pytest.mark.parametrize("name", ["Content-Type", "MIME-Version", "Bad Name", "X:Y", ""])
def test_compose_rejects_bad_or_reserved_header_names(name: str) -> None:
    with pytest.raises(ValueError, match="header"):
        compose(to=TO, sender=FROM, subject="s", text="t", html="h", headers={name: "v"})


# --- rendering ---------------------------------------------------------------------------


def test_match_email_shows_the_notice_and_matches() -> None:
    event = make_event()
    subject, text, html = render_match_email(
        event.notice,
        event.matches,
        now=NOW,
        public_url="https://regwatch.example.com/",
        unsubscribe_url="https://regwatch.example.com/v1/unsubscribe/tok",
    )
    assert subject.startswith("[regwatch] CAC named 抖音: 关于抖音")
    assert "\n" not in subject
    for body in (text, html):
        assert "国家互联网信息办公室 (CAC)" in body
        assert "关于抖音、快手等105款App" in body
        assert "2021-05-21" in body
        assert "2021-06-11 (15 working days" in body
        assert "本通报发布之日起15个工作日内" in body
        assert "alias: Douyin = 抖音" in body
        assert "北京微播视界科技有限公司" in body
        assert "https://www.cac.gov.cn/2021-05/21/c_1623191833.htm" in body
        assert "https://regwatch.example.com/" in body
        assert "https://regwatch.example.com/v1/unsubscribe/tok" in body
        assert "21 days left" in body  # 2021-05-21 -> 2021-06-11
    assert '<a href="https://www.cac.gov.cn/2021-05/21/c_1623191833.htm">' in html


def test_an_issuer_regwatch_does_not_know_is_shown_as_printed() -> None:
    event = make_event()
    notice = event.notice.model_copy(
        update={"regulator": Regulator(code="OTHER", name="某县市场监督管理局", recognised=False)}
    )
    subject, text, html = render_match_email(notice, event.matches, now=NOW)
    assert subject.startswith("[regwatch] 某县市场监督管理局 named 抖音")
    assert "OTHER" not in subject
    for body in (text, html):
        assert "某县市场监督管理局 (issuer not recognised)" in body


def test_match_email_without_deadline_or_link() -> None:
    event = make_event(deadline=None, source_url=None)
    _subject, text, html = render_match_email(event.notice, event.matches, now=NOW)
    assert "Deadline:   no deadline given" in text
    assert "no deadline given" in html
    assert "no source link given" in text
    assert "Manage" not in text


def test_match_email_escapes_notice_text() -> None:
    event = make_event(
        title='<script>alert("x")</script> & more',
        source_url='javascript:alert(1)"><b>',
        batch="<i>2021-05</i>",
    )
    event.matches[0].reason = "<img src=x onerror=alert(1)>"
    _subject, _text, html = render_match_email(event.notice, event.matches, now=NOW)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<i>" not in html
    assert "javascript:" not in html
    assert "no source link given" in html


def test_describe_deadline_rules() -> None:
    deadline = make_event().notice.deadline
    assert deadline is not None
    absolute = deadline.model_copy(update={"rule": "absolute", "amount": None})
    assert describe_deadline(absolute).startswith("2021-06-11 (date set in the notice")
    calendar = deadline.model_copy(update={"rule": "calendar_days", "amount": 7})
    assert describe_deadline(calendar).startswith("2021-06-11 (7 calendar days")
    estimated = deadline.model_copy(update={"estimated": True})
    assert "estimated" in describe_deadline(estimated)
    assert describe_deadline(None) == "no deadline given"


@pytest.mark.parametrize(
    ("days", "phrase"), [(7, "7 days left"), (1, "1 day left"), (0, "due today"), (-2, "overdue")]
)
def test_reminder_email(days: int, phrase: str) -> None:
    event = make_event()
    subject, text, html = render_reminder_email(event.notice, event.matches, "7d", days, now=NOW)
    assert subject.startswith(f"[regwatch] Reminder: {phrase}")
    assert "2021-06-11" in subject
    assert "7d before the deadline" in text
    assert phrase in html
    assert "抖音" in text and "抖音" in html


# --- sending -----------------------------------------------------------------------------


def alert_message(event: MatchEvent | None = None) -> EmailMessage:
    chosen = event or make_event()
    subject, text, html = render_match_email(chosen.notice, chosen.matches, now=NOW)
    return compose(to=TO, sender=FROM, subject=subject, text=text, html=html, msg_id_header="msg_1")


def sender_for(smtp: SmtpReceiver, timeout: float = 5.0) -> EmailSender:
    return EmailSender(smtp.host, smtp.port, tls="none", timeout=timeout)


async def test_send_delivers_text_and_html() -> None:
    async with SmtpReceiver() as smtp:
        result = await sender_for(smtp).send(alert_message())
        (received,) = await smtp.wait_for(1)
        (mail,) = smtp.accepted
    assert (result.ok, result.retriable, result.status_code, result.error) == (
        True,
        False,
        250,
        None,
    )
    assert mail.rcpt_tos == [TO]
    assert mail.mail_from == "alerts@regwatch.local"
    assert received.get_content_type() == "multipart/alternative"
    text, html = parts(received)
    assert "alias: Douyin = 抖音" in text
    assert "alias: Douyin = 抖音" in html
    assert received["Subject"].startswith("[regwatch] CAC named 抖音")
    assert received["Message-ID"] == "<msg_1@regwatch.local>"


async def test_injection_in_title_adds_no_header_or_recipient() -> None:
    event = make_event(title="Notice\r\nBcc: victim@evil.example\r\nX-Evil: yes")
    async with SmtpReceiver() as smtp:
        result = await sender_for(smtp).send(alert_message(event))
        (received,) = await smtp.wait_for(1)
        (mail,) = smtp.accepted
    assert result.ok
    assert mail.rcpt_tos == [TO]
    assert received["Bcc"] is None and received["X-Evil"] is None
    assert "Notice Bcc: victim@evil.example X-Evil: yes" in received["Subject"]


async def test_451_is_retriable_then_accepted() -> None:
    async with SmtpReceiver(plan=["451 4.3.0 try later"]) as smtp:
        sender = sender_for(smtp)
        first = await sender.send(alert_message())
        second = await sender.send(alert_message())
        await smtp.wait_for(1)
        assert len(smtp.received) == 2
    assert (first.ok, first.retriable, first.status_code) == (False, True, 451)
    assert first.error == "SMTP 451 4.3.0 try later"
    assert second.ok


async def test_550_is_permanent() -> None:
    async with SmtpReceiver(plan=["550 5.7.1 message rejected"]) as smtp:
        result = await sender_for(smtp).send(alert_message())
        assert smtp.messages == []
    assert (result.ok, result.retriable, result.status_code) == (False, False, 550)
    assert result.permanent
    assert result.error == "SMTP 550 5.7.1 message rejected"


@pytest.mark.parametrize(
    ("reply", "retriable"), [("550 5.1.1 no such user", False), ("450 4.2.1 mailbox busy", True)]
)
async def test_refused_recipient(reply: str, retriable: bool) -> None:
    async with SmtpReceiver(rcpt_plan=[reply]) as smtp:
        result = await sender_for(smtp).send(alert_message())
        assert smtp.received == []
    assert (result.ok, result.retriable) == (False, retriable)
    assert result.status_code == int(reply[:3])
    assert result.error is not None and TO in result.error


async def test_connection_refused_is_retriable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await EmailSender("127.0.0.1", port, timeout=2.0).send(alert_message())
    assert (result.ok, result.retriable, result.status_code) == (False, True, None)
    assert result.error is not None and "SMTP connection failed" in result.error


async def test_silent_server_times_out_as_retriable() -> None:
    with socket.socket() as sock:  # accepts (backlog) but never greets
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        result = await EmailSender("127.0.0.1", port, timeout=0.5).send(alert_message())
    assert (result.ok, result.retriable) == (False, True)
    assert result.error is not None and "timed out" in result.error


async def test_starttls_required_but_unsupported_is_permanent() -> None:
    async with SmtpReceiver() as smtp:
        sender = EmailSender(smtp.host, smtp.port, tls="starttls", timeout=5.0)
        result = await sender.send(alert_message())
        assert smtp.received == []
    assert (result.ok, result.retriable) == (False, False)


def test_sync_context_manager() -> None:
    with SmtpReceiver() as smtp:
        assert smtp.port > 0


# --- connection pool ---------------------------------------------------------------------


async def test_pool_reuses_one_connection_for_a_batch() -> None:
    async with SmtpReceiver() as smtp:
        sender = EmailSender(smtp.host, smtp.port, timeout=5.0, connections=2)
        results = [await sender.send(alert_message()) for _ in range(5)]
        await smtp.wait_for(5)
        await sender.aclose()
    assert all(r.ok for r in results)
    assert sender.opened == 1


async def test_pool_opens_at_most_its_size_when_sending_concurrently() -> None:
    async with SmtpReceiver() as smtp:
        sender = EmailSender(smtp.host, smtp.port, timeout=5.0, connections=2)
        results = await asyncio.gather(*(sender.send(alert_message()) for _ in range(8)))
        await smtp.wait_for(8)
        await sender.aclose()
    assert all(r.ok for r in results)
    assert 1 <= sender.opened <= 2


async def test_a_failed_transaction_never_reuses_its_connection() -> None:
    async with SmtpReceiver(plan=["451 4.3.0 try later"]) as smtp:
        sender = EmailSender(smtp.host, smtp.port, timeout=5.0, connections=1)
        first = await sender.send(alert_message())
        second = await sender.send(alert_message())
        third = await sender.send(alert_message())
        await smtp.wait_for(2)
        await sender.aclose()
    assert (first.retriable, second.ok, third.ok) == (True, True, True)
    assert sender.opened == 2  # the 451 connection was closed; the next one was reused


async def test_a_connection_closed_while_idle_is_replaced() -> None:
    async with SmtpReceiver() as smtp:
        sender = EmailSender(smtp.host, smtp.port, timeout=5.0, connections=1, check_after=0)
        assert (await sender.send(alert_message())).ok
        for pooled in sender._idle:  # the server side went away meanwhile
            pooled.client.close()
        assert (await sender.send(alert_message())).ok
        await smtp.wait_for(2)
        await sender.aclose()
    assert sender.opened == 2


# --- templates ---------------------------------------------------------------------------


def test_escalation_email() -> None:
    event = make_event(kind="removal", deadline=None)
    subject, text, html = render_match_email(event.notice, event.matches, now=NOW, escalated=True)
    assert subject.startswith("[regwatch] ESCALATION: CAC ordered removal of 抖音")
    assert "removal notice" in text and "taken down" in html
    assert "alias: Douyin = 抖音" in text


def test_reminder_email_in_the_subscribers_zone_and_late() -> None:
    event = make_event()
    _subject, text, html = render_reminder_email(
        event.notice,
        event.matches,
        "1d",
        1,
        now=NOW,
        tz=ZoneInfo("Europe/Berlin"),
        late=True,
    )
    for body in (text, html):
        assert "2021-06-11 17:59 Europe/Berlin" in body
        assert "This reminder is late" in body


def test_digest_email_lists_each_held_alert() -> None:
    event = make_event()
    other = make_event(title="第二个通报 <b>", notice_id="miit-2")
    items = [
        DigestItem("notice.matched", event.notice, event.matches),
        DigestItem("deadline.reminder", other.notice, other.matches, "3d"),
    ]
    subject, text, html = render_digest_email(
        items, why="digest", now=NOW, unsubscribe_url="https://x.example/u"
    )
    assert subject == "[regwatch] Daily digest: 2 alerts"
    assert "1. CAC named 抖音" in text and "2. Reminder: CAC deadline 2021-06-11" in text
    assert text.count("alias: Douyin = 抖音") == 2
    assert "第二个通报 &lt;b&gt;" in html and "https://x.example/u" in html
    quiet_subject, _, _ = render_digest_email(items[:1], why="quiet", now=NOW)
    assert quiet_subject == "[regwatch] 1 alert held during your quiet hours"


def test_endpoint_disabled_email_and_unsubscribe_page() -> None:
    subject, text, html = render_endpoint_disabled_email(
        "https://hooks.example/<x>", "HTTP 410 Gone", datetime(2024, 1, 1, tzinfo=UTC)
    )
    assert "410" in subject and "https://hooks.example/<x>" in text
    assert "https://hooks.example/&lt;x&gt;" in html
    page = render_unsubscribe_page("confirm", email="a<b>@example.com", action="/v1/unsubscribe/t")
    assert (
        '<form method="post" action="/v1/unsubscribe/t">' in page
        and "a&lt;b&gt;@example.com" in page
    )
    off = render_unsubscribe_page(
        "unsubscribed", email="a@example.com", resubscribe_action="/v1/unsubscribe/t/resubscribe"
    )
    assert "You are unsubscribed" in off
    assert '<form method="post" action="/v1/unsubscribe/t/resubscribe">' in off


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://alerts.example.com/v1/unsubscribe/tok",
            {
                "List-Unsubscribe": "<https://alerts.example.com/v1/unsubscribe/tok>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        ),
        (
            "http://127.0.0.1:8080/v1/unsubscribe/tok",
            {"List-Unsubscribe": "<http://127.0.0.1:8080/v1/unsubscribe/tok>"},
        ),
        (
            "http://alerts.example.com/v1/unsubscribe/tok",
            {"List-Unsubscribe": "<http://alerts.example.com/v1/unsubscribe/tok>"},
        ),
        (None, {}),
        ("", {}),
    ],
)
def test_one_click_unsubscribe_only_for_https_links(
    url: str | None, expected: dict[str, str]
) -> None:
    """RFC 8058: List-Unsubscribe-Post only with an HTTPS List-Unsubscribe URI."""
    assert unsubscribe_headers(url) == expected
