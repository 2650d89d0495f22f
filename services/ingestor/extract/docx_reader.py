"""``.docx`` attachments (python-docx) as HTML, so their tables go through the HTML reader.

Paragraphs become ``<p>`` (headings ``<h1>``..``<h3>``; Word's automatic list numbers, which
are not in the text, are written out), tables become ``<table>`` with merged cells as
``rowspan`` (``w:vMerge``) and ``colspan`` (``w:gridSpan``), pictures become
``<img src="word/media/image1.png">`` (their bytes: ``docx_media``), in document order.

The package is opened through ``zipguard`` (size, ratio and part count checked before anything
is decompressed; parts read with bounded reads).
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from typing import Any

from shared.errors import InputError

from .formats import BY_NAME, MAX_TEXT_LINES, extension
from .zipguard import checked_package, unpack

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
_EMBED = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed"
_PICTURE_SUFFIXES = frozenset(BY_NAME["image"].suffixes)


def _text(element: Any) -> str:
    """The visible text of a paragraph element (runs, tabs and breaks)."""
    parts: list[str] = []
    for node in element.iter():
        tag = node.tag
        if tag == f"{_W}t" and node.text:
            parts.append(node.text)
        elif tag == f"{_W}tab":
            parts.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
    return "".join(parts)


class _Numbering:
    """Word's automatic list numbers, which are not in the paragraphs' text."""

    def __init__(self, document: Any) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.style_numbers: dict[str, tuple[str, str]] = {}  # style id -> (numId, ilvl)
        self.bullets: set[tuple[str, str]] = set()
        for style in document.styles.element.findall(f"{_W}style"):
            key = self._key(style.find(f"{_W}pPr/{_W}numPr"))
            if key is not None:
                self.style_numbers[style.get(f"{_W}styleId") or ""] = key
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        formats: dict[tuple[str, str], str] = {}
        for abstract in numbering.findall(f"{_W}abstractNum"):
            abstract_id = abstract.get(f"{_W}abstractNumId") or ""
            for level in abstract.findall(f"{_W}lvl"):
                fmt = level.find(f"{_W}numFmt")
                formats[(abstract_id, level.get(f"{_W}ilvl") or "0")] = (
                    fmt.get(f"{_W}val") or "" if fmt is not None else ""
                )
        for num in numbering.findall(f"{_W}num"):
            abstract = num.find(f"{_W}abstractNumId")
            abstract_id = abstract.get(f"{_W}val") or "" if abstract is not None else ""
            for (owner, level_id), fmt in formats.items():
                if owner == abstract_id and fmt in ("bullet", "none"):
                    self.bullets.add((num.get(f"{_W}numId") or "", level_id))

    @staticmethod
    def _key(num_pr: Any) -> tuple[str, str] | None:
        if num_pr is None:
            return None
        num_id = num_pr.find(f"{_W}numId")
        level = num_pr.find(f"{_W}ilvl")
        return (
            num_id.get(f"{_W}val") or "" if num_id is not None else "",
            level.get(f"{_W}val") or "0" if level is not None else "0",
        )

    def prefix(self, element: Any, style_id: str) -> str:
        key = self._key(element.find(f"{_W}pPr/{_W}numPr")) or self.style_numbers.get(style_id)
        if key is None or key in self.bullets or key[0] == "0":
            return ""
        self.counts[key] = self.counts.get(key, 0) + 1
        return f"{self.counts[key]}. "


def _pictures_html(element: Any, document: Any) -> str:
    """``<img>`` for each picture drawn in a paragraph (src: its part in the package)."""
    tags: list[str] = []
    for blip in element.iter(_BLIP):
        try:
            part = document.part.related_parts[blip.get(_EMBED) or ""]
        except KeyError:
            continue
        src = str(part.partname).lstrip("/")
        tags.append(f'<img src="{html.escape(src)}" alt="">')
    return "".join(tags)


def _paragraph_html(element: Any, numbering: _Numbering, document: Any) -> str:
    pictures = _pictures_html(element, document)
    text = _text(element).strip()
    if not text:
        return f"<p>{pictures}</p>" if pictures else ""
    style = element.find(f"{_W}pPr/{_W}pStyle")
    style_id = (style.get(f"{_W}val") or "") if style is not None else ""
    number = numbering.prefix(element, style_id)
    if number and not re.match(r"[（(]?\d", text):
        text = number + text
    lines = "<br>".join(html.escape(line) for line in text.split("\n"))
    if style_id.lower().startswith(("heading", "title")):
        level = style_id[-1] if style_id[-1:] in "123" else "1"
        return f"<h{level}>{lines}</h{level}>{pictures}"
    return f"<p>{lines}{pictures}</p>"


def _cell_text(tc: Any) -> str:
    return "\n".join(_text(p).strip() for p in tc.findall(f"{_W}p") if _text(p).strip())


def _table_html(tbl: Any) -> str:
    # Grid of the table: (row, column) -> id of the cell that owns it.
    owners: dict[tuple[int, int], int] = {}
    cells: list[dict[str, Any]] = []
    for r, tr in enumerate(tbl.findall(f"{_W}tr")):
        c = 0
        for tc in tr.findall(f"{_W}tc"):
            pr = tc.find(f"{_W}tcPr")
            span_el = pr.find(f"{_W}gridSpan") if pr is not None else None
            span = int(span_el.get(f"{_W}val") or 1) if span_el is not None else 1
            merge_el = pr.find(f"{_W}vMerge") if pr is not None else None
            continues = merge_el is not None and merge_el.get(f"{_W}val") in (None, "continue")
            above = owners.get((r - 1, c))
            if continues and above is not None:
                cells[above]["rowspan"] = r - cells[above]["row"] + 1
                for dc in range(span):
                    owners[(r, c + dc)] = above
            else:
                cells.append({"row": r, "text": _cell_text(tc), "colspan": span, "rowspan": 1})
                for dc in range(span):
                    owners[(r, c + dc)] = len(cells) - 1
                cells[-1]["col"] = c
            c += span
    rows: dict[int, list[str]] = {}
    for cell in cells:
        attrs = ""
        if cell["rowspan"] > 1:
            attrs += f' rowspan="{cell["rowspan"]}"'
        if cell["colspan"] > 1:
            attrs += f' colspan="{cell["colspan"]}"'
        text = "<br>".join(html.escape(line) for line in cell["text"].split("\n"))
        rows.setdefault(cell["row"], []).append(f"<td{attrs}>{text}</td>")
    body = "".join(f"<tr>{''.join(rows.get(r, []))}</tr>" for r in range(max(rows, default=-1) + 1))
    return f"<table>{body}</table>"


def docx_to_html(data: bytes, *, name: str) -> str:
    """The document's paragraphs and tables as an HTML page. Raises InputError when ``data``
    is not a readable .docx file or expands beyond the limits."""
    package = checked_package(data, name)
    try:
        from docx import Document

        document = Document(io.BytesIO(package))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise InputError(f"{name}: not a readable .docx file ({error})") from None
    except Exception as error:  # python-docx raises its own types for broken packages
        raise InputError(
            f"{name}: not a readable .docx file ({type(error).__name__}: {error})"
        ) from None
    body = document.element.body
    lines = len(body.findall(f"{_W}p")) + len(body.findall(f"{_W}tbl/{_W}tr"))
    if lines > MAX_TEXT_LINES:  # refused before it is converted (100k paragraphs: 20 s)
        raise InputError(
            f"{name}: the document has {lines:,} paragraphs and table rows, more than the "
            f"{MAX_TEXT_LINES:,} lines read; not read"
        )
    parts: list[str] = []
    numbering = _Numbering(document)
    for child in body.iterchildren():
        if child.tag == f"{_W}p":
            parts.append(_paragraph_html(child, numbering, document))
        elif child.tag == f"{_W}tbl":
            parts.append(_table_html(child))
    page = "".join(part for part in parts if part)
    if not page:
        raise InputError(f"{name}: the .docx file has no text")
    return f"<html><body>{page}</body></html>"


def docx_media(data: bytes, *, name: str = "the .docx file") -> dict[str, bytes]:
    """The package's pictures (``word/media/*.png|jpg``) by part name, read within the
    package limits (InputError beyond them)."""
    return unpack(
        data,
        name,
        lambda part: part.startswith("word/media/") and extension(part) in _PICTURE_SUFFIXES,
    )
