"""Notice bytes -> text in simplified script, plus what the page's markup told us.

Picks the reader by format (HTML, plain text, CSV, .docx) and hands ``parse_notice`` the page
as plain text, its title, the entities read from its tables, and whether it shows its list as
an image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup

from shared.errors import InputError
from shared.events import Entity

from .decode import ZIP_MAGIC, decode_bytes, detect_format, format_from_name, is_docx
from .docx_reader import docx_to_html
from .entities_html import extract_entities_html, html_title, html_to_text, parse_html
from .noise import strip_noise
from .tables_text import csv_to_text
from .textutil import Script, simplified_script


@dataclass
class ReadNotice:
    """A notice as text in simplified script, with what the page's markup told us."""

    plain: str
    title: str | None
    table_entities: list[Entity]
    script: Script
    has_images: bool = False


def read_notice(data: bytes, name: str) -> ReadNotice:
    fmt = format_from_name(name)  # refuse .pdf/.xlsx/... before trying to decode them
    if fmt == "docx" or is_docx(data):
        page = docx_to_html(data, name=name)
        fmt = "html"
    else:
        if data.startswith(ZIP_MAGIC):
            raise InputError(f"{name}: a zip archive that is not a .docx document")
        page = decode_bytes(data, name=name)
        fmt = detect_format(page, name)
    if fmt == "csv":
        page = csv_to_text(page)
    page = strip_noise(page, markup=fmt == "html")
    script = simplified_script(page)
    page = script.simplified
    if fmt == "html":
        soup = parse_html(page)
        has_images = _list_image(soup)
        return ReadNotice(
            html_to_text(soup), html_title(soup), extract_entities_html(soup), script, has_images
        )
    return ReadNotice(page, None, [], script)


_LIST_SHOWN = re.compile(
    r"名单如下|如下图|见下图|名单见图|名单[:：]\s*$|list (?:is )?below", re.I | re.M
)


def _list_image(soup: BeautifulSoup) -> bool:
    """Does the page show its list as an image (not a logo or a photo)?"""
    images = soup.find_all("img")
    if not images:
        return False
    for img in images:
        described = f"{img.get('alt') or ''} {img.get('title') or ''} {img.get('src') or ''}"
        if re.search(r"名单|清单|list|mingdan", described, re.I):
            return True
    return _LIST_SHOWN.search(html_to_text(soup)) is not None
