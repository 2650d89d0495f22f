"""What an unset or plain-HTTP ``REGWATCH_PUBLIC_URL`` breaks, said once at start.

Links regwatch sends (the unsubscribe link in every email, sign-in links, the calendar URL,
portal links in chat messages) are built on ``REGWATCH_PUBLIC_URL``; without it they point to
the address regwatch listens on, which is ``127.0.0.1`` by default and so reaches nobody
else. One-click unsubscribe (RFC 8058: ``List-Unsubscribe-Post``) is only offered for an
HTTPS link, as the RFC requires.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from shared.logging import get_logger
from shared.settings import Settings

log = get_logger("regwatch.public_url")


def is_https(url: str | None) -> bool:
    """True for an absolute ``https://`` URL with a host."""
    if not url:
        return False
    parts = urlsplit(url.strip())
    return parts.scheme.lower() == "https" and bool(parts.hostname)


def public_url_problem(settings: Settings) -> str | None:
    """One sentence naming what breaks with this ``REGWATCH_PUBLIC_URL``, or None when it is
    an HTTPS URL."""
    url = settings.public_url
    if is_https(url):
        return None
    if not url:
        return (
            "REGWATCH_PUBLIC_URL is not set: links in emails and chat messages (unsubscribe, "
            "sign-in, calendar, portal) point to the address regwatch listens on "
            f"({settings.http_host}:{settings.http_port}), which only this machine may reach, "
            "and emails carry no one-click unsubscribe (RFC 8058 needs an https link); set it "
            "to the https address subscribers reach regwatch at"
        )
    return (
        f"REGWATCH_PUBLIC_URL={url} is not an https URL: emails carry no one-click unsubscribe "
        "(RFC 8058 needs an https link) and links in emails and chat messages are sent over "
        "plain http; set it to the https address subscribers reach regwatch at"
    )


def warn_public_url(settings: Settings) -> None:
    """Log :func:`public_url_problem` as one warning, if there is one."""
    problem = public_url_problem(settings)
    if problem is not None:
        log.warning(
            problem,
            extra={
                "public_url": settings.public_url,
                "one_click_unsubscribe": False,
                "links_to": settings.public_url
                or f"http://{settings.http_host}:{settings.http_port}",
            },
        )
