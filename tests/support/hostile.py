"""Hostile inputs, generated: zip bombs (.docx), PDF bombs, deeply nested HTML, very long and
slow notices and a decompression-bomb picture. Built small and fast (the bombs are streamed)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import docx
from PIL import Image

HEAD = (
    "国家互联网信息办公室\n关于星云笔记等App违法违规收集使用个人信息情况的通报\n2021年5月10日\n"
    "相关App运营者应当自本通报发布之日起15个工作日内完成整改。\n"
)
LINE = "1. 星云笔记（杭州星云软件有限公司）\n"


def docx_notice(text: str = HEAD + LINE) -> bytes:
    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _with_part(part: str, size: int, *, fill: bytes = b"\0") -> bytes:
    """A real .docx whose ``part`` is replaced by ``size`` bytes of ``fill``, streamed into the
    package (never held in memory)."""
    source = zipfile.ZipFile(io.BytesIO(docx_notice()))
    out = io.BytesIO()
    chunk = fill * (1 << 20)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for info in source.infolist():
            if info.filename != part:
                package.writestr(info.filename, source.read(info))
                continue
            with package.open(part, "w", force_zip64=size > 2**31) as member:
                left = size
                while left > 0:
                    member.write(chunk[: min(left, len(chunk))])
                    left -= len(chunk)
    return out.getvalue()


def zip_bomb_docx(size: int = 200_000_000) -> bytes:
    """A .docx whose ``word/document.xml`` is ``size`` zero bytes: 200 KB for the default,
    2 MB for 2 GB (which takes 10 s to build)."""
    return _with_part("word/document.xml", size)


def lying_zip_bomb_docx(size: int = 200_000_000, declared: int = 1000) -> bytes:
    """A .docx whose ``word/document.xml`` holds ``size`` zero bytes while the central
    directory declares ``declared`` (size checks that trust the directory pass it)."""
    data = bytearray(_with_part("word/document.xml", size))
    target = b"word/document.xml"
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == target:
            struct.pack_into("<I", data, at + 24, declared)
        at += 4
    return bytes(data)


def deep_html(depth: int = 100_000) -> bytes:
    """A page nested ``depth`` ``<div>`` deep around an otherwise readable notice."""
    inner = "".join(f"<p>{line}</p>" for line in (HEAD + LINE).splitlines())
    return f"<html><body>{'<div>' * depth}{inner}{'</div>' * depth}</body></html>".encode()


def long_notice(lines: int = 100_000) -> bytes:
    """A notice of ``lines`` numbered list lines (1.6 MB for 100k: under the body limit)."""
    rows = "".join(f"{i}. 应用{i}\n" for i in range(1, lines + 1))
    return (HEAD + rows).encode()


def bomb_png(width: int = 12_000, height: int = 12_000) -> bytes:
    """A small PNG (a few tens of KB) that decodes to ``width`` x ``height`` pixels."""
    out = io.BytesIO()
    Image.new("1", (width, height), 1).save(out, "PNG")
    return out.getvalue()


def slow_notice(lines: int = 19_000) -> bytes:
    """A notice under the line limit that takes long to read: ``lines`` list lines with their
    operators (about 1 ms a line here; 20 s for the default)."""
    rows = "".join(f"{i}. 应用{i}（杭州星云软件有限公司{i}）\n" for i in range(1, lines + 1))
    return (HEAD + rows).encode()


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF of these objects (numbered from 1; the first is the catalog), with its xref."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _zeros_deflated(size: int) -> bytes:
    compressor = zlib.compressobj(9)
    chunk = b"\0" * (1 << 20)
    parts = [
        compressor.compress(chunk[: min(len(chunk), size - done)])
        for done in range(0, size, len(chunk))
    ]
    return b"".join(parts) + compressor.flush()


def bomb_pdf(size: int = 200_000_000) -> bytes:
    """A one-page PDF whose content stream inflates to ``size`` zero bytes (200 KB for the
    default): pdfminer inflates a stream whole."""
    stream = _zeros_deflated(size)
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream",
        ]
    )


def huge_page_pdf(points: int = 14_400) -> bytes:
    """A one-page PDF whose page is ``points`` square (200 inches, the most PDF allows) with a
    small picture on it: rendered for OCR at 150 dpi it is 900 million pixels."""
    pixels = b"\x80" * (8 * 8 * 3)
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R "
            b"/Resources << /XObject << /Im1 5 0 R >> >> >>" % (points, points),
            b"<< /Length 35 >>\nstream\nq 7000 0 0 7000 100 100 cm /Im1 Do Q\nendstream",
            b"<< /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceRGB "
            b"/BitsPerComponent 8 /Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream",
        ]
    )
