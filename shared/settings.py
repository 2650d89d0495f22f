"""The one Settings class: environment variables with the ``REGWATCH_`` prefix."""

from __future__ import annotations

import os
from datetime import time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.auth_limit import Network, parse_networks
from shared.durations import parse_duration, parse_durations
from shared.kafka_client_id import check_client_id
from shared.kafka_client_id import client_id as make_client_id
from shared.poll_schedule import PollSchedule, format_schedule, parse_schedule
from shared.secretbox import SecretKeyError, check_keys, check_pepper, split_keys
from shared.topics import Topics


def default_extract_workers() -> int:
    """Worker processes reading notices: two, or one on a single core."""
    return min(2, os.cpu_count() or 1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGWATCH_", extra="ignore")

    kafka_bootstrap: str | None = Field(
        default=None, description="bootstrap servers; unset = start the embedded Tansu broker"
    )
    kafka_idempotence: bool = Field(
        default=True,
        description="idempotent producer (needs Apache Kafka; off for the embedded Tansu broker)",
    )
    kafka_partitions: int = Field(default=3, ge=1, description="partitions of created topics")
    kafka_retention: str = Field(
        default="30d", description="retention of created topics (30d, 12h...; -1 = forever)"
    )
    kafka_replication: int = Field(
        default=1, ge=1, description="replication factor of created topics"
    )
    kafka_client_id: str | None = Field(
        default=None,
        description="names this instance in Kafka client ids: <it>-<service>-<pid>; unset ="
        " regwatch-<service>-<host>-<pid> ([a-zA-Z0-9._-] only)",
    )
    lag_interval: float = Field(
        default=15.0, gt=0, description="seconds between consumer lag checks for /metrics"
    )
    topic_namespace: str = Field(
        default="", description="prefix for topic names and group ids (shared clusters, tests)"
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; unset = SQLite under the data dir"
    )
    data_dir: Path = Field(default=Path("./var"), description="embedded state and the mail sink")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = Field(default=None, description="base URL shown in emails")
    admin_token: str | None = Field(
        default=None,
        description="bearer token for POST /v1/notices and POST /v1/subscribers; unset = open"
        " (then the HTTP host must be a loopback address)",
    )
    portal_session_hours: float = Field(
        default=12.0,
        gt=0,
        le=24 * 90,
        description="a portal session ends after this many hours without use",
    )
    auth_failures_per_minute: int = Field(
        default=10,
        ge=0,
        description="failed API key or operator token attempts per client address per minute;"
        " more get 429 (0 = no limit)",
    )
    trusted_proxies: str = Field(
        default="",
        description="reverse proxies (addresses or networks, comma-separated) whose"
        " X-Forwarded-For names the client; unset = the socket peer is the client",
    )
    max_notice_bytes: int = Field(default=5_000_000, gt=0, description="upload size limit")
    max_unzipped_bytes: int = Field(
        default=50_000_000,
        gt=0,
        description="what a .docx or .xlsx may expand to, all its parts together; beyond it 422",
    )
    extract_workers: int = Field(
        default_factory=default_extract_workers,
        ge=0,
        le=64,
        description="worker processes reading notices off the event loop (default 2, or 1 on"
        " one core); 0 = in a thread of the server, without time or memory limit",
    )
    extract_timeout: float = Field(
        default=30.0, gt=0, description="seconds one notice may take to read; beyond it 422"
    )
    extract_memory_bytes: int = Field(
        default=1 << 30,
        ge=64 << 20,
        description="memory a worker may use reading one notice; beyond it 422",
    )
    max_watches_per_subscriber: int = Field(
        default=10_000,
        ge=1,
        description="watch items one subscriber may have; an add or CSV import that would "
        "pass it is refused (422)",
    )
    smtp_host: str | None = Field(default=None, description="unset = embedded mail sink")
    smtp_port: int = Field(default=1025, ge=0, le=65535)
    smtp_from: str = "regwatch <alerts@regwatch.local>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_tls: Literal["none", "starttls", "tls"] = "none"
    webhook_allow_private: bool = Field(
        default=False, description="allow webhooks to loopback/private addresses"
    )
    webhook_allow_link_local: bool = Field(
        default=False,
        description="with webhook_allow_private: allow webhooks and chat targets to link-local"
        " addresses and cloud metadata endpoints too",
    )
    webhook_timeout: float = Field(default=10.0, gt=0)
    secret_keys: SecretStr | None = Field(
        default=None,
        description="Fernet keys encrypting stored secrets, comma-separated, newest first; unset"
        " = secret.key beside the SQLite database (required with PostgreSQL)",
    )
    api_key_pepper: SecretStr | None = Field(
        default=None,
        description="server key of the API key hashes (32+ characters); unset = api_key.pepper"
        " beside the SQLite database (required with PostgreSQL)",
    )
    secret_rotation_grace: str = Field(
        default="24h", description="how long the old webhook secret still signs after a rotation"
    )
    smtp_connections: int = Field(
        default=4, ge=1, le=64, description="SMTP connections kept open and reused"
    )
    retry_schedule: str = Field(
        default="5s,5m,30m,2h,5h,10h,10h", description="delays between delivery attempts"
    )
    default_reminders: str = Field(default="7d,3d,1d", description="reminder offsets")
    reminder_time: str = Field(
        default="09:00",
        description="HH:MM in the subscriber's time zone at which day reminders fire, for"
        " subscribers who set none",
    )
    dispatch_interval: float = Field(default=1.0, gt=0, description="seconds between sweeps")
    reminder_interval: float = Field(default=30.0, gt=0, description="seconds between sweeps")
    feed_interval: str = Field(
        default="15m", description="how often a feed source is polled unless it sets its own"
    )
    feed_schedule: str | None = Field(
        default=None,
        description="when a feed source is polled unless it sets its own, e.g. 'every 10m"
        " Mon-Fri 08:00-19:00 Asia/Shanghai, else every 2h'; unset: every feed_interval",
    )
    feeds_allow_private: bool = Field(
        default=False, description="allow feed sources on loopback/private addresses"
    )
    feeds_allow_link_local: bool = Field(
        default=False,
        description="with feeds_allow_private: allow feed sources on link-local addresses and"
        " cloud metadata endpoints too",
    )
    feed_timeout: float = Field(default=20.0, gt=0, description="seconds per feed request")
    feed_max_attachments: int = Field(
        default=10,
        ge=0,
        description="attachments and list images followed per feed item's page (0 = none)",
    )
    feed_attachment_bytes: int = Field(
        default=10_000_000, gt=0, description="size limit of one followed attachment or image"
    )
    retro_match: Literal["open", "all", "off"] = Field(
        default="open",
        description="which stored notices a newly added watch item is matched against",
    )
    retro_days: int = Field(
        default=30,
        ge=0,
        description="for retro_match=open: days a notice without deadline stays open",
    )
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"

    @field_validator("secret_rotation_grace")
    @classmethod
    def _grace(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("secret_keys", "api_key_pepper", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("secret_keys")
    @classmethod
    def _secret_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                check_keys(split_keys(value.get_secret_value()), where="")
            except SecretKeyError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("api_key_pepper")
    @classmethod
    def _pepper(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                check_pepper(value.get_secret_value(), where="")
            except SecretKeyError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("kafka_retention")
    @classmethod
    def _retention(cls, value: str) -> str:
        if value.strip() != "-1":
            parse_duration(value)
        return value.strip()

    @field_validator("kafka_client_id")
    @classmethod
    def _client_id(cls, value: str | None) -> str | None:
        return None if value is None else check_client_id(value)

    @property
    def kafka_retention_ms(self) -> str:
        """``retention.ms`` of created topics (``-1`` = keep forever)."""
        if self.kafka_retention == "-1":
            return "-1"
        return str(int(parse_duration(self.kafka_retention).total_seconds() * 1000))

    @field_validator("retry_schedule", "default_reminders")
    @classmethod
    def _durations(cls, value: str) -> str:
        parse_durations(value)
        return value

    @field_validator("reminder_time")
    @classmethod
    def _reminder_time(cls, value: str) -> str:
        hour, sep, minute = value.strip().partition(":")
        if not (sep and len(minute) == 2 and 1 <= len(hour) <= 2 and (hour + minute).isdigit()):
            raise ValueError(f"reminder time {value!r} is not HH:MM (e.g. 09:00)")
        if not (int(hour) <= 23 and int(minute) <= 59):
            raise ValueError(f"reminder time {value!r} is not between 00:00 and 23:59")
        return f"{int(hour):02d}:{minute}"

    @field_validator("feed_interval")
    @classmethod
    def _feed_interval(cls, value: str) -> str:
        if parse_duration(value) < timedelta(seconds=1):
            raise ValueError(f"feed interval {value!r} is shorter than 1s")
        return value

    @field_validator("feed_schedule")
    @classmethod
    def _feed_schedule(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return format_schedule(parse_schedule(value, "feed schedule"))

    @field_validator(
        "kafka_bootstrap",
        "kafka_client_id",
        "database_url",
        "smtp_host",
        "admin_token",
        "public_url",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        parse_networks(value)
        return value.strip()

    @cached_property
    def trusted_proxy_networks(self) -> list[Network]:
        return parse_networks(self.trusted_proxies)

    @cached_property
    def retry_delays(self) -> list[timedelta]:
        return parse_durations(self.retry_schedule)

    @cached_property
    def rotation_grace(self) -> timedelta:
        return parse_duration(self.secret_rotation_grace)

    @cached_property
    def reminder_offsets(self) -> list[timedelta]:
        return parse_durations(self.default_reminders)

    @cached_property
    def reminder_clock(self) -> time:
        """:attr:`reminder_time` as a time of day."""
        hour, minute = self.reminder_time.split(":")
        return time(int(hour), int(minute))

    @cached_property
    def feed_interval_delta(self) -> timedelta:
        return parse_duration(self.feed_interval)

    @cached_property
    def default_poll_schedule(self) -> PollSchedule:
        """:attr:`feed_schedule`, else every :attr:`feed_interval`."""
        if self.feed_schedule is None:
            return PollSchedule(self.feed_interval_delta)
        return parse_schedule(self.feed_schedule)

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_namespace)

    def group_id(self, service: str) -> str:
        base = f"regwatch-{service}"
        return f"{self.topic_namespace}.{base}" if self.topic_namespace else base

    def client_id(self, service: str | None) -> str:
        """The Kafka client id of this process's ``service`` (``shared.kafka_client_id``)."""
        return make_client_id(service, self.kafka_client_id)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'regwatch.db').resolve()}"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"
