"""Public event contracts carried on regwatch's Kafka topics (JSON, UTF-8).

Changing a field here changes a public contract: add fields, never rename or remove them
within a schema version.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

NOTICE_SCHEMA: Final = "regwatch.notice/v1"
MATCH_SCHEMA: Final = "regwatch.match/v1"
DELIVERY_SCHEMA: Final = "regwatch.delivery/v1"
DEADLINE_CHANGED: Final = "deadline-changed"
"""MatchEvent reason: the notice's deadline changed; it carries the matches already alerted,
for the notifier's reminders, and is never delivered as an alert."""

NoticeKind = Literal["rectification", "removal", "other"]
EntityKind = Literal["app", "sdk", "mini_program", "company"]
EntitySource = Literal["text", "table", "attachment", "image"]
DeadlineRule = Literal["absolute", "working_days", "calendar_days"]
WatchKind = Literal["app", "company"]
Channel = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,19}$",
        description="email, webhook, or a chat channel (dingtalk ...): the notifier's registry",
    ),
]
DeliveryStatus = Literal["delivered", "retrying", "failed"]


class _Model(BaseModel):
    # validators and serializers built on first use: a CLI command uses one or two of these
    model_config = ConfigDict(extra="ignore", frozen=False, populate_by_name=True, defer_build=True)


class Regulator(_Model):
    code: str = Field(
        min_length=2,
        description="CAC, MIIT, MPS, SAMR, CA-<PROVINCE>, CAC-<PROVINCE>, SAMR-<PROVINCE>, "
        "MPS-<PROVINCE>, or OTHER for an issuer regwatch does not know",
    )
    name: str
    recognised: bool = Field(
        default=True,
        description="false when the issuer is not one regwatch knows: name is kept as printed",
    )


class Deadline(_Model):
    due_on: date
    rule: DeadlineRule
    amount: int | None = Field(default=None, description="N of 'N working/calendar days'")
    source_text: str
    estimated: bool = Field(
        default=False, description="true when the holiday calendar does not cover the year"
    )
    due_hour: int | None = Field(
        default=None,
        ge=0,
        le=24,
        description="hour of due_on (Asia/Shanghai) the deadline falls at, e.g. 12 for '12点前'",
    )


class Entity(_Model):
    kind: EntityKind = "app"
    name: str = Field(min_length=1)
    developer: str | None = None
    store: str | None = None
    version: str | None = None
    issues: list[str] = Field(default_factory=list)
    source: EntitySource | None = Field(
        default=None,
        description="where the entity was read: running text, a table in the page, an "
        "attached file (.xlsx, .pdf, .docx) or an image (OCR)",
    )


class NoticeRef(_Model):
    """An earlier notice that this one refers back to ("2021年1月22日，我部向社会通报了157家…")."""

    published_on: date
    count: int | None = Field(default=None, description="apps or companies it named")
    regulator_code: str | None = None
    title: str | None = None
    notice_id: str | None = Field(
        default=None, description="the stored notice it refers to, once the ingestor found it"
    )


class NoticeEvent(_Model):
    schema_: Literal["regwatch.notice/v1"] = Field(default=NOTICE_SCHEMA, alias="schema")
    notice_id: str = Field(min_length=1)
    regulator: Regulator
    kind: NoticeKind = "other"
    title: str
    published_on: date
    batch: str | None = None
    deadline: Deadline | None = None
    entities: list[Entity] = Field(default_factory=list)
    source_url: str | None = None
    language: str = "zh"
    follows_up: NoticeRef | None = Field(
        default=None, description="the earlier notice a removal or re-check follows up"
    )
    list_incomplete: bool = Field(
        default=False,
        description="true when the notice names more apps than its text lists (image-only "
        "list, attachment not given, a news article naming a few)",
    )
    list_incomplete_reason: str | None = None
    declared_count: int | None = Field(
        default=None, description="how many apps the notice says it names ('等84款App')"
    )
    published_on_estimated: bool = Field(
        default=False,
        description="true when the notice gives only a month ('2023年5月'): published_on is "
        "an estimate",
    )
    notes: list[str] = Field(
        default_factory=list,
        description="what the reader noticed and decided, in words: two dates that disagree, "
        "an issuer it does not know, a list it could read only in part",
    )

    def dump(self) -> dict[str, object]:
        """JSON-ready dict using the public field names (``schema``, not ``schema_``)."""
        return self.model_dump(mode="json", by_alias=True)


class NoticeSummary(_Model):
    """What an alert shows of a notice (the webhook's ``data.notice``)."""

    notice_id: str
    regulator: Regulator
    kind: NoticeKind = "other"
    title: str
    published_on: date
    batch: str | None = None
    deadline: Deadline | None = None
    source_url: str | None = None
    list_incomplete: bool = Field(
        default=False, description="the notice names more apps than regwatch could read"
    )
    list_incomplete_reason: str | None = None
    declared_count: int | None = Field(
        default=None, description="how many apps the notice says it names"
    )
    entities_read: int | None = Field(
        default=None, description="how many apps, SDKs and companies regwatch read from it"
    )
    entities_read_from: dict[str, int] = Field(
        default_factory=dict,
        description="of those, how many from each source (text, table, attachment, image)",
    )

    @classmethod
    def of(cls, notice: NoticeEvent) -> NoticeSummary:
        fields = set(cls.model_fields) - {"entities_read", "entities_read_from"}
        summary = cls.model_validate(notice.model_dump(include=fields))
        summary.entities_read = len(notice.entities)
        for entity in notice.entities:
            source = entity.source or "text"
            summary.entities_read_from[source] = summary.entities_read_from.get(source, 0) + 1
        return summary


class WatchRef(_Model):
    kind: WatchKind
    name: str


class EntityRef(_Model):
    name: str
    developer: str | None = None


class Match(_Model):
    watch: WatchRef
    entity: EntityRef
    score: float = Field(ge=0.0, le=1.0)
    reason: str


class MatchEvent(_Model):
    """One per (subscriber, notice), listing all of that subscriber's matches in it."""

    schema_: Literal["regwatch.match/v1"] = Field(default=MATCH_SCHEMA, alias="schema")
    match_id: str = Field(description="stable id of (subscriber, notice)")
    subscriber_id: str
    notice: NoticeSummary
    matches: list[Match] = Field(min_length=1)
    matched_at: datetime
    reason: str = Field(
        default="match",
        max_length=40,
        description=(
            "which alert of this (subscriber, notice) this is: 'match' for the first, "
            "'match-2', 'match-3'... for later ones that carry only matches not alerted before "
            "(a watch added afterwards, a notice updated with more entities); the notifier's "
            "ledger reason. 'deadline-changed': the notice's deadline changed (the regulator's "
            "text replaced a press story's); it repeats the matches already alerted so that "
            "reminders move, and is not an alert"
        ),
    )

    def dump(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True)


class DeliveryEvent(_Model):
    """Outcome of one delivery (an alert or reminder on one channel)."""

    schema_: Literal["regwatch.delivery/v1"] = Field(default=DELIVERY_SCHEMA, alias="schema")
    delivery_id: str = Field(description="stable across retries; the webhook-id for webhooks")
    subscriber_id: str
    notice_id: str
    type: str = Field(description="notice.matched or deadline.reminder")
    channel: Channel
    status: DeliveryStatus
    attempts: int
    error: str | None = None
    at: datetime

    def dump(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True)


WATCHLIST_SCHEMA: Final = "regwatch.watchlist/v1"


class WatchItemRef(_Model):
    id: int
    kind: WatchKind
    name: str
    aliases: list[str] = Field(default_factory=list)


class WatchlistEvent(_Model):
    """A change to one subscriber's watchlist, in order per subscriber (key: subscriber_id).

    One item (``watch``), or a batch of items changed the same way at once (a CSV import):
    ``watches`` lists all of them and ``watch`` repeats the first, so that a consumer written
    before batches still reads a valid event (it sees the first item only). Read both forms
    with :meth:`items`."""

    schema_: Literal["regwatch.watchlist/v1"] = Field(default=WATCHLIST_SCHEMA, alias="schema")
    op: Literal["added", "removed", "updated"]
    subscriber_id: str
    watch: WatchItemRef
    watches: list[WatchItemRef] = Field(
        default_factory=list,
        description="a batch: every item of the change, in order (watch is the first of "
        "them); absent or empty when the event is about watch alone",
    )
    at: datetime

    @classmethod
    def batch(
        cls,
        op: Literal["added", "removed", "updated"],
        subscriber_id: str,
        watches: list[WatchItemRef],
        at: datetime,
    ) -> WatchlistEvent:
        """One event for many items (at least one); a single item makes the one-item form."""
        if not watches:
            raise ValueError("a watchlist batch needs at least one item")
        rest = watches if len(watches) > 1 else []
        return cls(op=op, subscriber_id=subscriber_id, watch=watches[0], watches=rest, at=at)

    def items(self) -> list[WatchItemRef]:
        """The items this change is about: ``watches`` for a batch, else ``[watch]``."""
        return list(self.watches) if self.watches else [self.watch]

    def dump(self) -> dict[str, object]:
        data = self.model_dump(mode="json", by_alias=True)
        if not self.watches:
            del data["watches"]  # the one-item form stays as it always was
        return data
