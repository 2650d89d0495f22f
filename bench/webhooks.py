"""Webhook delivery speed: regwatch's sender (signing, SSRF check, classification) against a
plain httpx loop posting the same bodies to the same local receiver, in the same run.

    python -m bench.webhooks [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.common import arrivals, emit, receiver_process, save
from services.notifier.payloads import webhook_body
from services.notifier.signing import headers as sign_headers
from services.notifier.signing import new_secret
from services.notifier.webhook import WebhookSender

CONCURRENCY = 32
DATA = {
    "notice": {
        "notice_id": "miit-20210803-0123456789",
        "regulator": {"code": "MIIT", "name": "工业和信息化部"},
        "kind": "rectification",
        "title": "关于侵害用户权益行为的APP通报（2021年第9批，总第18批）",
        "published_on": "2021-08-03",
        "deadline": {"due_on": "2021-08-10", "rule": "absolute", "source_text": "8月10日前"},
        "source_url": "https://example.cn/notice",
    },
    "matches": [
        {
            "watch": {"kind": "app", "name": "Douyin"},
            "entity": {"name": "抖音", "developer": "北京微播视界科技有限公司"},
            "score": 0.95,
            "reason": "pinyin of 抖音 is douyin",
        }
    ],
}


async def drive(count: int, one: Callable[[int], Awaitable[bool]]) -> tuple[float, int]:
    """Run ``one(i)`` for i in range(count) with CONCURRENCY workers; (seconds, failures)."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    failures = 0

    async def worker() -> None:
        nonlocal failures
        while not queue.empty():
            if not await one(queue.get_nowait()):
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - started, failures


async def measure(url: str, count: int, rounds: int = 3) -> dict[str, Any]:
    """Alternate raw and regwatch rounds (so neither gains from going second); best round each."""
    body = webhook_body("notice.matched", DATA, datetime.now(UTC))
    secret = new_secret()
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    client = httpx.AsyncClient(limits=limits, timeout=10)
    sender = WebhookSender(timeout=10, allow_private=True)

    async def raw(i: int) -> bool:
        answer = await client.post(
            f"{url}/raw", content=body, headers=sign_headers(secret, f"msg_raw{i}", body)
        )
        return answer.is_success

    async def regwatch(i: int) -> bool:
        result = await sender.send(f"{url}/regwatch", f"msg_rw{i}", body, secret)
        return result.ok

    raw_times: list[float] = []
    rw_times: list[float] = []
    failures = 0
    try:
        await drive(200, raw)  # warm-up: connections, receiver, JIT-free but cache-warm
        await drive(200, regwatch)
        for _ in range(rounds):
            for fn, times in ((raw, raw_times), (regwatch, rw_times)):
                seconds, failed = await drive(count, fn)
                times.append(seconds)
                failures += failed
    finally:
        await client.aclose()
        await sender.aclose()
    raw_rate, rw_rate = count / min(raw_times), count / min(rw_times)
    return {
        "bench": "webhooks",
        "deliveries": count,
        "rounds": rounds,
        "concurrency": CONCURRENCY,
        "body_bytes": len(body),
        "regwatch_per_s": round(rw_rate, 1),
        "raw_httpx_per_s": round(raw_rate, 1),
        "ratio_vs_raw_httpx": round(rw_rate / raw_rate, 3),
        "goal": ">= 0.8x raw httpx",
        "goal_met": rw_rate / raw_rate >= 0.8,
        "failures": failures,
    }


def run(quick: bool) -> list[dict[str, Any]]:
    count = 2000 if quick else 10000
    with receiver_process() as url:
        result = asyncio.run(measure(url, count))
        got = arrivals(url)
    result["received"] = len(got)  # warm-up and all rounds
    emit(result)
    save("webhooks", [result])
    return [result]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    run(parser.parse_args().quick)


if __name__ == "__main__":
    main()
