"""Kafka client ids that tell regwatch's processes apart.

Several notifier or matcher processes in one consumer group (docs/scaling.md) must show as
different members in ``kafka-consumer-groups.sh --describe`` and ``regwatch status``, so every
client id ends with where it runs: ``regwatch-notifier-<host>-<pid>`` by default, or
``<REGWATCH_KAFKA_CLIENT_ID>-notifier-<pid>`` when that setting names the instance (the
hostname is then left out: the setting replaces it). The one-shot tools keep their fixed names
with the same host and pid suffix (``regwatch-ops-<host>-<pid>``).

Kafka takes client ids of ``[a-zA-Z0-9._-]`` (quotas and JMX names refuse others): a hostname
is sanitized to those characters, a setting that has others is refused.
"""

from __future__ import annotations

import os
import re
import socket

__all__ = ["check_client_id", "client_id", "process_client_id", "sanitize"]

DEFAULT_PREFIX = "regwatch"
MAX_HOST = 63
"""Characters kept of a hostname (one DNS label's worth)."""

_REFUSED = re.compile(r"[^a-zA-Z0-9._-]+")


def sanitize(text: str, *, limit: int = MAX_HOST) -> str:
    """``text`` with each run of characters Kafka refuses as one ``-``, without ``-`` or ``.``
    at either end, at most ``limit`` characters; ``unknown`` when nothing is left."""
    cleaned = _REFUSED.sub("-", text).strip("-.")[:limit].strip("-.")
    return cleaned or "unknown"


def check_client_id(value: str) -> str:
    """``value`` stripped, or ``ValueError`` naming the characters Kafka refuses."""
    value = value.strip()
    refused = "".join(sorted(set("".join(_REFUSED.findall(value)))))
    if refused:
        raise ValueError(
            f"Kafka client id {value!r} has characters Kafka refuses ({refused!r}): use letters,"
            " digits, '.', '_' and '-'"
        )
    return value


def client_id(
    service: str | None,
    prefix: str | None = None,
    *,
    host: str | None = None,
    pid: int | None = None,
) -> str:
    """The client id of this process's ``service`` (``None``: a process that names none):
    ``regwatch-<service>-<host>-<pid>``, or ``<prefix>-<service>-<pid>`` with a ``prefix``
    (``REGWATCH_KAFKA_CLIENT_ID``, already checked)."""
    pid = os.getpid() if pid is None else pid
    parts = [prefix or DEFAULT_PREFIX]
    if service:
        parts.append(sanitize(service))
    if not prefix:
        parts.append(sanitize(socket.gethostname() if host is None else host))
    parts.append(str(pid))
    return "-".join(parts)


def process_client_id(name: str) -> str:
    """A tool's fixed client id (``regwatch-ops``) with this process's host and pid."""
    return f"{name}-{sanitize(socket.gethostname())}-{os.getpid()}"
