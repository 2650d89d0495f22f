"""The format registry: suffixes, media types and magic bytes (zip limits: test_zipguard)."""

from __future__ import annotations

import io
import zipfile

import pytest

from services.ingestor.extract.formats import (
    binary_format,
    check_lines,
    format_for_media_type,
    format_from_name,
    sniff,
)
from shared.errors import InputError


def zipped(*parts: tuple[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts:
            package.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.HTML", "html"),
        ("https://x.cn/a/list.xlsx?download=1", "xlsx"),
        ("名单.pdf", "pdf"),
        ("scan.JPG", "image"),
        ("shot.jpeg", "image"),
        ("n.md", "text"),
        ("notice", None),
    ],
)
def test_format_from_name(name: str, expected: str | None) -> None:
    found = format_from_name(name)
    assert (found.name if found else None) == expected


def test_unknown_suffix_lists_what_is_supported() -> None:
    with pytest.raises(
        InputError,
        match=r"^a\.doc: unsupported file type '\.doc' \(supported: .*\.xlsx.*\.pdf.*\.png",
    ):
        format_from_name("a.doc")


def test_media_types() -> None:
    assert format_for_media_type("application/pdf; charset=binary").name == "pdf"  # type: ignore[union-attr]
    assert format_for_media_type("IMAGE/JPEG").name == "image"  # type: ignore[union-attr]
    assert format_for_media_type("application/zip") is None


def test_sniffing_tells_packages_and_pictures_apart() -> None:
    assert sniff(b"%PDF-1.7\n...").name == "pdf"  # type: ignore[union-attr]
    assert sniff(b"\x89PNG\r\n\x1a\n....").name == "image"  # type: ignore[union-attr]
    assert sniff(zipped(("word/document.xml", b"<w/>"))).name == "docx"  # type: ignore[union-attr]
    assert sniff(zipped(("xl/workbook.xml", b"<x/>"))).name == "xlsx"  # type: ignore[union-attr]
    assert sniff(zipped(("ppt/presentation.xml", b"<p/>"))) is None
    assert sniff("国家互联网信息办公室".encode()) is None


def test_binary_format_checks_the_name_against_the_bytes() -> None:
    assert binary_format(b"%PDF-1.4 ...", "notice") is not None  # no extension: what it is
    assert binary_format("通报".encode(), "n.txt") is None
    with pytest.raises(InputError, match=r"^list\.xlsx: the file is a \.pdf, not a \.xlsx$"):
        binary_format(b"%PDF-1.4", "list.xlsx")
    with pytest.raises(InputError, match=r"^list\.png: not a readable \.png file$"):
        binary_format(b"<html>oops</html>", "list.png")
    with pytest.raises(InputError, match=r"^x: a zip archive that is not a \.docx or \.xlsx"):
        binary_format(zipped(("a.txt", b"a")), "x")


def test_check_lines_counts_non_blank_lines() -> None:
    check_lines("a\n" * 20_000, "ok.txt")
    check_lines("a\n" + "\n \n" * 50_000, "blank.txt")
    with pytest.raises(InputError, match=r"^x\.txt: the notice has 20,001 lines of text, more"):
        check_lines("a\n" * 20_001, "x.txt")
