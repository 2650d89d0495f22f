"""One notice file (bytes) -> a ``NoticeEvent``. Pure: no I/O besides the bytes given."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date

from shared.errors import InputError
from shared.events import Entity, NoticeEvent

from .dates import find_published_on
from .deadline import extract_deadline
from .decode import decode_bytes, detect_format, format_from_name
from .entities_en import extract_entities_en
from .entities_html import extract_entities_html, html_title, html_to_text, parse_html
from .entities_text import extract_entities_text
from .kind import notice_kind
from .merge import merge_entities
from .regulators import detect_regulator
from .textutil import cjk_ratio, clean_line, fold_width, nfkc, nonempty_lines, to_simplified

_TITLE_HINT = re.compile(r"通报|通知|公告|名单|\bapps?\b", re.I)
_BATCH = re.compile(
    r"(?:(?P<year>\d{4})\s*年\s*)?第\s*(?P<n>\d{1,3}|[一二三四五六七八九十]{1,3})\s*批"
    r"(?:\s*[,，、;；]?\s*[(（]?\s*总第\s*(?P<total>\d{1,4})\s*批\s*[)）]?)?"
)


def _title_from_text(lines: list[str]) -> str:
    """Among the first eight lines: a "关于…通报" line, else one that names a 通报/通知/list of
    apps, else line one."""
    candidates: list[str] = []
    for line in lines[:8]:
        line = re.sub(r"^(?:标题|題目|题目|Title)\s*[:：]\s*", "", line, flags=re.I)
        line = re.sub(r"^(?:【[^】]{1,8}】|\[[^\]]{1,12}\])\s*", "", line)  # 【转载】 and such
        simple = to_simplified(line)
        if _TITLE_HINT.search(simple) and len(line) <= 150 and "。" not in line:
            if "关于" in simple:
                return line
            candidates.append(line)
    if candidates:
        return candidates[0]
    return lines[0][:150] if lines else ""


def find_batch(title: str, text: str) -> str | None:
    """ "2021年第8批（总第17批）", "2024年第6批", "第3批" - from the title, else the first lines."""
    for source in (title, "\n".join(nonempty_lines(text)[:6])):
        m = _BATCH.search(fold_width(source))
        if m is None:
            continue
        label = f"{m['year']}年第{m['n']}批" if m["year"] else f"第{m['n']}批"
        if m["total"]:
            label += f"（总第{m['total']}批）"
        return label
    return None


def _normalize(text: str) -> str:
    """NFKC, simplified script, without whitespace and punctuation: the identity of a title."""
    text = to_simplified(nfkc(text))
    return "".join(
        ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] not in ("P", "S")
    ).lower()


def notice_identity(regulator_code: str, published_on: date, batch: str | None, title: str) -> str:
    """Stable id, the same for every republication of one notice.

    ``<code>-<yyyymmdd>-<hash10>``: the hash covers the regulator and the batch when there is
    one (MIIT and provinces number their batches), else the regulator, date and title.
    """
    if batch:
        basis = f"{regulator_code}|batch|{_normalize(batch)}"
    else:
        basis = f"{regulator_code}|{published_on:%Y-%m-%d}|{_normalize(title)}"
    digest = hashlib.sha256(basis.encode("utf-8")).hexdigest()[:10]
    return f"{regulator_code.lower()}-{published_on:%Y%m%d}-{digest}"


def parse_notice(
    data: bytes, *, name: str = "<input>", source_url: str | None = None
) -> NoticeEvent:
    """Decode and read one notice. Raises InputError (message starts with ``name``)."""
    format_from_name(name)  # refuse .pdf/.xlsx/... before trying to decode them
    text = decode_bytes(data, name=name)
    fmt = detect_format(text, name)
    table_entities: list[Entity] = []
    title: str | None = None
    if fmt == "html":
        soup = parse_html(text)
        title = html_title(soup)
        table_entities = extract_entities_html(soup)
        plain = html_to_text(soup)
    else:
        plain = text
    lines = nonempty_lines(plain)
    if not title:
        title = _title_from_text(lines)
    title = clean_line(title)
    simple = to_simplified(plain)
    simple_title = to_simplified(title)
    language = "zh" if cjk_ratio(plain) >= 0.3 else "en"

    try:
        regulator = detect_regulator(simple, title=simple_title)
        published_on = find_published_on(simple)
    except InputError as error:
        raise InputError(f"{name}: {error}") from None

    batch = find_batch(simple_title, simple)
    deadline = extract_deadline(simple, published_on)
    kind = notice_kind(simple, simple_title, has_deadline=deadline is not None)
    if kind == "removal":
        deadline = None

    entities = table_entities
    if not entities:
        entities = extract_entities_en(plain) if language == "en" else []
    if not entities:
        entities = extract_entities_text(plain)
    entities = merge_entities(entities)
    if not entities:
        raise InputError(f"{name}: no apps, SDKs or companies found in the notice")

    return NoticeEvent(
        notice_id=notice_identity(regulator.code, published_on, batch, title),
        regulator=regulator,
        kind=kind,
        title=title,
        published_on=published_on,
        batch=batch,
        deadline=deadline,
        entities=entities,
        source_url=source_url,
        language=language,
    )
