"""Pure extraction layer of the ingestor: notice bytes in, a ``NoticeEvent`` out.

No I/O besides reading the bytes handed in: no database, no broker, no network.

``parse_notice`` and ``notice_identity`` are imported on first use, so a module that needs only
``zipguard`` (the server process, which reads notices in worker processes) does not load every
reader (HTML, PDF, spreadsheets, OCR).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .notice import notice_identity, parse_notice

__all__ = ["notice_identity", "parse_notice"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import notice

        value = getattr(notice, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
