"""The bytes ``compose`` writes, as a mail server gets them (``EmailSender.send`` hands them to
``sendmail`` unchanged): read back by real parsers, compared with the composition before it
(``tests/support/email_before.py``: ``EmailMessage`` flattened by ``aiosmtplib``), and sent
through a real SMTP server."""

from __future__ import annotations

import email
import email.header
import email.policy
import email.utils
import re
from datetime import UTC, date, datetime
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest

from services.notifier.channels.email import unsubscribe_headers
from services.notifier.email import EmailSender, compose
from services.notifier.handler import handle_match
from services.notifier.portal_signin import render_link_email
from services.notifier.preferences import get_preferences
from services.notifier.render import (
    DigestItem,
    render_digest_email,
    render_endpoint_disabled_email,
    render_match_email,
    render_reminder_email,
)
from shared.db import Database
from shared.events import EntityRef, Match, WatchRef
from tests.services.notifier.test_dispatcher import SETTINGS, running_dispatcher, subscribe
from tests.support.email_before import compose_before, wire_before
from tests.support.factories import match_event
from tests.support.receivers import SmtpReceiver

NOW = datetime(2099, 8, 2, 9, tzinfo=UTC)
SENDER = "regwatch <alerts@regwatch.local>"
TOKEN = "kR3v9XbQm2TfLw8ZpY6sN1cHdJ4gUaE7oViBtMxqWzA"  # as long as secrets.token_urlsafe(32)
HTTPS_LINK = f"https://regwatch.example.com/v1/unsubscribe/{TOKEN}"
HTTP_LINK = f"http://127.0.0.1:8080/v1/unsubscribe/{TOKEN}"


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def head_lines(data: bytes) -> list[bytes]:
    return data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def alert_headers(delivery: str, link: str | None) -> dict[str, str]:
    """The headers ``EmailChannel.send`` adds."""
    headers = {"X-Regwatch-Alert-Id": delivery, "X-Regwatch-Notice-Id": "miit-20990801-abc"}
    headers.update(unsubscribe_headers(link))
    return headers


def cases() -> dict[str, dict[str, Any]]:
    """Varied emails, as ``compose`` gets them."""
    one = match_event("sub_1", date(2099, 8, 31))
    names = ["抖音", "快手", "微信", "淘宝", "拼多多", "小红书", "哔哩哔哩", "美团", "支付宝"]
    many = one.model_copy(
        update={
            "matches": [
                Match(
                    watch=WatchRef(kind="app", name=name),
                    entity=EntityRef(name=name, developer=f"{name}科技有限公司"),
                    score=0.9,
                    reason=f"exact name {name}",
                )
                for name in names
            ]
        }
    )
    english = one.notice.model_copy(
        update={"title": "Notice on apps infringing user rights", "source_url": None}
    )

    def alert(content: tuple[str, str, str], n: int, link: str | None, **more: Any) -> Any:
        subject, text, html = content
        delivery = f"dlv_{n:026d}"
        return {
            "to": f"risk{n}@example.com",
            "sender": SENDER,
            "subject": subject,
            "text": text,
            "html": html,
            "msg_id_header": f"<{delivery}@regwatch>",
            "headers": alert_headers(delivery, link),
        } | more

    match = render_match_email(one.notice, one.matches, now=NOW, unsubscribe_url=HTTPS_LINK)
    return {
        "match": alert(match, 1, HTTPS_LINK),
        "ten matches": alert(
            render_match_email(many.notice, many.matches, now=NOW, unsubscribe_url=HTTPS_LINK),
            2,
            HTTPS_LINK,
        ),
        "english, http link": alert(
            render_match_email(english, one.matches, now=NOW, unsubscribe_url=HTTP_LINK),
            3,
            HTTP_LINK,
        ),
        "late reminder": alert(
            render_reminder_email(one.notice, one.matches, "1d", 1, now=NOW, late=True), 4, None
        ),
        "digest": alert(
            render_digest_email(
                [DigestItem("notice.matched", many.notice, many.matches)] * 4,
                why="digest",
                now=NOW,
                unsubscribe_url=HTTPS_LINK,
            ),
            5,
            HTTPS_LINK,
        ),
        "endpoint disabled": alert(
            render_endpoint_disabled_email("https://hooks.example/x", "HTTP 410 Gone", NOW),
            6,
            None,
        ),
        "sign-in link, generated Message-ID": {
            "to": "Risk Team <risk@example.com>",
            "sender": SENDER,
            "msg_id_header": None,
            **dict(
                zip(
                    ("subject", "text", "html"),
                    render_link_email([("风控", "sub_1", "https://x.example/l/abc")]),
                    strict=True,
                )
            ),
        },
        "non-ASCII display names, long lines": alert(
            (
                "监管 " + "关于侵害用户权益行为的APP通报" * 8 + " 😀 end",
                "纯文本\n" + "x" * 2000 + "\n" + "长" * 500 + "\n",
                "<p>" + "y" * 3000 + "</p>\n",
            ),
            7,
            HTTPS_LINK,
            sender="规管 Watch 团队 <alerts@regwatch.local>",
            to='"风控, 法务" <risk7@example.com>',
        ),
        "header injection attempts": alert(
            ("Notice\r\nBcc: victim@evil.example\r\n\r\nbody", "t\r\n.\r\nQUIT\r\n", "h"),
            8,
            HTTPS_LINK,
            msg_id_header="id\r\nX-Evil: 1",
        ),
    }


CASES = cases()


def structure(message: EmailMessage) -> list[tuple[Any, ...]]:
    """Each part: type, charset, transfer encoding, its other headers, its text (LF ends)."""
    parts = []
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        # The standard library also wrote MIME-Version into the HTML part; only the
        # message's own counts (RFC 2045), and compose() writes that one.
        names = [name for name in part if name != "MIME-Version"]
        content = part.get_content().replace("\r\n", "\n")
        parts.append(
            (
                part.get_content_type(),
                part.get_content_charset(),
                part["Content-Transfer-Encoding"],
                names,
                content,
            )
        )
    return parts


@pytest.mark.parametrize("case", list(CASES))
def test_the_bytes_read_as_the_message_before_did(case: str) -> None:
    """Same envelope, same headers in the same order with the same values once decoded, same
    parts with the same content, charsets and transfer encodings."""
    given = CASES[case]
    new = compose(**given)
    sender, recipients, before = wire_before(compose_before(**given))
    assert (new.sender, list(new.recipients)) == (sender, recipients)
    now, then = parse(new.data), parse(before)
    assert now.keys() == then.keys()
    for name in now:
        if name == "Date":
            sent = email.utils.parsedate_to_datetime(str(now[name]))
            assert sent.tzinfo is not None and sent.utcoffset() == UTC.utcoffset(None)
        elif name == "Message-ID" and given.get("msg_id_header") is None:
            assert str(now[name]).endswith("@regwatch.local>")
        elif name == "Content-Type":  # a boundary of its own
            assert now[name].params.keys() == then[name].params.keys() == {"boundary"}  # type: ignore[attr-defined]
        elif name == "Subject":
            # as given; the folder before sometimes left a space at the end of a line before
            # an encoded word, which parsers read as two spaces
            assert str(now[name]) == " ".join(given["subject"].split())
            assert str(now[name]) == " ".join(str(then[name]).split())
        else:
            assert str(now[name]) == str(then[name]), name
    for header in ("From", "To"):
        assert [
            (a.display_name, a.addr_spec)
            for a in now[header].addresses  # type: ignore[attr-defined]
        ] == [(a.display_name, a.addr_spec) for a in then[header].addresses]  # type: ignore[attr-defined]
    assert now.get_content_type() == then.get_content_type() == "multipart/alternative"
    assert structure(now) == structure(then)
    assert now.defects == then.defects == []


@pytest.mark.parametrize("case", list(CASES))
def test_the_bytes_are_ascii_crlf_lines_a_server_takes(case: str) -> None:
    data = compose(**CASES[case]).data
    assert data.isascii()
    assert b"\r" not in data.replace(b"\r\n", b"") and b"\n" not in data.replace(b"\r\n", b"")
    lines = data.split(b"\r\n")
    for line in head_lines(data):
        limit = 998 if line.startswith(b"List-Unsubscribe: ") else 78
        assert len(line) <= limit, line
    assert max(len(line) for line in lines) <= 998
    body = data.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 78


def test_non_ascii_subject_and_display_name_round_trip() -> None:
    subject = "[regwatch] 工信部 named 抖音: 关于侵害用户权益行为的APP通报 (第 3 批) 😀 — done"
    message = compose(
        to='"风控 团队" <risk@example.com>',
        sender="规管 Watch 团队 <alerts@regwatch.local>",
        subject=subject,
        text="t",
        html="h",
    )
    assert message.data.isascii() and not message.utf8
    assert (message.sender, message.recipients) == ("alerts@regwatch.local", ("risk@example.com",))
    parsed = parse(message.data)
    assert parsed["Subject"] == subject
    [sender] = parsed["From"].addresses  # type: ignore[attr-defined]
    assert (sender.display_name, sender.addr_spec) == ("规管 Watch 团队", "alerts@regwatch.local")
    [to] = parsed["To"].addresses  # type: ignore[attr-defined]
    assert (to.display_name, to.addr_spec) == ("风控 团队", "risk@example.com")
    # and by the older parser most mail software is closer to (RFC 2047 decoding only)
    old = email.message_from_bytes(message.data, policy=email.policy.compat32)
    decoded = email.header.make_header(email.header.decode_header(old["Subject"]))
    assert str(decoded) == subject
    assert email.utils.parseaddr(
        str(email.header.make_header(email.header.decode_header(old["From"])))
    ) == ("规管 Watch 团队", "alerts@regwatch.local")
    assert all(len(line) <= 78 for line in head_lines(message.data))


@pytest.mark.parametrize(
    "subject",
    [
        "抖" * 400,
        "a " + "x" * 77,
        "a " + "x" * 300 + " b",
        "😀" * 50 + " tail",
        "=?utf-8?q?looks_encoded?= but is not",
        "spaces  collapse\tand\u3000stay",
        "",
    ],
)
def test_any_subject_comes_back_as_given_on_short_lines(subject: str) -> None:
    message = compose(to="r@example.com", sender=SENDER, subject=subject, text="t", html="h")
    assert parse(message.data)["Subject"] == " ".join(subject.split())
    assert all(len(line) <= 78 for line in head_lines(message.data))


def test_long_body_lines_are_encoded_and_come_back_whole() -> None:
    text = "纯文本\n" + "x" * 2000 + "\n" + "长" * 700 + "\n"
    html = "<p>" + "y" * 3000 + "</p>"
    message = compose(to="r@example.com", sender=SENDER, subject="s", text=text, html=html)
    parsed = parse(message.data)
    [(_, _, text_cte, _, text_back), (_, _, html_cte, _, html_back)] = structure(parsed)
    assert (text_cte, html_cte) == ("quoted-printable", "quoted-printable")
    assert (text_back, html_back) == (text, html + "\n")
    assert max(len(line) for line in message.data.split(b"\r\n")) <= 78


@pytest.mark.parametrize("link", [HTTPS_LINK, HTTP_LINK])
def test_list_unsubscribe_is_written_as_is_and_one_click_only_for_https(link: str) -> None:
    """RFC 2369 / 8058: mail apps read the URI in angle brackets as it is written (an RFC 2047
    encoded word there is no link to them; the composer before wrote one for any link this
    long); List-Unsubscribe-Post only with an HTTPS link."""
    message = compose(
        to="r@example.com",
        sender=SENDER,
        subject="s",
        text="t",
        html="h",
        headers=alert_headers("dlv_1", link),
    )
    lines = head_lines(message.data)
    assert f"List-Unsubscribe: <{link}>".encode() in lines
    one_click = b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    assert (one_click in lines) == link.startswith("https://")


async def test_a_dispatched_alert_reaches_the_server_with_one_click_unsubscribe(
    db: Database,
) -> None:
    settings = SETTINGS.model_copy(update={"public_url": "https://alerts.example.com/"})
    subscriber_id, _ = await subscribe(db, email="risk@example.com", webhook=None)
    [delivery], _ = await handle_match(db, settings, match_event(subscriber_id, None))
    async with SmtpReceiver() as smtp:
        async with running_dispatcher(db, smtp) as dispatcher:
            dispatcher.kick()
            await smtp.wait_for(1)
        [mail] = smtp.accepted
    async with db.session() as session:
        token = (await get_preferences(session, subscriber_id)).unsubscribe_token
    lines = head_lines(mail.raw)
    assert f"List-Unsubscribe: <https://alerts.example.com/v1/unsubscribe/{token}>".encode() in (
        lines
    )
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in lines
    assert f"Message-ID: <{delivery}@regwatch>".encode() in lines
    assert (mail.mail_from, mail.rcpt_tos) == ("alerts@regwatch.local", ["risk@example.com"])
    assert mail.message["Subject"].startswith("[regwatch] MIIT named 抖音")


async def test_sent_as_composed_over_smtp() -> None:
    given = CASES["non-ASCII display names, long lines"]
    message = compose(**given)
    async with SmtpReceiver() as smtp:
        sender = EmailSender(smtp.host, smtp.port, timeout=5.0)
        result = await sender.send(message)
        await sender.aclose()
        [mail] = smtp.accepted
    assert (result.ok, result.status_code) == (True, 250)
    assert mail.raw.replace(b"\r\n", b"\n") == message.as_bytes()
    assert (mail.mail_from, mail.rcpt_tos) == ("alerts@regwatch.local", ["risk7@example.com"])
    assert mail.message["Subject"] == " ".join(given["subject"].split())


@pytest.mark.parametrize(
    ("to", "sender", "error"),
    [
        ("", SENDER, "No recipient headers provided in message"),
        ("r@example.com", "", "No From header provided in message"),
        ("r@example.com", "undisclosed-recipients:;", "No From header provided in message"),
    ],
)
async def test_a_message_without_an_address_fails_for_good_as_before(
    to: str, sender: str, error: str
) -> None:
    given = {"to": to, "sender": sender, "subject": "s", "text": "t", "html": "h"}
    async with SmtpReceiver() as smtp:
        pool = EmailSender(smtp.host, smtp.port, timeout=5.0)
        result = await pool.send(compose(**given))
        await pool.aclose()
        async with aiosmtplib.SMTP(hostname=smtp.host, port=smtp.port) as client:
            # the path before: the same ValueError, which send() reported the same way
            with pytest.raises(ValueError, match=error):
                await client.send_message(compose_before(**given))
        assert smtp.received == []
    assert (result.ok, result.retriable) == (False, False)
    assert result.error == f"unusable email message: {error}"


async def test_a_non_ascii_address_goes_as_smtputf8_as_before() -> None:
    given = {"to": "用户@例子.广告", "sender": SENDER, "subject": "抖音", "text": "t", "html": "h"}
    message = compose(**given)
    assert message.utf8 and message.recipients == ("用户@例子.广告",)
    assert "To: 用户@例子.广告".encode() in head_lines(message.data)
    assert wire_before(compose_before(**given))[:2] == (message.sender, list(message.recipients))
    async with SmtpReceiver() as smtp:  # aiosmtpd offers SMTPUTF8
        sender = EmailSender(smtp.host, smtp.port, timeout=5.0)
        result = await sender.send(message)
        await sender.aclose()
        [mail] = smtp.accepted
    assert result.ok
    assert mail.rcpt_tos == ["用户@例子.广告"]
    assert (mail.message["To"], mail.message["Subject"]) == ("用户@例子.广告", "抖音")


@pytest.mark.parametrize("name", ["From", "to", "Cc", "BCC", "Sender"])
def test_headers_cannot_change_where_it_goes(name: str) -> None:
    with pytest.raises(ValueError, match="set by compose"):
        compose(
            to="r@example.com", sender=SENDER, subject="s", text="t", html="h", headers={name: "x"}
        )


def test_a_replaced_header_moves_to_the_end_as_before() -> None:
    given: dict[str, Any] = {
        "to": "r@example.com",
        "sender": SENDER,
        "subject": "s",
        "text": "t",
        "html": "h",
        "msg_id_header": "m",
        "headers": {"Auto-Submitted": "auto-replied", "Subject": "新 subject"},
    }
    now = parse(compose(**given).data)
    then = parse(wire_before(compose_before(**given))[2])
    assert now.keys() == then.keys()
    assert now.keys()[-4:-2] == ["Auto-Submitted", "Subject"]
    assert (now["Subject"], now["Auto-Submitted"]) == ("新 subject", "auto-replied")


def test_the_boundary_is_in_no_part() -> None:
    message = compose(to="r@example.com", sender=SENDER, subject="s", text="t", html="h")
    [boundary] = re.findall(rb'boundary="([^"]+)"', message.data)
    assert message.data.count(b"--" + boundary) == 3
    assert message["Subject"] == "s" and message["subject"] == "s" and message["Cc"] is None
