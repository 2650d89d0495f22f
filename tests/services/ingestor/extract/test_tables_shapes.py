"""One list of apps written in many table shapes (one cell per line with and without numbers,
any column order, dropped blank cells and placeholders, tab rows that lost a merged developer
cell, single-space rows, rows without a header): every shape must give back the same apps."""

from __future__ import annotations

import itertools
import random

import pytest

from services.ingestor.extract.entities_text import extract_entities_text

APPS = [
    ("云朵阅读", "北京云朵科技有限公司"),
    ("晴空相机", "晴空（杭州）影像有限公司"),
    ("权限管家", "成都权限网络工作室"),
    ("Trip Helper", "Hangzhou Tripmate Technology Co.,Ltd"),
    ("12306", "中国铁路信息科技集团有限公司"),
    ("e家政", "武汉e家政服务有限公司"),
    ("手机管家Pro", "Shenzhen Guanjia Soft Co., Ltd."),
    ("抖音", "北京微播视界科技有限公司"),
    ("星河视频", "深圳星河传媒股份有限公司"),
    ("橘子打车", "橘子出行科技有限公司"),
]
STORES = ["华为应用市场", "小米应用商店", "应用宝", "OPPO软件商店", "App Store", "华为", "vivo"]
VERSIONS = ["1.0.2", "V5.5.11(0839)RLC", "7.2.3/7.3.1", "12.6.0", "3.0.0.1", "2.2"]
ISSUES = ["违规收集个人信息", "APP强制、频繁、过度索取权限", "账号注销难", "开屏弹窗信息骚扰用户"]
LABELS = {
    "seq": ["序号", "编号"],
    "name": ["应用名称", "APP名称", "软件名称", "产品名称", "应 用 名 称"],
    "developer": ["应用开发者", "开发运营者", "运营者", "企业名称", "公司名称", "主办单位"],
    "store": ["应用来源", "来源", "下载渠道", "应用商店"],
    "version": ["版本", "版本号", "应用版本"],
    "issues": ["所涉问题", "问题", "问题项", "存在问题"],
}
Row = dict[str, str | list[str] | None]


def listing(rng: random.Random) -> list[Row]:
    rows: list[Row] = []
    for name, developer in rng.sample(APPS, rng.randint(2, 5)):
        rows.append(
            {
                "name": name,
                "developer": developer if rng.random() > 0.2 else None,
                "store": rng.choice(STORES) if rng.random() > 0.15 else None,
                "version": rng.choice(VERSIONS) if rng.random() > 0.15 else None,
                "issues": rng.sample(ISSUES, rng.choice([1, 2])),
            }
        )
    return rows


def columns(rng: random.Random) -> list[str]:
    order = ["name", "developer", "store", "version", "issues"]
    if rng.random() < 0.4:
        order = ["developer", "name", "store", "version", "issues"]
    elif rng.random() < 0.3:
        rng.shuffle(order)
    return (["seq"] if rng.random() < 0.6 else []) + order


def one_cell_per_line(rng: random.Random, rows: list[Row], order: list[str]) -> list[str]:
    lines = [rng.choice(LABELS[column]) for column in order]
    for number, row in enumerate(rows, 1):
        for column in order:
            value = str(number) if column == "seq" else row[column]
            if isinstance(value, list):
                lines.extend(value)  # an issue cell over several lines
            elif value is not None:
                lines.append(value)
            elif rng.random() < 0.3:
                lines.append(rng.choice(["—", "/", "\\", "-", "无"]))
    return lines


def separated(rng: random.Random, rows: list[Row], order: list[str], sep: str) -> list[str]:
    lines = [sep.join(rng.choice(LABELS[column]).replace(" ", "") for column in order)]
    for number, row in enumerate(rows, 1):
        cells = []
        for column in order:
            value = str(number) if column == "seq" else row[column]
            if isinstance(value, list):
                value = "；".join(value)
            if value is None and sep == "\t":
                value = rng.choice(["", "—", "/", "-"])
            if value is not None:
                cells.append(value)
        lines.append(sep.join(cells))
    return lines


def merged_developers(rng: random.Random, rows: list[Row]) -> list[str]:
    """Tab rows copied from a table whose developer cell spans several apps: the rows under
    the first lose that cell."""
    for above, row in itertools.pairwise(rows):
        if above["developer"] and rng.random() < 0.5:
            row["developer"] = above["developer"]
    order = ["seq", "name", "developer", "store", "version", "issues"]
    lines = ["\t".join(rng.choice(LABELS[column]).replace(" ", "") for column in order)]
    previous: object = object()
    for number, row in enumerate(rows, 1):
        cells = [str(number)]
        for column in order[1:]:
            value = row[column]
            if column == "developer" and value is not None and value == previous:
                continue
            cells.append("；".join(value) if isinstance(value, list) else value or "")
        previous = row["developer"]
        lines.append("\t".join(cells))
    return lines


SHAPES = ["vertical", "tabs", "single-spaces", "merged-shift", "headerless"]


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_gives_back_the_same_apps(shape: str) -> None:
    rng = random.Random(shape)
    for _ in range(40):
        rows = listing(rng)
        order = columns(rng)
        if shape == "vertical":
            table = one_cell_per_line(rng, rows, order)
        elif shape == "tabs":
            table = separated(rng, rows, order, "\t")
        elif shape == "single-spaces":
            table = separated(rng, rows, order, " ")
        elif shape == "merged-shift":
            table = merged_developers(rng, rows)
        else:
            table = separated(rng, rows, ["seq", "name", "developer", "store", "version"], "\t")
            table = table[1:]
        text = "\n".join(["经检测，以下APP存在问题，现予通报。", *table, "某某省通信管理局"])
        got = [(e.name, e.developer, e.store, e.version) for e in extract_entities_text(text)]
        want = [(r["name"], r["developer"], r["store"], r["version"]) for r in rows]
        assert got == want, "\n".join(table)
