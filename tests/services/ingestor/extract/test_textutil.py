from __future__ import annotations

from services.ingestor.extract.textutil import clean_line, nonempty_lines


def test_clean_line_takes_reprint_noise_out() -> None:
    assert clean_line("  應(yīng)用　名稱  ") == "應用 名稱"
    assert clean_line("1\t锟斤拷山城打车\t\t华为应用市场 ") == "1\t山城打车\t华为应用市场"
    assert clean_line("发布时间：2023-06-02 【字体：大 中 小】") == "发布时间：2023-06-02"


def test_clean_line_keeps_real_brackets() -> None:
    assert clean_line("抖音（北京微播视界科技有限公司）") == "抖音（北京微播视界科技有限公司）"
    assert clean_line("QQ(安卓版)") == "QQ(安卓版)"


def test_nonempty_lines_drops_lines_that_were_only_widgets() -> None:
    assert nonempty_lines("标题\n【打印本页】【关闭窗口】\n正文") == ["标题", "正文"]
