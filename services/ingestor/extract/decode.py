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
from .lazy_re import lazy

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
    allowed = max(2, len(text) // 100)
    bad = 0
    # Each distinct character judged once (a 5 MB notice has a few thousand), then counted.
    for ch in set(text):
        category = unicodedata.category(ch)
        if (category == "Cc" and ch not in _ALLOWED_CONTROLS) or category in ("Co", "Cn", "Cs"):
            bad += text.count(ch)
            if bad > allowed:
                return True
    return False


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


# Characters frequent in any Chinese notice, in both scripts: text decoded with the right
# codec is full of them, text decoded with the wrong one hardly has any.
_COMMON = frozenset(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下"
    "过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都"
    "两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新"
    "线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通"
    "并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组"
    "见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领"
    "七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安"
    "场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群"
    "個們來這時會說對開發後經過還現當應關與數問題個資網訊證據權業務"
)


def _score(text: str) -> float:
    cjk = [ch for ch in text if "\u4e00" <= ch <= "\u9fff"]
    return sum(ch in _COMMON for ch in cjk) / len(cjk) if cjk else 0.0


def _gb_or_big5(data: bytes) -> str | None:
    """GB18030 (mainland pages) or Big5 (Taiwan and Hong Kong reprints): the one that decodes
    and reads as Chinese text."""
    decoded: list[str] = []
    for encoding in ("gb18030", "big5hkscs"):
        try:
            decoded.append(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    if not decoded:
        return None
    return max(decoded, key=_score)


def decode_bytes(data: bytes, *, name: str) -> str:
    """Decode a notice: UTF-8 (BOM optional), UTF-16 (BOM, or zero bytes), a page's declared
    charset (Big5 reprints), else GB18030.

    Raises InputError when the input is empty or is not text in any of these encodings.
    """
    if not data.strip():
        raise InputError(f"{name}: file is empty")
    undecodable = InputError(f"{name}: cannot decode text (tried UTF-8, UTF-16, GB18030 and Big5)")
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
        for encoding in ("utf-8-sig", _declared_charset(data)):
            if encoding is None:
                continue
            try:
                text = data.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                continue
            break
    if text is None:
        text = _gb_or_big5(data)
    if text is None or _looks_binary(text):
        raise undecodable
    if not text.strip():
        raise InputError(f"{name}: file is empty")
    return text


_HTML_START = lazy(
    r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S
)
_HTML_TAG = lazy(
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
