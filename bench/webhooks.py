"""Webhook delivery speed: regwatch's sender (signing, SSRF check, classification) against
plain aiohttp and httpx loops posting the same signed bodies to the same local receiver, in
the same run (32 at a time); rate and this process's CPU per delivery for each, best of 3
alternating rounds.

    python -m bench.webhooks [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
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


async def drive(count: int, one: Callable[[int], Awaitable[bool]]) -> tuple[float, float, int]:
    """Run ``one(i)`` for i in range(count) with CONCURRENCY workers; (seconds, CPU seconds
    of this process, failures)."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    failures = 0

    async def worker() -> None:
        nonlocal failures
        while not queue.empty():
            if not await one(queue.get_nowait()):
                failures += 1

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - started, time.process_time() - cpu, failures


async def measure(url: str, count: int, rounds: int = 3) -> dict[str, Any]:
    """Alternate the raw loops and regwatch's sender round by round (so none gains from going
    later); the best round of each."""
    body = webhook_body("notice.matched", DATA, datetime.now(UTC))
    secret = new_secret()
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    client = httpx.AsyncClient(limits=limits, timeout=10)
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=CONCURRENCY), timeout=aiohttp.ClientTimeout(10)
    )
    sender = WebhookSender(timeout=10, allow_private=True)

    async def raw_httpx(i: int) -> bool:
        answer = await client.post(
            f"{url}/raw", content=body, headers=sign_headers(secret, f"msg_raw{i}", body)
        )
        return answer.is_success

    async def raw_aiohttp(i: int) -> bool:
        headers = sign_headers(secret, f"msg_aio{i}", body)
        async with session.post(f"{url}/aio", data=body, headers=headers) as answer:
            await answer.read()
            return answer.ok

    async def regwatch(i: int) -> bool:
        result = await sender.send(f"{url}/regwatch", f"msg_rw{i}", body, secret)
        return result.ok

    loops = {"raw_httpx": raw_httpx, "raw_aiohttp": raw_aiohttp, "regwatch": regwatch}
    best: dict[str, tuple[float, float]] = {}
    failures = 0
    try:
        for fn in loops.values():  # warm-up: connections, receiver, caches
            await drive(200, fn)
        for _ in range(rounds):
            for name, fn in loops.items():
                seconds, cpu, failed = await drive(count, fn)
                failures += failed
                if name not in best or seconds < best[name][0]:
                    best[name] = (seconds, cpu)
    finally:
        await client.aclose()
        await session.close()
        await sender.aclose()
    rate = {name: count / seconds for name, (seconds, _cpu) in best.items()}
    cpu_ms = {name: cpu / count * 1000 for name, (_seconds, cpu) in best.items()}
    return {
        "bench": "webhooks",
        "deliveries": count,
        "rounds": rounds,
        "concurrency": CONCURRENCY,
        "body_bytes": len(body),
        "regwatch_per_s": round(rate["regwatch"], 1),
        "raw_aiohttp_per_s": round(rate["raw_aiohttp"], 1),
        "raw_httpx_per_s": round(rate["raw_httpx"], 1),
        "regwatch_cpu_ms": round(cpu_ms["regwatch"], 3),
        "raw_aiohttp_cpu_ms": round(cpu_ms["raw_aiohttp"], 3),
        "raw_httpx_cpu_ms": round(cpu_ms["raw_httpx"], 3),
        "ratio_vs_raw_aiohttp": round(rate["regwatch"] / rate["raw_aiohttp"], 3),
        "ratio_vs_raw_httpx": round(rate["regwatch"] / rate["raw_httpx"], 3),
        "goal": ">= 0.8x the faster raw loop (aiohttp)",
        "goal_met": rate["regwatch"] / max(rate.values()) >= 0.8,
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
