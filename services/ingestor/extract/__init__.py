"""Pure extraction layer of the ingestor: notice bytes in, a ``NoticeEvent`` out.

No I/O besides reading the bytes handed in: no database, no broker, no network.
"""

from __future__ import annotations

from .notice import notice_identity, parse_notice

__all__ = ["notice_identity", "parse_notice"]
