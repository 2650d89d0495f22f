"""``regwatch status``: the broker, the database, topics, consumer lag, dead letters, reminders."""

from __future__ import annotations

from typing import Any

from aiokafka import TopicPartition

from shared.db import Database
from shared.db.engine import describe_url
from shared.ops.kafka import BrokerRef, admin_client, offsets, partitions_of, plain_consumer
from shared.ops.lag import consumer_lag, group_members, list_groups
from shared.ops.reminders import reminder_backlog
from shared.settings import Settings
from shared.topics import DLQ_SUFFIX


async def topic_status(bootstrap: str, topics: list[str]) -> list[dict[str, Any]]:
    async with admin_client(bootstrap) as admin:
        partitions = await partitions_of(admin, topics)
    async with plain_consumer(bootstrap) as consumer:
        begin, end = await offsets(consumer, partitions)
    found: list[dict[str, Any]] = []
    for topic in topics:
        if topic not in partitions:
            found.append({"name": topic, "exists": False})
            continue
        parts = []
        for p in partitions[topic]:
            tp = TopicPartition(topic, p)
            parts.append({"partition": p, "begin_offset": begin[tp], "end_offset": end[tp]})
        found.append(
            {
                "name": topic,
                "exists": True,
                "partitions": parts,
                "messages": sum(x["end_offset"] - x["begin_offset"] for x in parts),
            }
        )
    return found


def _error(exc: Exception) -> str:
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first}"


async def database_part(settings: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    """(database description, reminder backlog); errors are reported, not raised."""
    url = settings.sqlalchemy_url
    info: dict[str, Any] = {"url": describe_url(url)}
    db = Database(url)
    backlog: dict[str, Any]
    try:
        await db.ping()
        info["reachable"] = True
        backlog = dict(await reminder_backlog(db))
    except Exception as exc:
        info.setdefault("reachable", False)
        backlog = {"error": _error(exc)}
        if "no such table" in backlog["error"] or "does not exist" in backlog["error"]:
            backlog["error"] += " (not migrated yet: `regwatch run` migrates it on start)"
        if not info["reachable"]:
            info["error"] = backlog["error"]
    finally:
        await db.dispose()
    return info, backlog


async def members_part(bootstrap: str, groups: list[str]) -> dict[str, dict[str, object]]:
    """Group -> its state and members (:func:`group_members`); a broker that cannot describe
    groups gives each group ``members_error`` instead."""
    try:
        return await group_members(bootstrap, groups)
    except Exception as exc:
        return {group: {"members_error": _error(exc)} for group in groups}


async def gather_status(
    settings: Settings, broker: BrokerRef, known: dict[str, list[str]]
) -> dict[str, Any]:
    """``known``: consumer group -> topics of regwatch's subscribers (``lag.subscriptions``)."""
    bootstrap = broker.bootstrap
    async with admin_client(bootstrap) as admin:
        cluster = await admin.describe_cluster()
    topics = settings.topics.all()
    topic_info = await topic_status(bootstrap, topics)
    others = await list_groups(bootstrap, settings.group_id(""))
    main = [t for t in topics if not t.endswith(DLQ_SUFFIX)]
    lags = await consumer_lag(bootstrap, known, others, main)
    members = await members_part(bootstrap, [g.group for g in lags])
    database, backlog = await database_part(settings)
    return {
        "kafka_bootstrap": bootstrap,
        "kafka_source": broker.source,
        "cluster": {
            "cluster_id": cluster.get("cluster_id"),
            "controller_id": cluster.get("controller_id"),
            "brokers": [
                {"node_id": b.get("node_id"), "host": b.get("host"), "port": b.get("port")}
                for b in cluster.get("brokers") or []
            ],
        },
        "database": database,
        "topics": topic_info,
        "consumer_groups": [{**g.as_dict(), **members.get(g.group, {})} for g in lags],
        "dead_letters": {
            t["name"]: t.get("messages", 0) for t in topic_info if t["name"].endswith(DLQ_SUFFIX)
        },
        "reminder_backlog": backlog,
    }
