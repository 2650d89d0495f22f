"""SSRF guard: URL syntax at the edges and resolved-address checks before each attempt."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

import pytest

from shared import ssrf
from shared.errors import InputError, TransientError


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/regwatch",
        "http://hooks.example.com:8080/a?b=c",
        "  https://example.com/x  ",
        "https://[2001:db8::1]/hook",
    ],
)
def test_validate_accepts(url: str) -> None:
    assert ssrf.validate_webhook_url(url) == url.strip()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("ftp://example.com/x", "scheme must be http or https"),
        ("file:///etc/passwd", "scheme must be http or https"),
        ("javascript:alert(1)", "scheme"),
        ("example.com/hook", "scheme"),
        ("http:///hook", "no host"),
        ("https://user:pass@example.com/", "user name or password"),
        ("https://token@example.com/", "user name or password"),
        ("https://example.com/" + "a" * 2048, "too long"),
        ("https://exa mple.com/", "spaces or control"),
        ("https://example.com/\r\nX: y", "spaces or control"),
        ("https://example.com:99999/", "not a valid port"),
    ],
)
def test_validate_refuses(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ssrf.validate_webhook_url(url)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1.2.3",
        "localhost",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "0.0.0.0",
        "224.0.0.251",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "198.18.0.1",
        "[::1]",
        "[::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:169.254.169.254]",
        "[::ffff:10.0.0.1]",
        "[fe80::1]",
        "[fc00::1]",
        "[fd12:3456::1]",
        "[ff02::1]",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::1]",
        "[2001:db8::1]",
    ],
)
async def test_check_url_refuses_non_global_addresses(host: str) -> None:
    with pytest.raises(ssrf.SsrfRefused, match="refused"):
        await ssrf.check_url(f"http://{host}:8080/hook", allow_private=False)


async def test_check_url_refuses_numeric_host_forms() -> None:
    # 2130706433 == 127.0.0.1; whatever the parser does, the resolved address is checked
    with pytest.raises(InputError):
        await ssrf.check_url("http://2130706433/", allow_private=False)


@pytest.mark.parametrize(
    "url", ["http://93.184.216.34/hook", "https://[2606:2800:220:1:248:1893:25c8:1946]/"]
)
async def test_check_url_accepts_global_literals(url: str) -> None:
    await ssrf.check_url(url, allow_private=False)


async def test_allow_private_opens_loopback_and_private_addresses() -> None:
    for host in ("127.0.0.1", "10.0.0.1", "192.168.1.1", "100.64.0.1", "[::1]", "[fd12::1]"):
        await ssrf.check_url(f"http://{host}:9/hook", allow_private=True)
    with pytest.raises(InputError, match="scheme"):
        await ssrf.check_url("gopher://127.0.0.1/", allow_private=True)


async def test_both_settings_skip_address_checks() -> None:
    await ssrf.check_url("http://no-such-host.invalid/", allow_private=True, allow_link_local=True)
    await ssrf.check_url("http://169.254.169.254/", allow_private=True, allow_link_local=True)


# Link-local addresses and cloud metadata endpoints: refused with or without
# REGWATCH_WEBHOOK_ALLOW_PRIVATE, allowed only with REGWATCH_WEBHOOK_ALLOW_LINK_LOCAL as well.
LINK_LOCAL_HOSTS = [
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack metadata
    "169.254.170.2",  # AWS ECS task metadata
    "169.254.0.1",
    "169.254.255.254",
    "[fe80::1]",
    "[febf:ffff::1]",
    "[fd00:ec2::254]",  # AWS metadata over IPv6
    "100.100.100.200",  # Alibaba Cloud metadata
    "[::ffff:169.254.169.254]",
    "[::ffff:100.100.100.200]",
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
    "[2002:a9fe:a9fe::1]",  # 6to4 of 169.254.169.254
]


@pytest.mark.parametrize("host", LINK_LOCAL_HOSTS)
@pytest.mark.parametrize("allow_private", [False, True])
async def test_link_local_and_metadata_need_their_own_setting(
    host: str, allow_private: bool
) -> None:
    url = f"http://{host}/latest/meta-data/"
    with pytest.raises(ssrf.SsrfRefused, match="REGWATCH_WEBHOOK_ALLOW_LINK_LOCAL=true"):
        await ssrf.check_url(url, allow_private=allow_private)
    with pytest.raises(ssrf.SsrfRefused, match=r"link-local|metadata"):
        await ssrf.check_url(url, allow_private=allow_private, allow_link_local=False)


@pytest.mark.parametrize("host", LINK_LOCAL_HOSTS)
async def test_link_local_setting_alone_opens_nothing(host: str) -> None:
    with pytest.raises(ssrf.SsrfRefused, match=r"link-local|metadata"):
        await ssrf.check_url(f"http://{host}/", allow_private=False, allow_link_local=True)


@pytest.mark.parametrize("host", LINK_LOCAL_HOSTS)
async def test_link_local_setting_with_allow_private_opens_them(host: str) -> None:
    await ssrf.check_url(f"http://{host}/", allow_private=True, allow_link_local=True)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
    ],
)
def test_link_local_reason_names_the_kind(text: str, kind: str) -> None:
    reason = ssrf.link_local_reason(ipaddress.ip_address(text))
    assert reason == f"{text} is a {kind} address"


@pytest.mark.parametrize(
    "text", ["127.0.0.1", "10.0.0.1", "100.64.0.1", "100.100.100.201", "fd00:ec2::253", "::1"]
)
def test_private_addresses_are_not_link_local(text: str) -> None:
    assert ssrf.link_local_reason(ipaddress.ip_address(text)) is None
    assert ssrf.target_refusal(ipaddress.ip_address(text), allow_private=True) is None
    refusal = ssrf.target_refusal(ipaddress.ip_address(text), allow_private=False)
    assert refusal is not None and "REGWATCH_WEBHOOK_ALLOW_PRIVATE=true allows" in refusal


def _infos(*addresses: str) -> list[tuple[Any, ...]]:
    infos: list[tuple[Any, ...]] = []
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if address.version == 4:
            infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (text, 443)))
        else:
            infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (text, 443, 0, 0)))
    return infos


@pytest.fixture
async def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names resolved by the running loop's getaddrinfo, for hosts under ``.test``."""
    table: dict[str, list[str]] = {}
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo

    async def getaddrinfo(host: str, port: Any, **kwargs: Any) -> Any:
        if host.endswith(".test"):
            if host not in table:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return _infos(*table[host])
        return await real(host, port, **kwargs)

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return table


async def test_every_resolved_address_must_be_global(fake_dns: dict[str, list[str]]) -> None:
    fake_dns["mixed.test"] = ["93.184.216.34", "10.1.2.3"]
    fake_dns["mapped.test"] = ["2606:2800:220:1::1", "::ffff:192.168.0.1"]
    fake_dns["zoned.test"] = ["fe80::1%eth0"]
    fake_dns["good.test"] = ["93.184.216.34", "2606:2800:220:1::1"]
    with pytest.raises(ssrf.SsrfRefused, match=r"10\.1\.2\.3 is a private address"):
        await ssrf.check_url("https://mixed.test/hook", allow_private=False)
    with pytest.raises(ssrf.SsrfRefused, match=r"192\.168\.0\.1"):
        await ssrf.check_url("https://mapped.test/hook", allow_private=False)
    with pytest.raises(ssrf.SsrfRefused, match="link-local"):
        await ssrf.check_url("https://zoned.test/hook", allow_private=False)
    await ssrf.check_url("https://good.test/hook", allow_private=False)


async def test_names_resolving_to_metadata_are_refused_with_allow_private(
    fake_dns: dict[str, list[str]],
) -> None:
    fake_dns["metadata.test"] = ["169.254.169.254"]
    fake_dns["imds6.test"] = ["fd00:ec2::254"]
    fake_dns["local.test"] = ["127.0.0.1", "10.0.0.5"]
    for host in ("metadata.test", "imds6.test"):
        with pytest.raises(ssrf.SsrfRefused, match="cloud metadata"):
            await ssrf.check_url(f"http://{host}/", allow_private=True)
        await ssrf.check_url(f"http://{host}/", allow_private=True, allow_link_local=True)
    await ssrf.check_url("http://local.test/", allow_private=True)


async def test_unresolvable_host_is_transient(fake_dns: dict[str, list[str]]) -> None:
    with pytest.raises(TransientError, match="cannot resolve"):
        await ssrf.check_url("https://missing.test/hook", allow_private=False)


def test_refusal_reason_messages() -> None:
    assert ssrf.refusal_reason(ipaddress.ip_address("8.8.8.8")) is None
    assert "loopback" in str(ssrf.refusal_reason(ipaddress.ip_address("127.0.0.1")))
    assert "CGNAT" in str(ssrf.refusal_reason(ipaddress.ip_address("100.64.0.1")))
    assert "link-local" in str(ssrf.refusal_reason(ipaddress.ip_address("169.254.169.254")))
    mapped = ssrf.refusal_reason(ipaddress.ip_address("::ffff:127.0.0.1"))
    assert mapped is not None and "embedded" in mapped


@pytest.mark.parametrize(
    "url", ["example.com/hook", "hooks.example.com", "localhost:8080/hook", "10.0.0.7:9000/x"]
)
def test_a_url_without_http_says_to_add_it(url: str) -> None:
    with pytest.raises(InputError) as refused:
        ssrf.validate_webhook_url(url)
    assert "add http:// or https://" in str(refused.value)
    assert "'none'" not in str(refused.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0.0.0.0", "0.0.0.0 is an unspecified address"),
        ("::", ":: is an unspecified address"),
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("224.0.0.1", "224.0.0.1 is a multicast address"),
        ("::ffff:0:0", "0.0.0.0 is an unspecified address (embedded in ::ffff:0:0)"),
    ],
)
def test_refusal_reasons_read_as_english(text: str, reason: str) -> None:
    assert ssrf.refusal_reason(ipaddress.ip_address(text)) == reason
