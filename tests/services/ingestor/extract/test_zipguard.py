"""Zip packages opened without trusting them: the central directory's sizes, ratios and part
count are checked, parts are read in bounded chunks, and the readers get what was read."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from collections.abc import Iterator

import pytest

from services.ingestor.extract import parse_notice, zipguard
from services.ingestor.extract.docx_reader import docx_media, docx_to_html
from services.ingestor.extract.xlsx_reader import read_xlsx
from services.ingestor.extract.zipguard import ZipLimits, checked_package, unpack
from shared.errors import InputError
from tests.support.hostile import docx_notice, lying_zip_bomb_docx, zip_bomb_docx


def zipped(*parts: tuple[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts:
            package.writestr(name, data)
    return out.getvalue()


@pytest.fixture
def limits() -> Iterator[None]:
    yield
    zipguard.configure(ZipLimits())


def test_a_package_within_the_limits_is_read_as_it_is() -> None:
    data = zipped(("xl/workbook.xml", b"<x/>"), ("xl/worksheets/sheet1.xml", b"a" * 5000))
    assert unpack(data, "ok.xlsx") == {
        "xl/workbook.xml": b"<x/>",
        "xl/worksheets/sheet1.xml": b"a" * 5000,
    }
    with zipfile.ZipFile(io.BytesIO(checked_package(data, "ok.xlsx"))) as copy:
        assert {info.compress_type for info in copy.infolist()} == {zipfile.ZIP_STORED}
        assert copy.read("xl/worksheets/sheet1.xml") == b"a" * 5000


def test_a_package_that_expands_beyond_the_setting_is_refused(limits: None) -> None:
    data = zipped(("xl/workbook.xml", b"<x/>"), ("xl/worksheets/sheet1.xml", b"a" * 5000))
    zipguard.configure(ZipLimits(max_bytes=4000))
    with pytest.raises(
        InputError,
        match=r"^big\.xlsx: the package expands to more than 4,000 bytes "
        r"\(REGWATCH_MAX_UNZIPPED_BYTES\); not read$",
    ):
        checked_package(data, "big.xlsx")


def test_a_zip_bomb_part_is_refused_by_its_ratio() -> None:
    data = zipped(("word/document.xml", b"\0" * 30_000_000))
    with pytest.raises(
        InputError, match=r"^bomb\.docx: part word/document\.xml expands \d+ times \(limit 100\)"
    ):
        unpack(data, "bomb.docx")


def test_too_many_parts_are_refused(limits: None) -> None:
    zipguard.configure(ZipLimits(max_members=3))
    data = zipped(*((f"word/media/{i}.png", b"x") for i in range(4)))
    with pytest.raises(InputError, match=r"^many\.docx: the package has 4 parts, more than the 3"):
        unpack(data, "many.docx")


def test_a_zip_bomb_docx_is_refused_before_decompressing() -> None:
    data = zip_bomb_docx(200_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"^bomb\.docx: the package expands to more than"):
            parse_notice(data, name="bomb.docx")
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000


def test_a_part_whose_size_is_lied_about_is_read_only_to_its_declared_size() -> None:
    """The central directory says 1000 bytes; the data expands to 200 MB of zeros. Reading it
    whole (as python-docx does) took all 200 MB at once; read in bounded chunks it stops at
    1000 bytes and the checksum gives the lie away."""
    data = lying_zip_bomb_docx(200_000_000, declared=1000)
    tracemalloc.start()
    try:
        with pytest.raises(
            InputError, match=r"^liar\.docx: part word/document\.xml cannot be read \(Bad CRC-32"
        ):
            docx_to_html(data, name="liar.docx")
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000


def test_readers_open_the_checked_copy(limits: None) -> None:
    data = docx_notice()
    assert "星云笔记" in docx_to_html(data, name="n.docx")
    assert docx_media(data, name="n.docx") == {}
    zipguard.configure(ZipLimits(max_bytes=1000))
    with pytest.raises(InputError, match=r"^n\.docx: the package expands to more than 1,000"):
        docx_to_html(data, name="n.docx")
    with pytest.raises(InputError, match=r"^list\.xlsx: the package expands to more than 1,000"):
        read_xlsx(zipped(("xl/workbook.xml", b"<x/>" * 400)), name="list.xlsx")
