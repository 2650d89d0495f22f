"""The outbox relay's bookkeeping (the real-broker path is in test_live_updates.py): rows go
out in id order to the right topic and key, are marked once acknowledged, and a refused send
keeps the rows from it on for the next round."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest
from faststream.kafka import KafkaBroker

from services.matcher.alerts import record_alerts
from services.matcher.relay import OutboxRelay
from services.matcher.store import pending_outbox, put_watch
from shared.db import Database
from shared.errors import TransientError
from shared.events import EntityRef, Match, NoticeEvent, NoticeSummary, WatchRef
from shared.topics import Topics

MakeSubscriber = Callable[..., Awaitable[str]]


class FakeBroker:
    """Records what would be published; ``fail_at`` makes that send's acknowledgement fail."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.sent: list[tuple[str, bytes, dict[str, str], dict[str, Any]]] = []
        self.fail_at = fail_at

    async def publish(self, body: dict[str, Any], **kwargs: Any) -> asyncio.Future[None]:
        assert kwargs["no_confirm"] is True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.fail_at is not None and len(self.sent) == self.fail_at:
            future.set_exception(ConnectionError("broker went away"))
        else:
            future.set_result(None)
        self.sent.append((kwargs["topic"], kwargs["key"], kwargs["headers"], body))
        return future


async def test_rows_go_out_in_order_and_once(
    db: Database, make_subscriber: MakeSubscriber, make_notice: Callable[..., NoticeEvent]
) -> None:
    sub = await make_subscriber(db)
    async with db.session() as session:
        await put_watch(session, sub, "app", "抖音")
    match = Match(
        watch=WatchRef(kind="app", name="抖音"), entity=EntityRef(name="抖音"), score=1, reason="="
    )
    summary = NoticeSummary.of(make_notice("n1", ("抖音", None)))
    await record_alerts(db, summary, {sub: [match]}, cause="notice")
    async with db.session() as session:
        await put_watch(session, sub, "app", "快手")

    topics = Topics("ns")
    broker = FakeBroker(fail_at=2)
    relay = OutboxRelay(db, cast(KafkaBroker, broker), topics)
    with pytest.raises(TransientError, match="refused part of the outbox"):
        await relay.publish_pending()
    async with db.session() as session:
        assert len(await pending_outbox(session)) == 1  # the refused one is still pending
    broker.fail_at = None
    assert await relay.publish_pending() == 1
    assert await relay.publish_pending() == 0

    topics_sent = [(topic, key.decode()) for topic, key, _, _ in broker.sent]
    assert topics_sent == [
        ("ns.regwatch.watchlist.v1", sub),
        ("ns.regwatch.matches.v1", sub),
        ("ns.regwatch.watchlist.v1", sub),  # refused
        ("ns.regwatch.watchlist.v1", sub),  # sent again
    ]
    assert broker.sent[1][2] == {
        "x-regwatch-notice-id": "n1",
        "x-regwatch-match-id": broker.sent[1][3]["match_id"],
    }
    assert [body["watch"]["name"] for _, _, _, body in broker.sent if "watch" in body] == [
        "抖音",
        "快手",
        "快手",
    ]


async def test_one_relay_at_a_time_on_postgresql(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite has one writer: its relays take no leader lock")
    relay = OutboxRelay(db, cast(KafkaBroker, FakeBroker()), Topics())
    async with db.session() as first, db.session() as second:
        assert await relay.leader(first)
        # the second relay waits for the next round
        assert not await relay.leader(second)
