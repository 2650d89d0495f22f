"""Apache Kafka stopped in the middle of a stream of notices and started again on the same log
dirs and port (what an upgrade or a crash-restart of the broker looks like to regwatch).

The test runs its own broker (``scripts/kafka``), not the session's, so stopping it disturbs no
other test. Half of the notices are posted while the broker runs, the other half while it is
down: the ingestor stores them and queues their events in its outbox, so those POSTs must
succeed too. After the restart every alert must arrive at the webhook receiver and by email
exactly once: distinct ``webhook-id``s and ``Message-ID``s, none accepted twice, nothing else.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from services.runtime import Runtime
from shared.embedded.local_kafka import (
    APACHE_KAFKA,
    LocalBroker,
    run_kafka_script,
    start_apache_kafka,
)
from tests.reliability.support import (
    APPS,
    arrived,
    assert_each_alert_once,
    notice,
    notices_of_webhooks,
    post_notice,
    subscribe,
    wait_until,
)
from tests.support.brokers import planned_broker_kind
from tests.support.receivers import SmtpReceiver, WebhookReceiver
from tests.support.settings import fast_settings

NOTICES = 20
DOWN_AFTER = NOTICES // 2
ARRIVAL_TIMEOUT = 90.0


def _skip_reason() -> str | None:
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        return f"needs Apache Kafka to restart: {' and '.join(missing)} not on PATH"
    kind, why = planned_broker_kind()
    if kind != APACHE_KAFKA:
        return f"needs Apache Kafka: the session broker is {kind} ({why})"
    return None


pytestmark = [
    pytest.mark.broker,
    pytest.mark.kafka_only("a restart on the same log dirs"),
    pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or ""),
]


class OwnKafka:
    """An Apache Kafka broker of this test: stop and start it again on its dir and port."""

    def __init__(self, base: Path) -> None:
        self.broker: LocalBroker = start_apache_kafka(base)
        self.dir = base / "apache-kafka"
        self.port = int(self.broker.bootstrap.rsplit(":", 1)[1])

    @property
    def bootstrap(self) -> str:
        return self.broker.bootstrap

    def running(self) -> bool:
        try:
            run_kafka_script("status", "--dir", str(self.dir), timeout=30)
        except RuntimeError:
            return False
        return True

    async def stop(self) -> None:
        await asyncio.to_thread(run_kafka_script, "stop", "--dir", str(self.dir), timeout=60)

    async def start(self) -> None:
        out = await asyncio.to_thread(
            run_kafka_script,
            "start",
            "--port",
            str(self.port),
            "--dir",
            str(self.dir),
            timeout=120,
        )
        assert out.splitlines()[-1].strip() == self.bootstrap, out

    def close(self) -> None:
        self.broker.close()


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[OwnKafka]:
    kafka = OwnKafka(tmp_path / "broker")
    try:
        yield kafka
    finally:
        kafka.close()


async def test_broker_restart_mid_stream_delivers_each_alert_once(
    own_kafka: OwnKafka, namespace: str, tmp_path: Path
) -> None:
    tag = namespace[-6:]
    bodies = [notice(n, tag) for n in range(NOTICES)]
    notice_ids = [str(body["notice_id"]) for body in bodies]
    async with WebhookReceiver() as hook, SmtpReceiver() as smtp:
        settings = fast_settings(
            own_kafka.bootstrap,
            "apache-kafka",
            namespace,
            tmp_path / "data",
            smtp_port=smtp.port,
            webhook_timeout=2,
        )
        rt = Runtime(settings)
        await rt.start()
        try:
            async with httpx.AsyncClient(base_url=rt.http_url, timeout=10) as client:
                subscribers = [
                    await subscribe(client, name, hook.url, app)
                    for name, app in zip(("Legal", "Risk"), APPS, strict=True)
                ]
                emails = {
                    s.id: f"{name.lower()}@example.com"
                    for s, name in zip(subscribers, ("Legal", "Risk"), strict=True)
                }
                alerts = len(subscribers) * NOTICES

                for body in bodies[:DOWN_AFTER]:
                    answer = await post_notice(client, body)
                    assert answer.status_code == 201, answer.text
                # the stream flows end to end; the rest of this half is still on its way
                await hook.wait_for(1, timeout=30)
                arrived_before_stop = len(hook.requests)

                started = time.monotonic()
                await own_kafka.stop()
                stopped_in = time.monotonic() - started
                assert not own_kafka.running()

                # the broker is down: the ingestor must still take notices
                for body in bodies[DOWN_AFTER:]:
                    answer = await post_notice(client, body)
                    assert answer.status_code == 201, (
                        f"POST while the broker is down: {answer.text}"
                    )
                    assert answer.json()["outcome"] == "new"
                await asyncio.sleep(1.0)  # what could leak past a dead broker would show now
                during = {n for _, n in notices_of_webhooks(hook)}
                assert not during & set(notice_ids[DOWN_AFTER:]), "delivered without a broker?"

                started = time.monotonic()
                await own_kafka.start()
                restarted_in = time.monotonic() - started
                took = await wait_until(
                    lambda: arrived(hook, smtp, alerts), ARRIVAL_TIMEOUT, f"{alerts} alerts"
                )
                await asyncio.sleep(1.5)  # anything sent twice would arrive by now
                print(  # the figures, with -s
                    f"{arrived_before_stop} webhooks before the stop; broker stopped in "
                    f"{stopped_in:.1f}s, restarted in {restarted_in:.1f}s; all {alerts} alerts "
                    f"{took:.1f}s after the restart"
                )
                assert (await client.get("/healthz")).status_code == 200
        finally:
            await rt.stop()

    assert_each_alert_once(hook, smtp, subscribers, emails, notice_ids)
    secrets = {s.id: s.secret for s in subscribers}
    for request in hook.requests:
        owner = request.json()["data"]["subscriber_id"]
        Webhook(secrets[owner]).verify(request.body, request.headers)
