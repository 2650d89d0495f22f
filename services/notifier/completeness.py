"""What an alert says when regwatch could read only part of a notice's list of apps.

"This notice names 105 apps; 28 read from the text; the rest are in an image we could not
read." Pure: the words come from the notice summary (declared count, what was read and from
where, and the extractor's reason), for the email and the webhook alike.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.events import NoticeSummary

_SOURCES = {
    "text": "the text",
    "table": "a table in the page",
    "attachment": "an attached file",
    "image": "an image (OCR)",
}
_ORDER = tuple(_SOURCES)


def _plural(count: int, word: str) -> str:
    return f"{count} {word if count == 1 else word + 's'}"


def _read_from(total: int, by_source: Mapping[str, int]) -> str:
    """``28 read from the text`` or ``28 read: 20 from the text, 8 from an attached file``."""
    sources = sorted(
        ((s, n) for s, n in by_source.items() if n > 0),
        key=lambda item: _ORDER.index(item[0]) if item[0] in _ORDER else len(_ORDER),
    )
    if not sources:
        return f"{total} read"
    if len(sources) == 1:
        return f"{total} read from {_SOURCES.get(sources[0][0], sources[0][0])}"
    parts = ", ".join(f"{n} from {_SOURCES.get(s, s)}" for s, n in sources)
    return f"{total} read: {parts}"


def _the_rest(reason: str | None) -> str:
    """Where the apps not read are, from the extractor's reason."""
    text = (reason or "").casefold()
    if "image" in text:
        return "the rest are in an image we could not read"
    if "attachment" in text:
        return "the rest are in an attachment we did not get or could not read"
    return "the rest are not in what we read"


def list_note(notice: NoticeSummary) -> str | None:
    """One sentence on a list regwatch could read only in part; None when it read it whole.

    Apps you watch may be among those not read: the sentence says so.
    """
    if not notice.list_incomplete:
        return None
    read = notice.entities_read
    declared = notice.declared_count
    clauses: list[str] = []
    if declared:
        clauses.append(f"This notice names {_plural(declared, 'app')}")
    else:
        clauses.append("This notice names more apps than we could read")
    if read is not None:
        clauses.append(_read_from(read, notice.entities_read_from))
    if declared and read is not None and read >= declared:
        reason = notice.list_incomplete_reason or "the notice gives only part of its list"
        clauses.append(f"yet the list may be incomplete ({reason})")
    else:
        clauses.append(_the_rest(notice.list_incomplete_reason))
    return "; ".join(clauses) + ". Apps you watch may be among those we could not read."
