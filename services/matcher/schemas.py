"""Request and response bodies of the subscriber API (they make the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events import EntityRef, NoticeSummary, WatchKind, WatchRef


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubscriberIn(_In):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    webhook_url: str | None = Field(default=None, max_length=2048)
    reminders: str | None = Field(
        default=None, max_length=200, description="offsets before deadlines such as 7d,3d,1d"
    )
    timezone: str | None = Field(
        default=None, max_length=64, description="IANA time zone name; default Asia/Shanghai"
    )


class Credentials(BaseModel):
    id: str
    api_key: str = Field(description="shown once; stored only as a hash")
    webhook_secret: str | None = Field(description="Standard Webhooks secret, shown once")


class SubscriberOut(BaseModel):
    id: str
    name: str
    email: str | None
    webhook_url: str | None
    reminders: str = Field(description="offsets before deadlines, e.g. 7d,3d,1d")
    timezone: str
    created_at: datetime


class SubscriberPatch(_In):
    """Fields to change; a field left out stays as it is; ``null`` clears a channel."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    webhook_url: str | None = Field(default=None, max_length=2048)
    reminders: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)


class SubscriberUpdated(SubscriberOut):
    webhook_secret: str | None = Field(
        default=None,
        description="the new Standard Webhooks secret when this update added the first webhook "
        "(shown once), else null",
    )


class ApiKeyOut(BaseModel):
    id: str
    api_key: str = Field(description="the new key; the previous one no longer works")


class WatchIn(_In):
    kind: WatchKind
    name: str = Field(min_length=1, max_length=300)
    aliases: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="your own other names for it (matched as the same app or company)",
    )


class WatchPatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    aliases: list[str] | None = Field(default=None, max_length=20)


class WatchOut(BaseModel):
    id: int
    kind: WatchKind
    name: str
    aliases: list[str]
    created_at: datetime


class ImportProblem(BaseModel):
    line: int = Field(description="line number in the CSV file (1 = first line)")
    field: str = Field(description="kind, name, aliases or row")
    message: str


class ImportReport(BaseModel):
    rows: int = Field(description="data rows read (a header line is not counted)")
    added: int
    existing: int = Field(description="rows naming a watch item you already have")
    failed: int
    errors: list[ImportProblem]


class AlertMatchOut(BaseModel):
    watch: WatchRef
    entity: EntityRef
    score: float
    reason: str = Field(description="why it matched, in words")
    alert_reason: str = Field(description="the alert that carried it: match, match-2, ...")
    cause: Literal["notice", "watch"] = Field(
        description="notice: matched when the notice arrived; watch: a watch item added later "
        "matched the stored notice (retroactive)"
    )
    alerted_at: datetime
    feedback: Literal["wrong", "right"] | None = None


class AlertOut(BaseModel):
    match_id: str = Field(description="stable id of (subscriber, notice)")
    notice: NoticeSummary
    matches: list[AlertMatchOut]
    first_alerted_at: datetime
    last_alerted_at: datetime


class FeedbackIn(_In):
    watch: WatchRef
    entity: EntityRef
    verdict: Literal["wrong", "right"] = Field(
        description="wrong: never alert this watch on this entity again; right: a good match "
        "(lifts an earlier wrong)"
    )


class FeedbackOut(BaseModel):
    id: int
    match_id: str
    watch: WatchRef
    entity: EntityRef
    verdict: Literal["wrong", "right"]
    created_at: datetime
    updated_at: datetime
