"""bench.email_compose compares like with like: both paths send each sample email to the same
envelope, with the same headers and parts once parsed."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from bench.email_compose import measure_compose, new_path, old_path, sample_emails


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_both_paths_send_the_same_emails() -> None:
    samples = sample_emails()
    assert len({sample["subject"] for sample in samples}) == 4
    for sample in samples:
        sender, recipients, data = new_path(sample)
        old_sender, old_recipients, old_data = old_path(sample)
        assert (
            (sender, recipients)
            == (old_sender, old_recipients)
            == (
                "alerts@regwatch.local",
                [sample["to"]],
            )
        )
        now, then = parse(data), parse(old_data)
        for name in ("Subject", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"):
            assert " ".join(str(now[name]).split()) == " ".join(str(then[name]).split())
        for kind in ("plain", "html"):
            new_part, old_part = now.get_body((kind,)), then.get_body((kind,))
            assert isinstance(new_part, EmailMessage) and isinstance(old_part, EmailMessage)
            assert new_part.get_content() == old_part.get_content()
    result = measure_compose(samples, 4, 1)
    assert result["cpu_us_per_email"] > 0 and result["before_cpu_us_per_email"] > 0
    assert result["bytes_per_email"] > 1000
