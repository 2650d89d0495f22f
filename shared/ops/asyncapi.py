"""The AsyncAPI document of regwatch's topics, from FastStream's own generator.

The composition root registers every service's handlers on one broker that is never connected
(``services.runtime.spec_broker``); :func:`document` adds what handlers alone do not show: the
topics services publish to with ``broker.publish`` (notices, deliveries, watchlist) and the
dead-letter topics, each with its event schema, gives publishers without a schema theirs and
subscribers without a description their consumer group (which names the service).
:func:`as_html` renders the page of ``/docs/asyncapi`` (``shared/ops/asyncapi_page.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI, Specification
from pydantic import BaseModel

from shared.events import DeliveryEvent, MatchEvent, NoticeEvent, WatchlistEvent
from shared.ops.asyncapi_page import render_page
from shared.topics import Topics

TITLE = "regwatch"
DESCRIPTION = (
    "Regulators' notices naming mobile apps, matched against subscribers' watchlists. "
    "Values are plain UTF-8 JSON; correlation ids travel in headers "
    "(x-regwatch-notice-id, x-regwatch-match-id, x-regwatch-alert-id)."
)


@dataclass(frozen=True)
class TopicContract:
    model: type[BaseModel] | None
    description: str


def contracts(topics: Topics) -> dict[str, TopicContract]:
    """Every topic regwatch uses, with its value schema and key."""
    main = {
        topics.notices: TopicContract(
            NoticeEvent, "One NoticeEvent per stored notice (key: notice_id), from the ingestor."
        ),
        topics.matches: TopicContract(
            MatchEvent,
            "One MatchEvent per (subscriber, notice) (key: subscriber_id), from the matcher.",
        ),
        topics.deliveries: TopicContract(
            DeliveryEvent,
            "Each delivery attempt's outcome (key: subscriber_id), from the notifier.",
        ),
        topics.watchlist: TopicContract(
            WatchlistEvent,
            "Watchlist changes in order per subscriber (key: subscriber_id), from the matcher.",
        ),
    }
    dead = {
        Topics.dlq(topic): TopicContract(
            None,
            f"Messages of {topic} a consumer could not process: original bytes and key, "
            "headers x-regwatch-error, x-regwatch-error-type, x-regwatch-original-topic, "
            "-partition, -offset, x-regwatch-consumer-group.",
        )
        for topic in topics.all()
        if not topic.endswith(".dlq") and Topics.dlq(topic) in topics.all()
    }
    return {**main, **dead}


def _publisher_topics(broker: KafkaBroker) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for publisher in broker.publishers:
        topic = getattr(publisher, "topic", None)
        if isinstance(topic, str):
            found.setdefault(topic, []).append(publisher)
    return found


def document(broker: KafkaBroker, topics: Topics, *, version: str = "0.1.0") -> Specification:
    """The AsyncAPI 3.0 specification of ``broker`` plus regwatch's topic contracts."""
    published = _publisher_topics(broker)
    for topic, contract in contracts(topics).items():
        existing = published.get(topic, [])
        for publisher in existing:
            config = getattr(getattr(publisher, "specification", None), "config", None)
            if config is not None and getattr(config, "schema_", None) is None:
                config.schema_ = contract.model
                config.description_ = config.description_ or contract.description
        if not existing:
            broker.publisher(
                topic, title=topic, description=contract.description, schema=contract.model
            )
    for subscriber in broker.subscribers:
        spec = getattr(subscriber, "specification", None)
        config = getattr(spec, "config", None)
        if config is not None and not getattr(spec, "description", None):
            group = getattr(subscriber, "group_id", None)
            config.description_ = (
                f"Read by consumer group {group}."
                if group
                else "Read without a consumer group: every process reads all partitions."
            )
    return AsyncAPI(
        broker,
        title=TITLE,
        version=version,
        description=DESCRIPTION,
        schema_version="3.0.0",
    ).to_specification()


def as_dict(spec: Specification) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(spec.to_json())
    return data


def without_servers(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` naming no server (for when no broker is in use: a server named would be a guess);
    channels without ``servers`` are on every server, as AsyncAPI 3 has it."""
    channels = {
        name: {key: value for key, value in channel.items() if key != "servers"}
        for name, channel in doc.get("channels", {}).items()
    }
    return {**{k: v for k, v in doc.items() if k != "servers"}, "channels": channels}


def as_html(spec: Specification) -> str:
    """The document as one self-contained page, rendered here (works offline: FastStream's
    page loads its viewer from a CDN)."""
    return render_page(as_dict(spec))


def topic_addresses(doc: dict[str, Any]) -> set[str]:
    """The Kafka topics a document names (channel addresses)."""
    return {
        str(channel.get("address"))
        for channel in (doc.get("channels") or {}).values()
        if channel.get("address")
    }
