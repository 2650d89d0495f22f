"""Server-side request forgery guard for webhook URLs (and, reworded, feed URLs).

Two layers:

* :func:`validate_webhook_url` - syntax only, for input validation at the edges (CLI, HTTP).
* :func:`check_url` - before a feed fetch, and when a subscriber sets a webhook URL: the host
  is resolved and, unless private targets are allowed, every address it resolves to must be
  globally routable. The webhook sender makes the same check when it connects.

Allowing private targets (``REGWATCH_WEBHOOK_ALLOW_PRIVATE``, ``REGWATCH_FEEDS_ALLOW_PRIVATE``)
opens loopback, private and shared addresses, never link-local ones (169.254.0.0/16,
fe80::/10) or cloud metadata endpoints (169.254.169.254, fd00:ec2::254, 100.100.100.200): a
URL given by a subscriber or a feed must not read the machine's cloud credentials. Those need
their own setting (``REGWATCH_WEBHOOK_ALLOW_LINK_LOCAL``, ``REGWATCH_FEEDS_ALLOW_LINK_LOCAL``).

The feed fetcher and the webhook sender check the address they actually connect to
(:mod:`shared.pinned_http` for httpx, :mod:`shared.pinned_aiohttp` for aiohttp, both through
:func:`resolve_checked`), so a DNS answer that changes between the check and the connection
(DNS rebinding) cannot reach an internal address either.

URLs are parsed with ``httpx.URL``, the parser the feed fetcher's client uses, so the checked
host is the host that gets connected to; the webhook sender parses with yarl, aiohttp's parser.
Both apply the same rules, written once here (:func:`url_text` before parsing,
:func:`check_url_parts` on what the parser read), and accept the same URLs
(``tests/shared/test_pinned_aiohttp.py``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket

import httpx

from shared.errors import InputError, TransientError

MAX_URL_LENGTH = 2048
SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
# Cloud instance metadata endpoints outside the link-local ranges (169.254.169.254, the one
# most clouds use, is link-local anyway): AWS over IPv6, Alibaba Cloud.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)
PRIVATE_SETTING = "REGWATCH_WEBHOOK_ALLOW_PRIVATE"
LINK_LOCAL_SETTING = "REGWATCH_WEBHOOK_ALLOW_LINK_LOCAL"


class SsrfRefused(InputError):
    """A webhook URL that points (or resolves) somewhere the notifier must not call."""


_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def url_text(url: str) -> str:
    """The rules of a webhook URL that need no parser: not empty, at most 2048 characters, no
    whitespace or control characters. Returns the URL stripped; raises InputError."""
    if not isinstance(url, str) or not url.strip():
        raise InputError("webhook URL is empty")
    text = url.strip()
    if len(text) > MAX_URL_LENGTH:
        raise InputError(f"webhook URL is too long ({len(text)} characters, at most 2048)")
    if _CONTROL.search(text):
        raise InputError("webhook URL must not contain spaces or control characters")
    return text


def check_url_parts(
    text: str, scheme: str, host: str | None, *, credentials: bool, port: int | None
) -> str:
    """The rules of a parsed webhook URL, whichever parser read ``text`` (httpx here, yarl in
    :mod:`shared.pinned_aiohttp`): an http or https scheme, a host, no user name or password,
    a valid port. Returns the host; raises InputError naming the problem."""
    if not scheme or (scheme not in SCHEMES and "://" not in text):
        # example.com/hook, or localhost:8080/hook (read as the scheme "localhost")
        raise InputError("webhook URL has no http or https scheme: add http:// or https://")
    if scheme not in SCHEMES:
        raise InputError(f"webhook URL scheme must be http or https, not {scheme!r}")
    if not host:
        raise InputError("webhook URL has no host")
    if credentials:
        raise InputError("webhook URL must not contain a user name or password")
    if port is not None and not 0 < port < 65536:
        raise InputError(f"webhook URL port {port} is not a valid port (1-65535)")
    return host


def invalid_url(exc: Exception) -> InputError:
    """The error for a URL its parser refused."""
    return InputError(f"webhook URL is not a valid URL: {exc}")


def _parse(url: str) -> httpx.URL:
    text = url_text(url)
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        raise invalid_url(exc) from exc
    check_url_parts(
        text,
        parsed.scheme,
        parsed.raw_host.decode("ascii", "replace"),
        credentials=bool(parsed.userinfo),
        port=parsed.port,
    )
    return parsed


def validate_webhook_url(url: str) -> str:
    """Syntax check for input validation: http(s) scheme, a host, no credentials, at most
    2048 characters, no whitespace. Returns the URL stripped of surrounding whitespace.
    Does not resolve the host (see :func:`check_url`). Raises InputError."""
    _parse(url)
    return url.strip()


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped (``::ffff:a.b.c.d``), 6to4, Teredo or NAT64 IPv6
    address carries, else None."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    embedded: ipaddress.IPv4Address | None = address.ipv4_mapped or address.sixtofour
    if embedded is None and address.teredo is not None:
        embedded = address.teredo[1]
    if embedded is None and (address in _NAT64 or address in _NAT64_LOCAL):
        embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return embedded


def refusal_reason(address: IPAddress) -> str | None:
    """Why ``address`` must not be called, or None when it is a global unicast address.

    IPv4-mapped (``::ffff:a.b.c.d``), 6to4, Teredo and NAT64 IPv6 addresses are judged by the
    IPv4 address they carry as well.
    """
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        reason = refusal_reason(embedded)
        if reason is not None:
            return f"{reason} (embedded in {address})"
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (isinstance(address, ipaddress.IPv4Address) and address in _CGNAT, "shared (CGNAT)"),
        (isinstance(address, ipaddress.IPv6Address) and address.is_site_local, "site-local"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not globally routable"),
    )
    for refused, reason in checks:
        if refused:
            return f"{address} is {_a(reason)} address"
    return None


def _a(kind: str) -> str:
    """``a private``, ``an unspecified``, ``not a globally routable``."""
    if kind.startswith("not "):
        return "not " + _a(kind.removeprefix("not "))
    return ("an " if kind[:1] in "aeiou" else "a ") + kind


def link_local_reason(address: IPAddress) -> str | None:
    """Why ``address`` is refused even when private targets are allowed: a link-local address
    or a cloud metadata endpoint (also embedded in an IPv6 address), else None."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        reason = link_local_reason(embedded)
        if reason is not None:
            return f"{reason} (embedded in {address})"
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    if address.is_link_local:
        return f"{address} is a link-local address"
    return None


def target_refusal(
    address: IPAddress, *, allow_private: bool, allow_link_local: bool = False
) -> str | None:
    """Why a request must not go to ``address`` under these settings (the message names the
    setting that would allow it), or None. Without ``allow_private`` only global addresses
    are called; with it every address but link-local ones and cloud metadata endpoints,
    which need ``allow_link_local`` as well."""
    link_local = link_local_reason(address)
    if link_local is not None and not (allow_private and allow_link_local):
        return (
            f"{link_local}; link-local and cloud metadata targets need "
            f"{LINK_LOCAL_SETTING}=true besides {PRIVATE_SETTING}=true"
        )
    if not allow_private:
        reason = refusal_reason(address)
        if reason is not None:
            return f"{reason}; private targets are disabled ({PRIVATE_SETTING}=true allows them)"
    return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """All IPv4 and IPv6 addresses ``host`` resolves to (an IP literal resolves to itself).

    Raises TransientError when resolution fails (DNS may recover), InputError when the name
    resolves to nothing usable.
    """
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise TransientError(f"cannot resolve webhook host {host!r}: {exc}") from exc
    addresses: list[IPAddress] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        text = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone id such as %eth0
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise InputError(f"webhook host {host!r} resolves to no IPv4 or IPv6 address")
    return addresses


async def resolve_checked(
    host: str, port: int, *, allow_private: bool = False, allow_link_local: bool = False
) -> list[IPAddress]:
    """Resolve ``host`` and refuse (SsrfRefused) if any of its addresses may not be called
    (:func:`target_refusal`)."""
    addresses = await resolve(host, port)
    for address in addresses:
        reason = target_refusal(
            address, allow_private=allow_private, allow_link_local=allow_link_local
        )
        if reason is not None:
            raise SsrfRefused(f"webhook host {host!r} refused: {reason}")
    return addresses


async def check_url(url: str, *, allow_private: bool, allow_link_local: bool = False) -> None:
    """Refuse a webhook URL before an attempt (InputError, SsrfRefused for targets).

    Checks the syntax as :func:`validate_webhook_url`; then, unless both ``allow_private``
    and ``allow_link_local``, resolves the host (IPv4 and IPv6) and checks every address:
    without ``allow_private`` each must be global (loopback, private, multicast, reserved,
    unspecified and shared 100.64.0.0/10 addresses are refused, also when written as
    IPv4-mapped IPv6); without ``allow_link_local`` none may be link-local or a cloud
    metadata endpoint (169.254.169.254, fd00:ec2::254, 100.100.100.200).
    Raises TransientError when the host cannot be resolved right now.
    """
    parsed = _parse(url)
    if allow_private and allow_link_local:
        return
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    await resolve_checked(
        host, port, allow_private=allow_private, allow_link_local=allow_link_local
    )
