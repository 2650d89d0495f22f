"""How far the consumer groups reading a topic have got: their committed offsets.

A relay publishing to the embedded broker (its log is in memory) keeps each row until every
group that reads the row's topic committed an offset past it; this reads those offsets.
Committed offsets come from OffsetFetch through each group's coordinator, without joining the
group (as ``regwatch lag`` reads them); Apache Kafka and Tansu both answer it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.kafka_client_id import process_client_id
from shared.logging import get_logger

log = get_logger("regwatch.outbox")


class CommittedOffsets:
    """``groups``: topic -> the consumer groups that read it (all must pass a row)."""

    def __init__(self, bootstrap: str, groups: Mapping[str, Sequence[str]]) -> None:
        self.bootstrap = bootstrap
        self.groups = {topic: list(names) for topic, names in groups.items()}
        self._readers: dict[str, AIOKafkaConsumer] = {}

    async def _reader(self, group: str) -> AIOKafkaConsumer:
        reader = self._readers.get(group)
        if reader is None:
            reader = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap,
                group_id=group,
                client_id=process_client_id("regwatch-outbox"),
                enable_auto_commit=False,
                request_timeout_ms=10_000,
            )
            await reader.start()
            self._readers[group] = reader
        return reader

    async def committed(self, topic: str, partitions: Sequence[int]) -> dict[int, int]:
        """Partition -> the lowest offset committed on it by every group reading ``topic``;
        partitions some group has not committed on are left out (nothing there is passed).
        A topic no group reads is never confirmed (empty)."""
        groups = self.groups.get(topic) or []
        lowest: dict[int, int] | None = None
        for group in groups:
            reader = await self._reader(group)
            found: dict[int, int] = {}
            for partition in sorted(set(partitions)):
                offset = await reader.committed(TopicPartition(topic, partition))
                if offset is not None and offset >= 0:
                    found[partition] = offset
            if lowest is None:
                lowest = found
            else:
                lowest = {p: min(o, found[p]) for p, o in lowest.items() if p in found}
        return lowest or {}

    async def close(self) -> None:
        readers, self._readers = self._readers, {}
        for reader in readers.values():
            with contextlib.suppress(Exception):
                await reader.stop()
