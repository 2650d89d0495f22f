"""What an unset or plain-HTTP REGWATCH_PUBLIC_URL breaks (shared/public_url.py)."""

from __future__ import annotations

import json
import logging

import pytest

from shared.logging import JsonFormatter
from shared.public_url import is_https, public_url_problem, warn_public_url
from shared.settings import Settings


@pytest.mark.parametrize(
    ("url", "https"),
    [
        ("https://regwatch.example.com", True),
        ("HTTPS://Regwatch.Example.com/base/", True),
        ("  https://regwatch.example.com  ", True),
        ("http://regwatch.example.com", False),
        ("https://", False),
        ("regwatch.example.com", False),
        ("", False),
        (None, False),
    ],
)
def test_is_https(url: str | None, https: bool) -> None:
    assert is_https(url) is https


def test_unset_names_localhost_links_and_one_click() -> None:
    problem = public_url_problem(Settings(public_url=None, http_host="127.0.0.1", http_port=8080))
    assert problem is not None
    assert "REGWATCH_PUBLIC_URL is not set" in problem
    assert "127.0.0.1:8080" in problem and "only this machine" in problem
    assert "one-click unsubscribe" in problem


def test_plain_http_names_one_click() -> None:
    problem = public_url_problem(Settings(public_url="http://alerts.example.com"))
    assert problem is not None
    assert "REGWATCH_PUBLIC_URL=http://alerts.example.com is not an https URL" in problem
    assert "one-click unsubscribe" in problem


def test_https_is_fine() -> None:
    assert public_url_problem(Settings(public_url="https://alerts.example.com/")) is None


def test_the_warning_is_one_structured_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="regwatch.public_url"):
        warn_public_url(Settings(public_url=None, http_host="127.0.0.1", http_port=8080))
        warn_public_url(Settings(public_url="https://alerts.example.com"))
    (record,) = caplog.records
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "warning" and line["logger"] == "regwatch.public_url"
    assert line["public_url"] is None and line["one_click_unsubscribe"] is False
    assert line["links_to"] == "http://127.0.0.1:8080"
    assert "\n" not in JsonFormatter().format(record)
