"""The AsyncAPI document (FastStream's generator) names every regwatch topic and its schema."""

from __future__ import annotations

import json

from services.runtime import spec_document
from shared.ops.asyncapi import as_dict, as_html, topic_addresses, without_servers
from shared.settings import Settings


async def test_document_names_the_four_topics_and_their_dead_letter_topics() -> None:
    settings = Settings(kafka_bootstrap="kafka:9092")
    doc = as_dict(await spec_document(settings))
    assert doc["asyncapi"].startswith("3.")
    assert doc["info"]["title"] == "regwatch"
    addresses = topic_addresses(doc)
    for topic in (
        "regwatch.notices.v1",
        "regwatch.matches.v1",
        "regwatch.deliveries.v1",
        "regwatch.watchlist.v1",
        "regwatch.notices.v1.dlq",
        "regwatch.matches.v1.dlq",
    ):
        assert topic in addresses
    schemas = doc["components"]["schemas"]
    for model in ("NoticeEvent", "MatchEvent", "DeliveryEvent", "WatchlistEvent"):
        assert model in schemas
    assert doc["servers"]["development"]["host"] == "kafka:9092"
    actions = {op["action"] for op in doc["operations"].values()}
    assert actions == {"send", "receive"}


async def test_namespace_and_html_page() -> None:
    spec = await spec_document(Settings(topic_namespace="prod"))
    assert "prod.regwatch.notices.v1" in topic_addresses(as_dict(spec))
    page = as_html(spec)
    assert page.lstrip().lower().startswith("<!doctype html") or "<html" in page.lower()
    assert "prod.regwatch.notices.v1" in page


async def test_without_servers_leaves_no_reference_behind() -> None:
    doc = as_dict(await spec_document(Settings(kafka_bootstrap="kafka:9092")))
    bare = without_servers(doc)
    assert "servers" not in bare
    assert all("servers" not in channel for channel in bare["channels"].values())
    assert "#/servers/" not in json.dumps(bare)
    assert topic_addresses(bare) == topic_addresses(doc)
    assert bare["operations"] == doc["operations"]
