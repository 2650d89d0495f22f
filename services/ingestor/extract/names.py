"""Entity names as a careful reader writes them down.

Full-width letters, digits and spaces become ASCII (``ＱＱ音乐`` -> ``QQ音乐``); Chinese
punctuation (``（深圳）``, ``、``) stays as the notice wrote it. Versions are folded completely
(``Ｖ５．２`` -> ``V5.2``).
"""

from __future__ import annotations

import re
import unicodedata

from shared.events import Entity

from .lazy_re import lazy
from .merge import entity_kind
from .textutil import fold_width

# Full-width forms folded inside names: letters, digits, and the punctuation that appears in
# Latin brand and company names (". - & + _ / ' ,"); brackets and Chinese commas stay.
_NAME_FOLD = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)}  # digits
_NAME_FOLD.update({code: code - 0xFEE0 for code in range(0xFF21, 0xFF3B)})  # A-Z
_NAME_FOLD.update({code: code - 0xFEE0 for code in range(0xFF41, 0xFF5B)})  # a-z
_NAME_FOLD.update({ord(ch): ord(ch) - 0xFEE0 for ch in "．－＆＋＿／＇＠＃"})
_NAME_FOLD[0x3000] = 0x20
_NAME_FOLD[0x00A0] = 0x20


def normalize_name(text: str | None) -> str | None:
    if text is None:
        return None
    folded = text.translate(_NAME_FOLD)
    # "Melody Box Co., Ltd" keeps its comma; a full-width comma between Latin words is one too.
    folded = re.sub(r"(?<=[A-Za-z.])，\s*(?=[A-Za-z])", ", ", folded)
    folded = re.sub(r"\s+", " ", folded).strip()
    return folded or None


def normalize_version(text: str | None) -> str | None:
    if text is None:
        return None
    folded = re.sub(r"\s+", " ", fold_width(unicodedata.normalize("NFKC", text))).strip()
    folded = re.sub(r"(?<=\d) (?=\d)", "", folded)  # "V3.0.16(07 42)": a gap OCR read in
    return folded or None


def normalize_entity(entity: Entity) -> Entity:
    name = normalize_name(entity.name) or entity.name
    return entity.model_copy(
        update={
            "name": name,
            "developer": normalize_name(entity.developer),
            "store": normalize_name(entity.store),
            "version": normalize_version(entity.version),
        }
    )


_TITLE_LIST = lazy(
    r"(?:关于|關於|对|對|发现|發現|通报|通報|点名|點名)\s*[:：]?\s*"
    r"(?P<names>[^，,。；;：:]{1,60}?)\s*等\s*(?:\d{1,4}|[一二三四五六七八九十百]{1,6})\s*款"
)
_NOT_A_NAME = lazy(r"App|APP|应用|移动|违法|违规|个人信息|问题|存在|部分|多款|企业|公司$")


def title_names(title: str) -> list[Entity]:
    """The apps a title or sentence names before "等N款" ("关于抖音、快手等33款App…")."""
    m = _TITLE_LIST.search(title)
    if m is None:
        return []
    names: list[Entity] = []
    for raw in re.split(r"[、，,]", m["names"]):
        name = raw.strip().strip("“”\"'‘’「」《》")
        if not name or len(name) > 20 or _NOT_A_NAME.search(name):
            continue
        names.append(Entity(kind=entity_kind(name), name=name))
    return names
