"""The mail sink stores each received message as an .eml file a person can open."""

from __future__ import annotations

import email
import re
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import aiosmtplib

from shared.embedded.mailsink import MailSink

NAME = re.compile(r"^\d{8}T\d{6}Z-\d{6}\.eml$")


def _message(subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "regwatch <alerts@regwatch.local>"
    msg["To"] = "ana@example.org"
    msg["Subject"] = subject
    msg.set_content("Notice 2026-11 names Acme Ltd. 监管通报")
    return msg


async def test_received_mail_lands_in_the_folder(tmp_path: Path) -> None:
    mail_dir = tmp_path / "mail"
    async with MailSink(mail_dir) as sink:
        assert sink.host == "127.0.0.1" and sink.port > 0
        await aiosmtplib.send(
            _message("Acme named in a notice"),
            hostname=sink.host,
            port=sink.port,
            recipients=["ana@example.org", "audit@example.org"],
        )
        await aiosmtplib.send(_message("second"), hostname=sink.host, port=sink.port)
        files = sink.messages()

    assert not sink.running
    assert [p.parent for p in files] == [mail_dir, mail_dir]
    assert all(NAME.match(p.name) for p in files), files
    assert files == sorted(files)
    first = email.message_from_bytes(files[0].read_bytes(), policy=default)
    assert first["Subject"] == "Acme named in a notice"
    assert first["X-Envelope-To"] == "ana@example.org, audit@example.org"
    assert first["X-Envelope-From"] == "alerts@regwatch.local"
    body = first.get_body(preferencelist=("plain",))
    assert body is not None and "监管通报" in body.get_content()
    second = email.message_from_bytes(files[1].read_bytes(), policy=default)
    assert second["Subject"] == "second"
    assert not list(mail_dir.glob("*.tmp"))


async def test_await_start_and_stop(tmp_path: Path) -> None:
    sink = MailSink(tmp_path / "mail")
    await sink.start()
    try:
        await aiosmtplib.send(_message("awaited"), hostname=sink.host, port=sink.port)
    finally:
        await sink.stop()
    assert not sink.running
    [path] = sink.messages()
    assert b"Subject: awaited" in path.read_bytes()


def test_sync_start_stop_and_given_port(tmp_path: Path) -> None:
    from shared.embedded.ports import free_port

    port = free_port()
    sink = MailSink(tmp_path / "mail", port=port)
    sink.start_sync()
    try:
        assert sink.port == port
        import smtplib

        with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
            client.send_message(_message("sync"))
        assert len(sink.messages()) == 1
    finally:
        sink.stop_sync()
