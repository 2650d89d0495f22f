from __future__ import annotations

from services.ingestor.extract.entities_html import (
    extract_entities_html,
    html_title,
    html_to_text,
    parse_html,
    table_grid,
)


def entities(html: str) -> list[tuple[str, str | None, str | None, str | None, list[str]]]:
    return [
        (e.name, e.developer, e.store, e.version, e.issues)
        for e in extract_entities_html(parse_html(html))
    ]


HEADER = (
    "<tr><td>序号</td><td>应用名称</td><td>应用开发者</td><td>应用来源</td>"
    "<td>应用版本</td><td>所涉问题</td></tr>"
)


def test_rowspan_app_is_one_entity_with_merged_stores_versions_issues() -> None:
    html = f"""<table>{HEADER}
<tr><td rowspan="3">1</td><td rowspan="3">星河阅读</td><td rowspan="3">星河传媒有限公司</td>
<td>华为应用市场</td><td>5.2.1</td><td>违规收集个人信息</td></tr>
<tr><td>小米应用商店</td><td>5.2.0</td><td>账号注销难</td></tr>
<tr><td>应用宝</td><td>5.2.1</td><td>违规收集个人信息</td></tr>
</table>"""
    assert entities(html) == [
        (
            "星河阅读",
            "星河传媒有限公司",
            "华为应用市场/小米应用商店/应用宝",
            "5.2.1/5.2.0",
            ["违规收集个人信息", "账号注销难"],
        )
    ]


def test_blank_developer_is_not_forward_filled() -> None:
    html = f"""<table>{HEADER}
<tr><td>1</td><td>甲应用</td><td>甲科技有限公司</td><td>应用宝</td><td>1.0</td><td>问题一</td></tr>
<tr><td>2</td><td>乙应用</td><td></td><td>应用宝</td><td>2.0</td><td>问题二</td></tr>
<tr><td>3</td><td>丙应用</td><td>&nbsp;</td><td>应用宝</td><td>3.0</td><td>问题三</td></tr>
</table>"""
    result = entities(html)
    assert [(name, developer) for name, developer, *_ in result] == [
        ("甲应用", "甲科技有限公司"),
        ("乙应用", None),
        ("丙应用", None),
    ]


def test_row_without_number_or_name_continues_the_app_above() -> None:
    # A merged cell exported as blanks: the row is the same app in another store.
    html = f"""<table>{HEADER}
<tr><td>1</td><td>甲应用</td><td>甲科技有限公司</td><td>应用宝</td><td>1.0</td><td>问题一</td></tr>
<tr><td></td><td></td><td></td><td>小米应用商店</td><td>1.1</td><td>问题二</td></tr>
<tr><td>2</td><td>乙应用</td><td></td><td>应用宝</td><td>2.0</td><td>问题三</td></tr>
</table>"""
    assert entities(html) == [
        ("甲应用", "甲科技有限公司", "应用宝/小米应用商店", "1.0/1.1", ["问题一", "问题二"]),
        ("乙应用", None, "应用宝", "2.0", ["问题三"]),
    ]


def test_blank_row_naming_another_developer_is_not_merged() -> None:
    html = f"""<table>{HEADER}
<tr><td>1</td><td>甲应用</td><td>甲科技有限公司</td><td>应用宝</td><td>1.0</td><td>问题一</td></tr>
<tr><td></td><td></td><td>丙科技有限公司</td><td>小米应用商店</td><td>1.1</td><td>问题二</td></tr>
</table>"""
    assert [(name, developer) for name, developer, *_ in entities(html)] == [
        ("甲应用", "甲科技有限公司"),
        ("丙科技有限公司", None),
    ]


def test_rowspan_developer_over_two_apps() -> None:
    # One company, two apps: the company cell spans both rows, the apps do not.
    html = f"""<table>{HEADER}
<tr><td>1</td><td>甲应用</td><td rowspan="2">甲科技有限公司</td><td>应用宝</td><td>1.0</td>
<td>问题一</td></tr>
<tr><td>2</td><td>甲应用极速版</td><td>应用宝</td><td>2.0</td><td>问题二</td></tr>
</table>"""
    assert [(n, d) for n, d, *_ in entities(html)] == [
        ("甲应用", "甲科技有限公司"),
        ("甲应用极速版", "甲科技有限公司"),
    ]


def test_columns_mapped_by_header_text_not_position() -> None:
    html = """<table>
<tr><td colspan="7">存在问题的APP名单</td></tr>
<tr><th>序号</th><th>公司名称</th><th>应用名称</th><th>版本号</th><th>应用来源</th>
<th>所涉问题</th><th>发现安全隐患数量</th></tr>
<tr><td>1</td><td>广州某某电子商务有限公司</td><td>某某优选</td><td>3.6.2</td>
<td>华为应用市场</td><td>APP强制、频繁、过度索取权限</td><td>2</td></tr>
</table>"""
    assert entities(html) == [
        (
            "某某优选",
            "广州某某电子商务有限公司",
            "华为应用市场",
            "3.6.2",
            ["APP强制、频繁、过度索取权限"],
        )
    ]


def test_other_header_spellings() -> None:
    html = """<table>
<tr><td>序号</td><td>软件名称</td><td>企业名称</td><td>下架版本</td></tr>
<tr><td>1</td><td>某某清理</td><td>合肥某某网络科技有限公司</td><td>1.8.2</td></tr>
</table>
<table>
<tr><td>序号</td><td>应用名称</td><td>开发运营者</td><td>备案编号</td><td>应用来源</td>
<td>应用版本</td><td>问题项</td></tr>
<tr><td>1</td><td>某某公交</td><td>济南某某出行有限公司</td><td>鲁ICP备00000000号-1A</td>
<td>应用宝</td><td>2.1</td><td>1.违规收集个人信息；2.账号注销难</td></tr>
</table>"""
    assert entities(html) == [
        ("某某清理", "合肥某某网络科技有限公司", None, "1.8.2", []),
        ("某某公交", "济南某某出行有限公司", "应用宝", "2.1", ["违规收集个人信息", "账号注销难"]),
    ]


def test_cells_split_by_br_are_joined() -> None:
    html = f"""<table>{HEADER}
<tr><td>1</td><td>《某某SDK》</td><td>某某科技（杭州）<br>有限公司</td><td>官网</td><td>4.3</td>
<td>超范围收集个人信息<br/>开屏弹窗信息骚扰用户</td></tr>
</table>"""
    (entity,) = extract_entities_html(parse_html(html))
    assert entity.kind == "sdk"
    assert entity.name == "某某SDK"
    assert entity.developer == "某某科技（杭州）有限公司"
    assert entity.issues == ["超范围收集个人信息", "开屏弹窗信息骚扰用户"]


def test_repeated_header_and_empty_rows_are_skipped() -> None:
    html = f"""<table>{HEADER}
<tr><td>1</td><td>甲应用</td><td>甲科技有限公司</td><td>应用宝</td><td>1.0</td><td>问题一</td></tr>
{HEADER}
<tr><td></td><td></td><td></td><td></td><td></td><td></td></tr>
</table>"""
    assert [n for n, *_ in entities(html)] == ["甲应用"]


def test_layout_table_around_data_table() -> None:
    html = f"""<table><tr><td><p>正文</p><table>{HEADER}
<tr><td>1</td><td>甲应用</td><td>甲科技有限公司</td><td>应用宝</td><td>1.0</td><td>问题</td></tr>
</table></td></tr></table>"""
    assert [n for n, *_ in entities(html)] == ["甲应用"]


def test_table_without_app_header_is_ignored() -> None:
    html = "<table><tr><td>联系人</td><td>电话</td></tr><tr><td>张三</td><td>123</td></tr></table>"
    assert entities(html) == []


def test_grid_expands_rowspan_and_colspan() -> None:
    soup = parse_html(
        "<table><tr><td rowspan='2'>A</td><td colspan='2'>B</td></tr>"
        "<tr><td>C</td><td>D</td></tr></table>"
    )
    grid = table_grid(soup.find("table"))  # type: ignore[arg-type]
    assert [[c.text if c else None for c in row] for row in grid] == [
        ["A", "B", "B"],
        ["A", "C", "D"],
    ]
    assert grid[1][0] is not None and grid[1][0].spanned
    assert grid[0][2] is not None and not grid[0][2].spanned


def test_html_to_text_keeps_inline_elements_on_one_line() -> None:
    soup = parse_html(
        "<html><head><title>T</title><style>p{}</style></head><body>"
        "<p>1. <span>抖音</span>（<b>北京微播视界科技有限公司</b>）</p><p>第二段<br>第三行</p>"
        "<script>var x = 1;</script></body></html>"
    )
    assert html_to_text(soup).splitlines() == [
        "T",
        "1. 抖音（北京微播视界科技有限公司）",
        "第二段",
        "第三行",
    ]


def test_html_title_prefers_heading_then_title_without_site_name() -> None:
    assert html_title(parse_html("<title>x_工业和信息化部</title><h1>关于APP的通报</h1>")) == (
        "关于APP的通报"
    )
    assert html_title(parse_html("<title>关于APP的通报_工业和信息化部</title><p>x</p>")) == (
        "关于APP的通报"
    )
    assert html_title(parse_html("<title>关于APP的通报 - 广东省通信管理局</title>")) == (
        "关于APP的通报"
    )


def test_name_header_mentioning_version() -> None:
    html = """<table>
<tr><td>序号</td><td>应用名称（版本号）</td><td>开发者</td><td>版本</td></tr>
<tr><td>1</td><td>甲应用</td><td>甲科技有限公司</td><td>1.0</td></tr>
</table>"""
    assert entities(html) == [("甲应用", "甲科技有限公司", None, "1.0", [])]


def test_ordered_list_items_are_numbered_in_the_text() -> None:
    soup = parse_html("<ol><li>天天看</li><li>日日新</li></ol><ul><li>其他</li></ul>")
    assert html_to_text(soup) == "1. 天天看\n2. 日日新\n其他"


def test_ruby_readings_and_bracketed_pinyin_are_not_text() -> None:
    html = f"""<table>{HEADER}
<tr><td>1</td><td><ruby>星<rp>(</rp><rt>xīng</rt><rp>)</rp></ruby>云相册</td>
<td>上海星云影像科技有限公司</td><td>华为应用市场</td><td>4.0.8</td><td>违(wéi)规收集个人信息</td></tr>
<tr><td>2</td><td>Keep (Android)</td><td>北京卡路里信息技术有限公司&amp;nbsp;</td>
<td>小米应用商店</td><td>8.1.0</td><td>账号注销难</td></tr>
</table>"""
    assert entities(html) == [
        ("星云相册", "上海星云影像科技有限公司", "华为应用市场", "4.0.8", ["违规收集个人信息"]),
        ("Keep (Android)", "北京卡路里信息技术有限公司", "小米应用商店", "8.1.0", ["账号注销难"]),
    ]


def test_site_navigation_and_widgets_are_not_page_text() -> None:
    soup = parse_html(
        "<div>首页 &gt; 新闻中心 &gt; 正文</div><h1>关于APP的通报</h1>"
        "<div>2023-07-14　来源：工业和信息化部　【字体：大 中 小】 打印本页</div>"
        "<div>分享到：微信 微博</div><p>正文第一段。</p>"
    )
    assert html_to_text(soup) == "关于APP的通报\n2023-07-14 来源：工业和信息化部\n正文第一段。"


def test_rows_that_lost_their_rowspan_shift_back() -> None:
    html = f"""<table>{HEADER}
<tr><td>1</td><td>草原牧歌</td><td>呼和浩特草原牧歌文化传媒有限公司</td><td>华为应用市场</td>
<td>2.2.0</td><td>违规收集个人信息</td></tr>
<tr><td>2</td><td>牧歌直播</td><td>小米应用商店</td><td>V1.4.7</td><td>违规使用个人信息</td></tr>
<tr><td>3</td><td>鄂尔多斯羊绒</td><td></td><td>vivo应用商店</td><td>5.1</td><td>账号注销难</td></tr>
</table>"""
    assert [(name, developer, store) for name, developer, store, *_ in entities(html)] == [
        ("草原牧歌", "呼和浩特草原牧歌文化传媒有限公司", "华为应用市场"),
        ("牧歌直播", "呼和浩特草原牧歌文化传媒有限公司", "小米应用商店"),
        ("鄂尔多斯羊绒", None, "vivo应用商店"),
    ]


def test_developer_merged_over_several_apps() -> None:
    html = f"""<table>{HEADER}
<tr><td>1</td><td>冰城公交</td><td rowspan="2">哈尔滨冰城数字科技有限公司</td><td>华为应用市场</td>
<td>3.1.0</td><td>违规收集个人信息</td></tr>
<tr><td>2</td><td>冰城停车</td><td>小米应用商店</td><td>2.0.4</td><td>账号注销难</td></tr>
<tr><td>3</td><td>鹤岗煤城</td><td></td><td>应用宝</td><td>1.0.3</td><td>账号注销难</td></tr>
</table>"""
    assert [(name, developer) for name, developer, *_ in entities(html)] == [
        ("冰城公交", "哈尔滨冰城数字科技有限公司"),
        ("冰城停车", "哈尔滨冰城数字科技有限公司"),
        ("鹤岗煤城", None),
    ]


def test_blank_cells_keep_their_column_in_the_page_text() -> None:
    soup = parse_html(
        "<table>\n<tr>\n<td>1</td>\n<td></td> <td>甲应用</td><td></td></tr>"
        "<tr><td></td><td></td><td>华为应用市场</td><td>4.2</td></tr></table><p>正文</p>"
    )
    assert html_to_text(soup) == "1\t\t甲应用\n\t\t华为应用市场\t4.2\n正文"


def test_a_table_without_header_row_is_read_by_the_look_of_its_columns() -> None:
    html = """<table>
<tr><td>1</td><td>银川好停车</td><td>银川好停车智能科技有限公司</td><td>华为应用市场</td></tr>
<tr><td>2</td><td>贺兰山葡萄酒</td><td></td><td>应用宝</td></tr>
</table>"""
    assert [(name, developer, store) for name, developer, store, *_ in entities(html)] == [
        ("银川好停车", "银川好停车智能科技有限公司", "华为应用市场"),
        ("贺兰山葡萄酒", None, "应用宝"),
    ]


def test_characters_a_reprint_site_hides_in_the_text_are_not_read() -> None:
    html = (
        '<p>抖<span style="display: none">x9k</span>音<font style="font-size:0px">zz</font>'
        '好<span style="font-size:0.9em">看</span></p><div style="display:none">附件名单</div>'
    )
    assert html_to_text(parse_html(html)) == "抖音好看\n附件名单"


def test_justified_names_lose_their_spreading_spaces() -> None:
    html = f"""<table>{HEADER}
<tr><td>1</td><td>快　手</td><td>北京快手科技 有限公司</td><td>应用宝</td><td>1.0</td>
<td>账号注销难</td></tr>
<tr><td>2</td><td>360 浏览器</td><td>Beijing Qihoo Technology Co., Ltd.</td><td>应用宝</td>
<td>1.0</td><td>账号注销难</td></tr>
</table>"""
    assert [(name, developer) for name, developer, *_ in entities(html)] == [
        ("快手", "北京快手科技有限公司"),
        ("360 浏览器", "Beijing Qihoo Technology Co., Ltd."),
    ]


def test_title_and_note_rows_across_the_table_are_not_apps() -> None:
    html = f"""<table>
<tr><td colspan="6">附件：存在问题的APP名单（第一批）</td></tr>{HEADER}
<tr><td>1</td><td>甲应用</td><td>甲科技有限公司</td><td>应用宝</td><td>1.0</td><td>账号注销难</td></tr>
<tr><td colspan="6">注：以上排名不分先后，版本号以检测时为准</td></tr>
</table>
<table>
<tr><td colspan="4">附件：存在问题的APP名单（第二批）</td></tr>
<tr><td>1</td><td>乙应用</td><td>乙科技有限公司</td><td>应用宝</td></tr>
<tr><td>2</td><td>丙应用</td><td>丙科技有限公司</td><td>华为应用市场</td></tr>
</table>"""
    assert [(name, developer) for name, developer, *_ in entities(html)] == [
        ("甲应用", "甲科技有限公司"),
        ("乙应用", "乙科技有限公司"),
        ("丙应用", "丙科技有限公司"),
    ]


def test_a_table_drawn_with_divs_is_read_as_rows_of_cells() -> None:
    page = parse_html(
        "<div class='grid'>"
        "<div class='row'><div>序号</div><div>APP名称</div><div>开发者</div><div>版本</div></div>"
        "<div class='row'><div>1</div><div>江城美食</div><div>武汉江城美食网络有限公司</div>"
        "<div>1.2.7</div></div>"
        "<div class='row'><div>2</div><div>荆楚阅读</div><div>荆州荆楚文化传媒有限公司</div>"
        "<div>—</div></div></div>"
    )
    assert html_to_text(page).splitlines() == [
        "序号\tAPP名称\t开发者\t版本",
        "1\t江城美食\t武汉江城美食网络有限公司\t1.2.7",
        "2\t荆楚阅读\t荆州荆楚文化传媒有限公司\t—",
    ]


def test_paragraphs_made_of_spans_stay_text() -> None:
    page = parse_html(
        "<p><span>1. QQ（</span><span>深圳市腾讯计算机系统有限公司</span><span>）</span></p>"
        "<p><span>2. 微信（</span><span>深圳市腾讯计算机系统有限公司</span><span>）</span></p>"
    )
    assert html_to_text(page).splitlines() == [
        "1. QQ（深圳市腾讯计算机系统有限公司）",
        "2. 微信（深圳市腾讯计算机系统有限公司）",
    ]
