"""One notice file (bytes) -> a ``NoticeEvent``. Pure: no I/O besides the bytes given."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.errors import InputError
from shared.events import Entity, NoticeEvent

from .dates import Dating, date_notice
from .deadline import extract_deadline
from .entities_prose import extract_entities_prose
from .entities_records import extract_entities_records
from .entities_text import extract_entities_text
from .followup import declared_count, find_follows_up
from .formats import binary_format
from .kind import notice_kind
from .lazy_re import lazy
from .merge import add_unlisted, merge_entities
from .names import normalize_entity, title_names
from .reading import ReadNotice, read_notice, with_rows_elsewhere
from .regulators import CENTRAL, PROVINCES, identify_issuer
from .textutil import (
    Script,
    cjk_ratio,
    clean_line,
    cn_number,
    fold_width,
    nfkc,
    nonempty_lines,
    to_simplified,
)

_CHINA = ZoneInfo("Asia/Shanghai")
_TITLE_HINT = lazy(r"通报|通知|公告|名单|\bapps?\b", re.I)
_BATCH = lazy(
    r"(?:(?P<year>\d{4})\s*年\s*(?:度\s*)?)?第\s*(?P<n>\d{1,3}|[一二三四五六七八九十]{1,3})\s*批"
    r"(?:\s*[,，、;；]?\s*[(（]?\s*总第\s*(?P<total>\d{1,4}|[一二三四五六七八九十百]{1,4})\s*批"
    r"\s*[)）]?)?"
)
_JUNK = lazy(r"【[^】]{0,12}】|\[[^\]]{0,12}\]|[（(](?:全文|转|轉|转载|轉載|附名单|附名單)[)）]")
_INCOMPLETE_HINT = lazy(
    r"其[余他][^。\n]{0,12}略|名单略|（略）|\(略\)|部分(?:App|APP|应用)?名单|部分问题"
)
_ATTACHMENT = lazy(r"附件\s*[:：]?[^\n。]{0,40}?(?:名单|清单)|见附件|详见附件")


def _title_from_text(lines: list[str]) -> str:
    """Among the first eight lines: a "关于…通报" line, else one that names a 通报/通知/list of
    apps, else line one."""
    candidates: list[str] = []
    for line in lines[:8]:
        line = re.sub(r"^(?:标题|題目|题目|Title)\s*[:：]\s*", "", line, flags=re.I)
        line = re.sub(r"^#+\s*", "", line)  # Markdown heading
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
        label = f"{m['year']}年第{cn_number(m['n'])}批" if m["year"] else f"第{cn_number(m['n'])}批"
        if m["total"]:
            label += f"（总第{cn_number(m['total'])}批）"
        return label
    return None


def _normalize(text: str) -> str:
    """NFKC, simplified script, without whitespace and punctuation: the identity of a title."""
    text = to_simplified(nfkc(text))
    return "".join(
        ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] not in ("P", "S")
    ).lower()


_REGULATOR_NAMES = lazy(
    "|".join(
        [
            *CENTRAL.values(),
            *(f"{full}通信管理局" for _code, full in PROVINCES.values()),
            r"国家网信办|中央网信办|网信办|工信部|信息通信管理局|市场监管总局",
            r"国家网络安全通报中心|国家计算机病毒应急处理中心|中华人民共和国",
        ]
    )
)
_NAMED_COUNT = lazy(r"(?P<lead>[^等]{1,40}?)等\s*(?P<n>\d{1,4}|[一二三四五六七八九十百]{1,6})\s*款")


_TITLE_COUNT = lazy(
    r"(?P<n>\d{1,4}|[一二三四五六七八九十百]{1,6})\s*款"
    r"|\b(?P<en>\d{1,4})\s+(?:mobile\s+)?(?:apps|applications)\b",
    re.I,
)
_TITLE_REMOVAL = lazy(r"下架|\b(?:remov\w*|pull\w*|take\w* down|delist\w*)", re.I)


def title_key(title: str) -> str:
    """What stays the same when a title is reworded by a reprint.

    A title that counts the apps ("国家互联网信息办公室关于云游宝等12款App…的通报", a news
    site's "网信办通报：云游宝等12款App…", "【转载】…（全文）", "Regulator names 12 apps") gives
    the count and whether apps are removed: ``list|12``; with the regulator and the date that
    tells one notice from another. Other titles give the normalized title without junk
    annotations, site names, the regulator's name and filler words.
    """
    text = to_simplified(nfkc(title))
    text = _JUNK.sub("", text)
    text = re.split(r"\s*(?:_|\||｜| - | — )\s*", text)[0]
    text = _REGULATOR_NAMES.sub("", text)
    counted = _TITLE_COUNT.search(text)
    if counted:
        what = "removal" if _TITLE_REMOVAL.search(text) else "list"
        return f"{what}|{cn_number(counted['n'] or counted['en'])}"
    text = re.sub(r"关于|的通报|的通知|的公告|情况|通报|通知|公告", "", text)
    return _normalize(text)


def batch_key(batch: str) -> str:
    m = re.search(r"(?:(\d{4})年)?第(\d+)批", batch)
    if m and m.group(1):
        return f"{m.group(1)}-{m.group(2)}"
    total = re.search(r"总第(\d+)批", batch)
    if total:
        return f"total-{total.group(1)}"
    return _normalize(batch)


def notice_identity(regulator_code: str, dated: date, batch: str | None, title: str) -> str:
    """Stable id, the same for every republication of one notice.

    ``<code>-<yyyymmdd>-<hash10>``, ``dated`` being the notice's own date (its signature date
    when it has one, so a reprint posted a day later keeps the id). The hash covers the
    regulator and the batch when there is one (MIIT and provinces number their batches), else
    the regulator, the date and what stays of the title when reprints reword it
    (``title_key``): simplified and traditional script, full- and half-width forms, 【转载】 and
    site names all hash alike.
    """
    if batch:
        basis = f"{regulator_code}|batch|{batch_key(batch)}"
    else:
        basis = f"{regulator_code}|{dated:%Y-%m-%d}|{title_key(title)}"
    digest = hashlib.sha256(basis.encode("utf-8")).hexdigest()[:10]
    return f"{regulator_code.lower()}-{dated:%Y%m%d}-{digest}"


def _restore(entity: Entity, script: Script) -> Entity:
    """An entity in the script the notice was written in."""

    def back(value: str | None) -> str | None:
        return None if value is None else script.restore(value)

    return entity.model_copy(
        update={
            "name": script.restore(entity.name),
            "developer": back(entity.developer),
            "store": back(entity.store),
            "issues": [script.restore(issue) for issue in entity.issues],
        }
    )


_FROM = {
    "text": "the text",
    "table": "a table",
    "attachment": "an attachment",
    "image": "a picture",
}


def _read_from(entities: list[Entity]) -> str:
    """ "28 read from the text", "33 read (5 from the text, 28 from a picture)"."""
    counts = Counter(entity.source or "text" for entity in entities)
    if len(counts) <= 1:
        return f"{len(entities)} read from {_FROM[next(iter(counts), 'text')]}"
    parts = ", ".join(f"{count} from {_FROM[source]}" for source, count in counts.items())
    return f"{len(entities)} read ({parts})"


def _completeness(
    entities: list[Entity], *, listed: bool, declared: int | None, read: ReadNotice, text: str
) -> str | None:
    """Why the entity list is incomplete, in words a subscriber reads ("names 105 apps; 28 read
    from the text; the rest are in an image that could not be read"), or None when it is as
    long as the notice says."""
    if read.has_images:
        rest = "the rest are in an image that could not be read"
    elif _ATTACHMENT.search(text):
        rest = "the rest are in an attachment that was not given"
    else:
        rest = "the notice does not name the rest"
    read_from = _read_from(entities)
    if declared is not None and declared > len(entities):
        return f"names {declared} apps; {read_from}; {rest}"
    if not listed:
        if read.has_images:
            return "the list is an image; only the apps named in the text are given"
        if _ATTACHMENT.search(text):
            return "the list is in an attachment that was not given"
        return "the notice lists no apps; only the apps named in its title are given"
    if _INCOMPLETE_HINT.search(text):
        return "the notice lists only part of the apps"
    return None


def parse_notice(
    data: bytes,
    *,
    name: str = "<input>",
    source_url: str | None = None,
    published_on: date | None = None,
    attachments: Sequence[tuple[str, bytes]] = (),
    fallback_published_on: date | None = None,
    received_on: date | None = None,
) -> NoticeEvent:
    """Decode and read one notice. Raises InputError (message starts with ``name``).

    ``attachments`` are the files the notice links to or shows (``附件`` .xlsx/.pdf/.docx, the
    page's pictures, by the name or ``src`` the page gives them): their rows join the notice's
    list (``reading.read_notice``); one that cannot be read is noted, not fatal.

    ``published_on`` overrides the publication date read from the notice (for articles that do
    not say when they were published, e.g. a news dateline without a year);
    ``fallback_published_on`` (a feed item's date) is used only when the notice gives none.
    A list given on its own (.xlsx, .pdf, a picture) that gives no date at all is dated
    ``received_on`` (default: today in China), with ``published_on_estimated`` and a note;
    any other notice without a date is refused with an error naming ``--published-on``.
    """
    read = read_notice(data, name, attachments=attachments)
    simple = read.plain
    lines = nonempty_lines(simple)
    simple_title = clean_line(read.title or _title_from_text(lines))
    title = read.script.restore(simple_title)
    language = "zh" if cjk_ratio(simple) >= 0.3 else "en"

    regulator, issuer_note = identify_issuer(simple, title=simple_title)
    traditional = read.script.original is not read.script.simplified
    try:
        dating = date_notice(
            simple, given=published_on, fallback=fallback_published_on, reprint=traditional
        )
    except InputError as error:
        if not _is_list_file(data, name, read):
            raise InputError(f"{name}: {error}") from None
        # A list on its own (a spreadsheet, a PDF table, a picture of a table) rarely carries
        # a date: it is dated the day it was received, marked as an estimate.
        day = received_on or datetime.now(_CHINA).date()
        dating = Dating(
            published_on=day,
            estimated=True,
            notes=(
                f"the file gives no date: dated {day.isoformat()}, the day it was read "
                "(give the notice's date with --published-on)",
            ),
        )
    published_on = dating.published_on
    notes = [*dating.notes, *([issuer_note] if issuer_note else [])]

    batch = find_batch(simple_title, simple)
    deadline = extract_deadline(simple, published_on)
    kind = notice_kind(simple, simple_title, has_deadline=deadline is not None)
    if kind == "removal":
        deadline = None

    declared = declared_count(simple_title, simple, english=language == "en")
    entities = _named_entities(read, simple, simple_title, declared, english=language == "en")
    entities = with_rows_elsewhere(entities, read.elsewhere)
    listed = bool(entities)
    if not entities:
        entities = title_names(simple_title) or title_names(_lead_sentence(simple))
    entities = merge_entities(
        [normalize_entity(_restore(entity, read.script)) for entity in entities]
    )
    reason = _completeness(entities, listed=listed, declared=declared, read=read, text=simple)
    if not entities and not (declared or read.has_images or _ATTACHMENT.search(simple)):
        # Nothing listed, and nothing says the list is elsewhere (an image, an attachment).
        raise InputError(f"{name}: no apps, SDKs or companies found in the notice")
    dated = dating.own or published_on
    return NoticeEvent(
        notice_id=notice_identity(regulator.code, dated, batch, title),
        regulator=regulator,
        kind=kind,
        title=title,
        published_on=published_on,
        batch=batch,
        deadline=deadline,
        entities=entities,
        source_url=source_url,
        language=language,
        follows_up=find_follows_up(simple, regulator.code),
        list_incomplete=reason is not None,
        list_incomplete_reason=reason,
        declared_count=declared,
        published_on_estimated=dating.estimated,
        notes=[*notes, *read.notes],
    )


def _is_list_file(data: bytes, name: str, read: ReadNotice) -> bool:
    """A spreadsheet, PDF or picture given as the notice, from which rows were read."""
    found = binary_format(data, name)
    # the formats whose rows are an attachment's or a picture's when read as the notice
    return found is not None and found.table_source != "table" and bool(read.table_entities)


def _named_entities(
    read: ReadNotice, text: str, title: str, declared: int | None, *, english: bool
) -> list[Entity]:
    """Every entity the notice names: its tables (or, without one, its list lines), then the
    apps its prose and headline name that those did not list. English news is read by its
    own rules."""
    listed = list(read.table_entities)
    if english:  # its module (and its patterns) loads with the first English notice
        from .entities_en import extract_entities_en

        return listed or extract_entities_en(text)
    if not listed:
        listed = extract_entities_records(text) or extract_entities_text(text)
    if listed and (declared is None or len(listed) >= declared):
        entities = listed  # the list is complete: what the prose and headline name is in it
    else:
        entities = add_unlisted(
            listed, extract_entities_prose(text) + extract_entities_prose(title)
        )
    for entity in entities:
        if entity.source is None:
            entity.source = "text"
    return entities


def _lead_sentence(text: str) -> str:
    """The first sentence that says "X、Y等N款App": where a notice without a list names some."""
    for sentence in re.split(r"[。\n]", text):
        if _NAMED_COUNT.search(fold_width(sentence)):
            return sentence
    return ""
