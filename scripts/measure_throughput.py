"""A quick capacity figure for docs/scaling.md: one `regwatch run` process (all three services)
on a real broker, S subscribers with W watch items each, N notices posted at once; how fast
the ingestor stores them, the matcher matches them and the notifier delivers the alerts,
read from the process's own /metrics.

    .venv/bin/python scripts/measure_throughput.py --bootstrap 127.0.0.1:9092 \\
        [--subscribers 1000] [--watches 3] [--notices 100] [--database-url URL]

Emails go to the embedded mail sink (files under a temporary folder): the figure is
regwatch's own cost, not an SMTP server's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from services.runtime import Runtime
from shared.settings import Settings

POOL = [f"测试应用{i:04d}" for i in range(500)]


def notice(i: int, names: list[str]) -> dict[str, Any]:
    return {
        "schema": "regwatch.notice/v1",
        "notice_id": f"measure-{uuid.uuid4().hex[:12]}-{i}",
        "regulator": {"code": "MIIT", "name": "工业和信息化部"},
        "kind": "rectification",
        "title": f"关于侵害用户权益行为的APP通报（测量第{i}批）",
        "published_on": "2026-11-20",
        "entities": [{"kind": "app", "name": n, "developer": f"{n}科技有限公司"} for n in names],
    }


async def counter(client: httpx.AsyncClient, name: str) -> float:
    text = (await client.get("/metrics")).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    )


async def wait_for(client: httpx.AsyncClient, name: str, target: float, limit: float) -> float:
    start = time.monotonic()
    while await counter(client, name) < target:
        if time.monotonic() - start > limit:
            raise TimeoutError(f"{name} did not reach {target} within {limit}s")
        await asyncio.sleep(0.05)
    return time.monotonic()


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(7)
    data_dir = Path(tempfile.mkdtemp(prefix="regwatch-measure-"))
    settings = Settings(
        kafka_bootstrap=args.bootstrap,
        topic_namespace=f"m{uuid.uuid4().hex[:8]}",
        data_dir=data_dir,
        database_url=args.database_url,
        http_port=0,
        dispatch_interval=0.2,
        lag_interval=5,
        log_level="WARNING",
    )
    runtime = Runtime(settings)
    await runtime.start()
    try:
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(
            base_url=runtime.http_url, timeout=60, limits=limits
        ) as client:
            gate = asyncio.Semaphore(16)

            async def subscriber(i: int) -> None:
                async with gate:
                    made = await client.post(
                        "/v1/subscribers", json={"name": f"s{i}", "email": f"s{i}@example.com"}
                    )
                    key = made.json()["api_key"]
                    for name in rng.sample(POOL, args.watches):
                        answer = await client.post(
                            "/v1/watches",
                            json={"kind": "app", "name": name},
                            headers={"Authorization": f"Bearer {key}"},
                        )
                        answer.raise_for_status()

            t_setup = time.monotonic()
            await asyncio.gather(*(subscriber(i) for i in range(args.subscribers)))
            setup_s = time.monotonic() - t_setup
            await asyncio.sleep(2)  # the live index catches up with the watchlist events

            notices = [notice(i, rng.sample(POOL, args.entities)) for i in range(args.notices)]
            matched_before = await counter(client, "regwatch_matcher_notices_total")
            delivered_before = await counter(client, "regwatch_deliveries_total")
            events_before = await counter(client, "regwatch_match_events_total")
            t0 = time.monotonic()

            async def post(body: dict[str, Any]) -> None:
                async with gate:
                    answer = await client.post(
                        "/v1/notices",
                        content=json.dumps(body, ensure_ascii=False).encode(),
                        headers={"content-type": "application/json"},
                    )
                    answer.raise_for_status()

            await asyncio.gather(*(post(n) for n in notices))
            t_stored = time.monotonic()
            t_matched = await wait_for(
                client, "regwatch_matcher_notices_total", matched_before + args.notices, 600
            )
            events = await counter(client, "regwatch_match_events_total") - events_before
            t_delivered = await wait_for(
                client, "regwatch_deliveries_total", delivered_before + events, 1200
            )
    finally:
        await runtime.stop()
    return {
        "subscribers": args.subscribers,
        "watch_items": args.subscribers * args.watches,
        "notices": args.notices,
        "entities_per_notice": args.entities,
        "match_events": int(events),
        "database": "postgresql" if args.database_url else "sqlite",
        "setup_s": round(setup_s, 1),
        "ingest_notices_per_s": round(args.notices / (t_stored - t0), 1),
        "match_notices_per_s": round(args.notices / (t_matched - t0), 1),
        "deliveries_per_s": round(events / (t_delivered - t0), 1),
        "all_delivered_s": round(t_delivered - t0, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True, help="Apache Kafka bootstrap servers")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--watches", type=int, default=3, help="watch items per subscriber")
    parser.add_argument("--notices", type=int, default=100)
    parser.add_argument("--entities", type=int, default=10, help="apps named per notice")
    parser.add_argument("--database-url", default=None)
    print(json.dumps(asyncio.run(measure(parser.parse_args())), ensure_ascii=False))


if __name__ == "__main__":
    main()
