"""Bytes to text, and telling HTML, CSV and .docx from plain text.

Notices arrive as UTF-8 (with or without a BOM), UTF-16 (with a BOM, or without one when the
zero bytes give it away) or as GBK/GB18030 pages from older government sites. Binary formats
(.docx, .xlsx, .pdf, images) have their own readers (``formats.py`` lists them); other archives
and random binary are refused with an ``InputError`` naming the file.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from shared.errors import InputError

from .formats import FOREIGN_MAGIC, FORMATS, ZIP_MAGIC, FormatName, extension
from .formats import format_from_name as _registered

Format = FormatName

__all__ = ["ZIP_MAGIC", "decode_bytes", "detect_format", "extension", "format_from_name"]

# Signatures of binary formats: never decoded as text.
_MAGIC = (*FOREIGN_MAGIC, *(magic for fmt in FORMATS for magic in fmt.magic))
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")


def format_from_name(name: str) -> Format | None:
    """The format an extension implies; None for no extension or a plain-text one.

    Raises InputError for an extension the extractor cannot read (.zip, .doc, .gif ...).
    """
    found = _registered(name)
    if found is None or found.name == "text":
        return None
    return found.name


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    bad = 0
    for ch in text:
        category = unicodedata.category(ch)
        if (category == "Cc" and ch not in _ALLOWED_CONTROLS) or category in ("Co", "Cn", "Cs"):
            bad += 1
    return bad > max(2, len(text) // 100)


def _utf16_without_bom(data: bytes) -> str | None:
    """ "utf-16-le"/"utf-16-be" when every other byte is mostly zero (Latin text, digits and
    markup in UTF-16), else None."""
    sample = data[:4000]
    if len(sample) < 8 or len(sample) % 2:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > len(odd) * 0.1 and even.count(0) < len(even) * 0.05:
        return "utf-16-le"
    if even.count(0) > len(even) * 0.1 and odd.count(0) < len(odd) * 0.05:
        return "utf-16-be"
    return None


_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]{2,20})""", re.I)


def _declared_charset(data: bytes) -> str | None:
    """The charset a page declares (``<meta charset=big5>``) when it is not a GB one (GB pages
    are read as GB18030, the superset of GB2312 and GBK)."""
    m = _CHARSET.search(data[:4096])
    if m is None:
        return None
    declared = m.group(1).decode("ascii").lower()
    if declared.startswith("gb") or declared in ("utf-8", "utf8", "x-gbk", "cp936"):
        return None
    return declared


def decode_bytes(data: bytes, *, name: str) -> str:
    """Decode a notice: UTF-8 (BOM optional), UTF-16 (BOM, or zero bytes), a page's declared
    charset (Big5 reprints), else GB18030.

    Raises InputError when the input is empty or is not text in any of these encodings.
    """
    if not data.strip():
        raise InputError(f"{name}: file is empty")
    undecodable = InputError(f"{name}: cannot decode text (tried UTF-8 and GB18030)")
    if data.startswith(_MAGIC):
        raise undecodable
    text: str | None = None
    bom = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    utf16 = "utf-16" if bom else _utf16_without_bom(data)
    if utf16:
        try:
            text = data.decode(utf16)
        except UnicodeDecodeError:
            text = None
    if text is None:
        for encoding in ("utf-8-sig", _declared_charset(data), "gb18030"):
            if encoding is None:
                continue
            try:
                text = data.decode(encoding)
            except (UnicodeDecodeError, LookupError):
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
