"""PDFs built here (reportlab, with a CJK font): ruled tables, text, limits."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import pytest

from services.ingestor.extract import pdf_reader
from services.ingestor.extract.pdf_reader import read_pdf, table_grid
from services.ingestor.extract.tables import table_entities
from shared.errors import InputError
from tests.support.hostile import bomb_pdf, huge_page_pdf

FONTS = [
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
]
FONT = next((f for f in FONTS if f.exists()), None)
needs_font = pytest.mark.skipif(
    FONT is None, reason="no CJK font installed (apt-get install fonts-wqy-zenhei; .ci/run does)"
)


def pdf(pages: list[list[list[str]] | str]) -> bytes:
    """One page per item: a ruled table (rows of cells) or a line of text."""
    reportlab = pytest.importorskip(
        "reportlab", reason="reportlab (a test dependency) writes the PDFs"
    )
    del reportlab
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(TTFont("cjk", str(FONT), subfontIndex=0))
    style = ParagraphStyle("cn", fontName="cjk", fontSize=11, leading=16)
    story: list[object] = []
    for item in pages:
        if isinstance(item, str):
            story.append(Paragraph(item, style))
        else:
            table = Table(item)
            table.setStyle(
                TableStyle(
                    [
                        ("FONT", (0, 0), (-1, -1), "cjk", 10),
                        ("GRID", (0, 0), (-1, -1), 0.8, "black"),
                    ]
                )
            )
            story.append(table)
        story.append(PageBreak())
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4).build(story)  # type: ignore[arg-type]
    return out.getvalue()


@needs_font
def test_a_ruled_table_and_the_text_around_it() -> None:
    data = pdf(
        [
            "关于下架侵害用户权益APP名单的通报",
            [
                ["序号", "软件名称", "企业名称"],
                ["1", "海豚清理大师", "广州海豚安全科技有限公司"],
                ["2", "QQ阅读", "上海阅文信息技术有限公司"],
            ],
        ]
    )
    content = read_pdf(data, name="n.pdf")
    assert "关于下架侵害用户权益APP名单的通报" in content.text
    assert len(content.grids) == 1
    assert [(e.name, e.developer) for e in table_entities(content.grids[0])] == [
        ("海豚清理大师", "广州海豚安全科技有限公司"),
        ("QQ阅读", "上海阅文信息技术有限公司"),
    ]
    assert content.scans == []


@needs_font
def test_too_many_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_reader, "MAX_PDF_PAGES", 1)
    with pytest.raises(InputError, match=r"^long\.pdf: 2 pages, more than the 1 read$"):
        read_pdf(pdf(["一", "二"]), name="long.pdf")


def test_not_a_pdf() -> None:
    with pytest.raises(InputError, match=r"^x\.pdf: not a readable \.pdf file"):
        read_pdf(b"%PDF-1.4\nnothing here", name="x.pdf")


def test_merged_cells_continue_the_cell_above_or_to_the_left() -> None:
    grid = table_grid(
        [
            ["名单", None],
            ["应用名称", "应用开发者"],
            ["抖音", "北京微播视界科技有限公司"],
            ["抖音极速版", None],
        ],
        0,
    )
    assert grid[0][1] is not None and grid[0][1].origin == grid[0][0].origin  # type: ignore[union-attr]
    below = grid[3][1]
    assert below is not None and below.spanned and below.text == "北京微播视界科技有限公司"


@needs_font
def test_a_table_over_two_pages_keeps_its_header() -> None:
    first = [["序号", "应用名称", "应用开发者"], ["1", "暖心借", "杭州暖心网络小额贷款有限公司"]]
    second = [
        ["2", "秒拍相机", "厦门秒拍影像科技有限公司"],
        ["3", "抖音", "北京微播视界科技有限公司"],
    ]
    content = read_pdf(pdf([first, second]), name="two.pdf")
    rows = [(e.name, e.developer) for grid in content.grids for e in table_entities(grid)]
    assert rows == [
        ("暖心借", "杭州暖心网络小额贷款有限公司"),
        ("秒拍相机", "厦门秒拍影像科技有限公司"),
        ("抖音", "北京微播视界科技有限公司"),
    ]


def test_a_stream_that_inflates_too_far_is_refused_before_pdfminer_reads_it() -> None:
    data = bomb_pdf(200_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(
            InputError,
            match=r"^bomb\.pdf: a stream of the PDF inflates to more than 50,000,000 bytes "
            r"\(REGWATCH_MAX_UNZIPPED_BYTES\); not read$",
        ):
            read_pdf(data, name="bomb.pdf")
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000


def test_a_huge_page_is_rendered_within_the_pixel_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """An 854-byte PDF with a 200-inch page: 900 million pixels at 150 dpi (12 GB)."""
    assert pdf_reader.render_resolution(595, 842) == pdf_reader.SCAN_RESOLUTION  # A4 as before
    monkeypatch.setattr(pdf_reader, "MAX_IMAGE_PIXELS", 1_000_000)
    [scan] = read_pdf(huge_page_pdf(), name="huge.pdf").scans
    assert scan.size[0] * scan.size[1] <= 1_000_000
