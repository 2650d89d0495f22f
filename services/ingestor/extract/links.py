"""The files a notice page shows or links to that may hold its list: its pictures
(``<img src>``) and its attachments (``<a href="…名单.xlsx">``, .pdf, .docx), in page order.

Pure: the caller fetches them (the feed follower: same site only, within its size and count
limits; the CLI: next to the file) and hands them to ``parse_notice(attachments=...)`` under
the ``src``/``href`` the page gives, which is how the reader matches a picture to its place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.errors import InputError

from .decode import decode_bytes, detect_format
from .formats import ATTACHMENT_FORMATS, BY_NAME, binary_format, extension

_PICTURE_SUFFIXES = frozenset(BY_NAME["image"].suffixes)
_FILE_SUFFIXES = frozenset(
    suffix for name in ATTACHMENT_FORMATS for suffix in BY_NAME[name].suffixes
)


@dataclass(frozen=True)
class Link:
    url: str
    """As the page writes it (relative or absolute); never a ``data:`` URI."""
    kind: Literal["picture", "attachment"]
    text: str = ""
    """The link's text or the picture's alt text ("APP名单.xlsx")."""


def linked_files(data: bytes, *, name: str) -> list[Link]:
    """Pictures and attachment links of an HTML page, each once; [] for anything else (text,
    binary files, a page that cannot be decoded)."""
    try:
        if binary_format(data, name) is not None:
            return []
        page = decode_bytes(data, name=name)
    except InputError:
        return []
    if detect_format(page, name) != "html":
        return []
    from bs4 import Tag  # HTML only: a text notice does not load BeautifulSoup

    from .entities_html import parse_html

    try:
        soup = parse_html(page, name=name)
    except InputError:  # nested too deep: no links read
        return []
    found: list[Link] = []
    seen: set[str] = set()
    for tag in soup.find_all(["img", "a"]):
        if not isinstance(tag, Tag):
            continue
        if tag.name == "img":
            url = str(tag.get("src") or tag.get("data-src") or "").strip()
            kind: Literal["picture", "attachment"] = "picture"
            text = str(tag.get("alt") or "")
        else:
            url = str(tag.get("href") or "").strip()
            kind = "attachment"
            text = tag.get_text(" ", strip=True)
        if not url or url.lower().startswith(("data:", "javascript:", "mailto:", "#")):
            continue
        suffix = extension(url)
        if kind == "picture" and suffix and suffix not in _PICTURE_SUFFIXES:
            continue  # .gif spacers, .svg icons
        if kind == "attachment" and suffix not in _FILE_SUFFIXES:
            continue  # other pages, .zip and .doc files
        if url not in seen:
            seen.add(url)
            found.append(Link(url, kind, text))
    return found
