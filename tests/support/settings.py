"""Settings for a test's runtime: the session broker in the test's own namespace, a local SMTP
server, private webhook addresses allowed, and short retry and polling intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.settings import Settings


def fast_settings(
    kafka_bootstrap: str,
    broker_kind: str,
    namespace: str,
    data_dir: Path,
    *,
    smtp_port: int,
    **overrides: Any,
) -> Settings:
    values: dict[str, Any] = {
        "kafka_bootstrap": kafka_bootstrap,
        "kafka_idempotence": broker_kind != "tansu",
        "kafka_partitions": 2,
        "topic_namespace": namespace,
        "data_dir": data_dir,
        "http_port": 0,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "webhook_allow_private": True,
        "retry_schedule": "200ms,200ms,200ms",
        "dispatch_interval": 0.2,
        "reminder_interval": 1,
    }
    values.update(overrides)
    return Settings(**values)
