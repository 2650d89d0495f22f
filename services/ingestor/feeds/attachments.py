"""Which attachments and list images of a notice page a feed follows. Pure: HTML in, links out.

A regulator often publishes the list of apps beside the notice rather than in it: a link to an
``.xlsx``/``.xls``/``.pdf``/``.docx`` file ("附件：XX款APP名单.xlsx"), or an image of the table in
the article. A page is followed to:

- links (``<a href>``) to those files and to ``.png``/``.jpg``/``.jpeg`` images;
- images (``<img src>``) whose ``alt``, ``title``, file name or surrounding text suggests a
  list (名单, 清单, 附件, list);

outside the page's navigation, header, footer and sidebars, on the page's own host only (a
link elsewhere is not the regulator's), each once, in page order, at most
:attr:`AttachmentLimits.count` of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from shared.settings import Settings

if TYPE_CHECKING:  # BeautifulSoup and lxml load when a page is read, not at every start
    from bs4 import Tag

LinkKind = Literal["file", "image"]

FILE_SUFFIXES = frozenset({".xlsx", ".xls", ".pdf", ".docx"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})
_LIST_HINT = re.compile(r"名单|名單|清单|清單|附件|\blists?\b", re.I)
_OUTSIDE_ARTICLE = frozenset({"nav", "header", "footer", "aside"})
_CONTEXT_CHARS = 80
_SUFFIX_FOR_TYPE = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}


@dataclass(frozen=True)
class AttachmentLimits:
    count: int = 10
    """Attachments and images followed per page (``REGWATCH_FEED_MAX_ATTACHMENTS``)."""
    max_bytes: int = 10_000_000
    """Bytes per attachment (``REGWATCH_FEED_ATTACHMENT_BYTES``)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> AttachmentLimits:
        return cls(count=settings.feed_max_attachments, max_bytes=settings.feed_attachment_bytes)


@dataclass(frozen=True)
class AttachmentLink:
    url: str
    name: str
    """The file name the readers see (the link's last path segment, decoded)."""
    kind: LinkKind


def suffix_of(url: str) -> str:
    last = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return "." + last.rsplit(".", 1)[-1].lower() if "." in last else ""


def file_name(url: str, content_type: str = "") -> str:
    """The name an attachment is read under: its URL's last path segment (decoded), with the
    extension its media type implies when it has none the readers know."""
    last = unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]) or "attachment"
    if suffix_of(url) in FILE_SUFFIXES | IMAGE_SUFFIXES:
        return last
    wanted = _SUFFIX_FOR_TYPE.get(content_type.split(";")[0].strip().lower())
    return last + wanted if wanted else last


def _absolute(page_url: str, href: str) -> str | None:
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "data:")):
        return None
    parts = urlsplit(urljoin(page_url, href))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def same_site(url: str, page_url: str) -> bool:
    """On the page's own host (scheme and port aside)."""
    host = urlsplit(url).hostname
    return host is not None and host == urlsplit(page_url).hostname


def _in_article(tag: Tag) -> bool:
    return not any(parent.name in _OUTSIDE_ARTICLE for parent in tag.parents)


def _text_near(tag: Tag) -> str:
    """The text of the image's block and of the block before it ("附件：名单" above a picture)."""
    from bs4 import Tag

    block = tag.parent
    texts: list[str] = []
    if isinstance(block, Tag):
        texts.append(block.get_text(" ", strip=True)[:_CONTEXT_CHARS])
        before = block.find_previous_sibling()
        if isinstance(before, Tag):
            texts.append(before.get_text(" ", strip=True)[-_CONTEXT_CHARS:])
    return " ".join(texts)


def _looks_like_list(img: Tag, url: str) -> bool:
    hints = [img.get("alt"), img.get("title"), unquote(urlsplit(url).path), _text_near(img)]
    return any(isinstance(h, str) and _LIST_HINT.search(h) for h in hints)


def attachment_links(body: bytes | str, page_url: str, *, limit: int) -> list[AttachmentLink]:
    """The attachments and list images of a notice page, in page order, at most ``limit``."""
    if limit <= 0:
        return []
    from bs4 import Tag

    from services.ingestor.extract.markup import TooDeep, soup_of

    try:
        soup = soup_of(body)
    except TooDeep:  # the page itself is refused when it is read
        return []
    found: list[AttachmentLink] = []
    seen: set[str] = set()
    for tag in soup.find_all(["a", "img"]):
        if not isinstance(tag, Tag):
            continue
        raw = tag.get("href") if tag.name == "a" else tag.get("src")
        url = _absolute(page_url, raw) if isinstance(raw, str) else None
        if url is None or url in seen or not same_site(url, page_url) or not _in_article(tag):
            continue
        suffix = suffix_of(url)
        if tag.name == "a":
            if suffix in FILE_SUFFIXES:
                kind: LinkKind = "file"
            elif suffix in IMAGE_SUFFIXES:
                kind = "image"
            else:
                continue
        elif _looks_like_list(tag, url):
            kind = "image"
        else:
            continue
        seen.add(url)
        found.append(AttachmentLink(url=url, name=file_name(url), kind=kind))
        if len(found) >= limit:
            break
    return found
