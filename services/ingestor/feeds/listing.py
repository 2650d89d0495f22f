"""What a feed lists: RSS/Atom entries (feedparser) or, on an HTML list page, the links whose
text looks like a notice title. Pure: bytes in, items out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from shared.errors import InputError

Kind = Literal["auto", "rss", "atom", "html"]
KINDS: tuple[Kind, ...] = ("auto", "rss", "atom", "html")
MAX_ITEMS = 200
"""Items read from one listing (the newest first, as feeds list them)."""

_TITLE = re.compile(r"通报|通報|下架|整改|(?<![A-Za-z])(?:APP|App|app)s?(?![A-Za-z])|应用程序")
_MIN_TITLE = 6
_CHINA = ZoneInfo("Asia/Shanghai")
_FEED_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(rss|feed|rdf:RDF)\b", re.S)


@dataclass(frozen=True)
class FeedItem:
    key: str
    """The entry's guid, else its link: what makes it the same item on the next poll."""
    url: str | None
    title: str | None
    content: str | None = None
    """Inline content (RSS ``content:encoded`` / Atom ``content``) for entries with no link."""
    published: date | None = None
    """The entry's date (``pubDate`` / ``published`` / ``updated``): the notice's date when the
    notice itself gives none."""


def looks_like_notice_title(text: str) -> bool:
    return len(text.strip()) >= _MIN_TITLE and _TITLE.search(text) is not None


def detect_kind(body: bytes, content_type: str) -> Kind:
    """``atom`` or ``rss`` for a feed document (by media type, else by its root element),
    else ``html``."""
    media = content_type.split(";")[0].strip().lower()
    if media.endswith("atom+xml"):
        return "atom"
    if media.endswith(("rss+xml", "rdf+xml")):
        return "rss"
    root = _FEED_START.match(body[:4096].lstrip(b"\xef\xbb\xbf"))
    if root is not None:
        return "atom" if root.group(1) == b"feed" else "rss"
    return "rss" if media in ("application/xml", "text/xml") else "html"


def _clean_url(base: str, href: str) -> str | None:
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    absolute = urljoin(base, href)
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def parse_listing(
    body: bytes, *, base_url: str, kind: Kind = "auto", content_type: str = ""
) -> tuple[Kind, list[FeedItem]]:
    """The kind read and the items listed, in the listing's order (newest first, usually).

    Raises InputError when a feed document cannot be read at all.
    """
    if kind == "auto":
        kind = detect_kind(body, content_type)
    if kind == "html":
        return kind, html_items(body, base_url)
    return kind, feed_items(body, base_url)


def _entry_text(entry: Any, name: str) -> str | None:
    value = entry.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _entry_date(entry: Any) -> date | None:
    """The entry's date in China time (feedparser gives UTC struct_time)."""
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(name)
        if value is not None:
            try:
                year, month, day, hour, minute, second = value[:6]
                moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            except (TypeError, ValueError):
                continue
            return moment.astimezone(_CHINA).date()
    return None


def feed_items(body: bytes, base_url: str) -> list[FeedItem]:
    import feedparser  # here: loaded when a feed is read, not at every start

    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    if parsed.bozo and not parsed.entries:
        reason = parsed.get("bozo_exception") or "not RSS or Atom"
        raise InputError(f"feed could not be read: {reason}")
    items: list[FeedItem] = []
    seen: set[str] = set()
    for entry in parsed.entries[:MAX_ITEMS]:
        link = _entry_text(entry, "link")
        url = _clean_url(base_url, link) if link else None
        content: str | None = None
        contents = entry.get("content") or []
        if contents and isinstance(contents[0].get("value"), str):
            content = contents[0]["value"]
        elif _entry_text(entry, "summary"):
            content = entry["summary"]
        key = _entry_text(entry, "id") or url
        if key is None or key in seen or (url is None and not content):
            continue
        seen.add(key)
        items.append(
            FeedItem(
                key=key,
                url=url,
                title=_entry_text(entry, "title"),
                content=content,
                published=_entry_date(entry),
            )
        )
    return items


def html_items(body: bytes, base_url: str) -> list[FeedItem]:
    """Links of an HTML list page whose text (or ``title``, when the text is cut short) looks
    like a notice title: 通报, 下架, 整改, APP/App."""
    from services.ingestor.extract.markup import soup_of  # BeautifulSoup and lxml, when read

    soup = soup_of(body, name=base_url)  # TooDeep (an InputError) for a page nested too deep
    page = _clean_url(base_url, base_url)
    items: list[FeedItem] = []
    seen: set[str] = set()
    for anchor in soup.find_all("a", href=True):
        text = " ".join(anchor.get_text(" ", strip=True).split())
        hint = anchor.get("title")
        if isinstance(hint, str) and len(hint.strip()) > len(text.rstrip(".…")):
            text = " ".join(hint.split())
        if not looks_like_notice_title(text):
            continue
        href = anchor["href"]
        url = _clean_url(base_url, href if isinstance(href, str) else "")
        if url is None or url == page or url in seen:
            continue
        seen.add(url)
        items.append(FeedItem(key=url, url=url, title=text))
        if len(items) >= MAX_ITEMS:
            break
    return items
