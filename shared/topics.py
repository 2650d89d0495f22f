"""Topic names (public contract). ``namespace`` prefixes them for shared clusters and tests."""

from __future__ import annotations

from dataclasses import dataclass

NOTICES = "regwatch.notices.v1"
MATCHES = "regwatch.matches.v1"
DELIVERIES = "regwatch.deliveries.v1"
WATCHLIST = "regwatch.watchlist.v1"
DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class Topics:
    namespace: str = ""

    def _name(self, base: str) -> str:
        return f"{self.namespace}.{base}" if self.namespace else base

    @property
    def notices(self) -> str:
        return self._name(NOTICES)

    @property
    def matches(self) -> str:
        return self._name(MATCHES)

    @property
    def deliveries(self) -> str:
        return self._name(DELIVERIES)

    @property
    def watchlist(self) -> str:
        return self._name(WATCHLIST)

    @staticmethod
    def dlq(topic: str) -> str:
        return topic + DLQ_SUFFIX

    def all(self) -> list[str]:
        main = [self.notices, self.matches, self.deliveries, self.watchlist]
        return [*main, self.dlq(self.notices), self.dlq(self.matches), self.dlq(self.watchlist)]
