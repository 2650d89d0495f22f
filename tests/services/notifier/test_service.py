"""NotifierService.publish_outcome: delivery outcomes handed to Kafka's producer without
waiting for each acknowledgement, a failed one logged with its alert id."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest

from services.notifier.service import NotifierService
from shared.events import DeliveryEvent
from shared.settings import Settings


class Producer:
    """A broker whose ``publish`` hands back the acknowledgement still to come."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.acks: list[asyncio.Future[object]] = []

    async def publish(self, message: object, **kwargs: Any) -> asyncio.Future[object]:
        self.calls.append({"message": message, **kwargs})
        ack: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self.acks.append(ack)
        return ack


def event(ident: str) -> DeliveryEvent:
    return DeliveryEvent(
        delivery_id=ident,
        subscriber_id="sub_1",
        notice_id="n-1",
        type="notice.matched",
        channel="webhook",
        status="delivered",
        attempts=1,
        at=datetime(2026, 12, 3, tzinfo=UTC),
    )


async def test_outcomes_are_published_without_waiting_and_a_refused_one_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = Producer()
    service = cast(NotifierService, SimpleNamespace(broker=broker, settings=Settings()))
    # returns with the acknowledgement still pending: the delivery's task does not wait for it
    await NotifierService.publish_outcome(service, event("msg_ok"))
    await NotifierService.publish_outcome(service, event("msg_refused"))
    assert [call["no_confirm"] for call in broker.calls] == [True, True]
    assert broker.calls[1]["headers"]["x-regwatch-alert-id"] == "msg_refused"
    assert broker.calls[1]["key"] == b"sub_1"
    assert broker.calls[1]["message"] == event("msg_refused").dump()
    with caplog.at_level(logging.ERROR, logger="regwatch.notifier.dispatcher"):
        broker.acks[0].set_result(object())
        broker.acks[1].set_exception(ConnectionError("broker gone"))
        await asyncio.sleep(0)  # the acknowledgements' callbacks
    failed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [getattr(r, "alert_id", None) for r in failed] == ["msg_refused"]
    assert "could not publish the delivery outcome" in failed[0].getMessage()
    assert failed[0].exc_info is not None and "broker gone" in str(failed[0].exc_info[1])
