"""Bytes to text, and telling HTML from plain text.

Notices arrive as UTF-8 (with or without a BOM) or as GBK/GB18030 pages from older government
sites. Anything else - PDFs, spreadsheets, images, archives, random binary - is refused with an
``InputError`` naming the file.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import PurePosixPath
from typing import Literal
from urllib.parse import urlsplit

from shared.errors import InputError

Format = Literal["html", "text"]

HTML_EXTENSIONS = frozenset({".html", ".htm", ".shtml", ".xhtml"})
TEXT_EXTENSIONS = frozenset({".txt", ".text", ".md"})
SUPPORTED = ".html, .htm, .shtml, .txt, .text, .md (or no extension)"

# Signatures of binary formats we are sometimes handed by mistake.
_MAGIC = (
    b"%PDF-",
    b"PK\x03\x04",  # zip, docx, xlsx
    b"\x89PNG",
    b"\xff\xd8\xff",  # jpeg
    b"GIF8",
    b"\xd0\xcf\x11\xe0",  # old Office (doc, xls)
    b"\x1f\x8b",  # gzip
    b"Rar!",
    b"7z\xbc\xaf",
)
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")


def extension(name: str) -> str:
    """Lower-case extension of a file name or URL path (``''`` when there is none)."""
    path = urlsplit(name).path if "://" in name else name
    suffix = PurePosixPath(path.replace("\\", "/")).suffix.lower()
    # "notice.2021" or "v1.2" are not extensions worth judging.
    if suffix and not re.fullmatch(r"\.[a-z][a-z0-9]{0,5}", suffix):
        return ""
    return suffix


def format_from_name(name: str) -> Format | None:
    """The format an extension implies; None for no extension or a plain-text one.

    Raises InputError for an extension we cannot read (.pdf, .xlsx, .png, .zip ...).
    """
    suffix = extension(name)
    if not suffix or suffix in TEXT_EXTENSIONS:
        return None
    if suffix in HTML_EXTENSIONS:
        return "html"
    raise InputError(f"{name}: unsupported file type '{suffix}' (supported: {SUPPORTED})")


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    bad = 0
    for ch in text:
        category = unicodedata.category(ch)
        if (category == "Cc" and ch not in _ALLOWED_CONTROLS) or category in ("Co", "Cn", "Cs"):
            bad += 1
    return bad > max(2, len(text) // 100)


def decode_bytes(data: bytes, *, name: str) -> str:
    """Decode a notice: UTF-8 (BOM optional), UTF-16 with a BOM, else GB18030.

    Raises InputError when the input is empty or is not text in any of these encodings.
    """
    if not data.strip():
        raise InputError(f"{name}: file is empty")
    undecodable = InputError(f"{name}: cannot decode text (tried UTF-8 and GB18030)")
    if data.startswith(_MAGIC):
        raise undecodable
    text: str | None = None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            text = None
    if text is None:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            break
    if text is None or _looks_binary(text):
        raise undecodable
    if not text.strip():
        raise InputError(f"{name}: file is empty")
    return text


_HTML_START = re.compile(
    r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S
)
_HTML_TAG = re.compile(
    r"</?(?:html|head|body|div|p|table|tr|td|th|span|br|meta|title|h[1-6])\b[^>]*>", re.I
)


def detect_format(text: str, name: str) -> Format:
    """``"html"`` or ``"text"`` from the extension, else from the content.

    Raises InputError for an unsupported extension.
    """
    implied = format_from_name(name)
    if implied is not None:
        return implied
    if _HTML_START.match(text):
        return "html"
    head = text[:20000]
    tags = len(_HTML_TAG.findall(head))
    if tags >= 3 and extension(name) != ".md":
        return "html"
    return "text"
