"""The matching rules: does a watch match an entity, with what score, and why.

App watches (entity kinds ``app``, ``sdk``, ``mini_program``); the first rule that holds wins:

=====  =====================================================================================
1.0    equal names after :func:`~.names.normalize` (width, case, spaces, punctuation);
       trailing platform/version/operator notes are ignored (``微信（安卓版）`` = ``微信``)
0.95   equal after traditional -> simplified conversion (``騰訊視頻`` = ``腾讯视频``)
 --    *two different apps of the directory never match* (``Momo`` / ``脉脉``, whose pinyin
       reading is also momo; ``Taobao Live`` / ``Taobao Deals``)
0.95   pinyin of the Chinese side equals the romanized other side (``Douyin``, ``dǒu yīn``,
       ``dou3yin1`` = ``抖音``), between names the directory does not know or names of one
       app (``Weibo`` is not the homophone ``微播``); two Chinese names never match by sound
0.95   both are names of the same app in the directory (``WeChat`` = ``微信`` = ``Weixin``)
0.8    one typo in a long Latin name (:mod:`.fuzzy`): ``Tencent Vidoe`` = ``Tencent Video``
       = ``腾讯视频``
0.85   entities read by OCR (``source`` ``image``) only: equal once look-alike characters
       are folded (:mod:`.confusables`: ``人/入``, ``己/已/巳`` ...; ``Q/O/0``, ``l/1/I``,
       ``S/5``, ``B/8`` in names with Chinese characters): ``输人法`` = ``输入法``, ``0Q音乐``
       = ``QQ音乐`` = ``QQ Music``. Not when the entity is a directory app's name as printed
       (it is that app), when names of two directory apps fold alike (a misreading of either),
       or when the watch's name folds like a directory app it is not a name of
=====  =====================================================================================

Names are compared whole, never as prefixes: ``QQ`` does not match ``QQ阅读``, ``微信`` not
``企业微信``, ``Mango TV`` not ``芒果``, ``抖音`` not ``抖音极速版`` (an edition with its own
store listing is a different app; ``（极速版）`` in brackets too).

Company watches look at the entity's developer (each company of an ``A/B`` cell), else an
operator in brackets after the app name, else - for an app of the directory - the publisher
and owner the directory records; and at the entity itself when its kind is ``company``:

=====  =====================================================================================
1.0    equal normalized names
0.95   equal :func:`~.names.company_core` (``腾讯科技（深圳）有限公司`` ~ ``深圳市腾讯计算机系统
       有限公司``; ``Baidu Online Network Technology (Beijing) Co., Ltd.`` ~ ``Baidu``)
0.95   pinyin of one core equals the other, romanized core (``Kuaishou`` ~ ``北京快手科技有限公司``)
0.95   the same legal entity of the directory under another name (``Beijing Microlive Vision
       Technology Co., Ltd.`` ~ ``北京微播视界科技有限公司``)
0.9    the company belongs to the company the watch names, directly or through a subsidiary
       (``ByteDance`` ~ ``北京微播视界科技有限公司``; ``Tencent`` ~ ``广州酷狗计算机科技有限公司``
       through Tencent Music; ``Microsoft`` ~ ``领英``)
0.85   the company's name starts with a distinctive name of that company (``腾讯`` + ``智慧
       科技（深圳）有限公司``), and no longer directory name starts it (``京东方`` is BOE, not JD)
0.85   no developer is listed, and the directory records the app as published or owned by it
0.8    one typo in a long Latin company name (``Bytedancee``)
0.85   read by OCR only: one look-alike character away from a directory company (``厂州酷狗
       计算机科技有限公司`` reads as ``广州酷狗...``, then the rules above), or equal to the
       watch's name, the directory knowing neither, once look-alikes are folded
=====  =====================================================================================

Naming a legal entity does not cover its whole group: a watch on ``北京微播视界科技有限公司``
matches that company's apps, not every ByteDance app.

A watch with aliases matches when its name or any alias does (best score; the name wins a
tie), and a match through an alias says so: ``via your alias 'Weixin': ...``.
"""

from __future__ import annotations

from .directory import Group
from .features import AppName, CompanyName, EntityView, Subject, WatchSpec
from .fuzzy import typo_similarity
from .names import normalize

__all__ = [
    "SCORE_ALIAS",
    "SCORE_BRAND_OWNER",
    "SCORE_CORE",
    "SCORE_ENTITY",
    "SCORE_EXACT",
    "SCORE_GROUP",
    "SCORE_OCR",
    "SCORE_PINYIN",
    "SCORE_PREFIX",
    "SCORE_SCRIPT",
    "SCORE_TYPO",
    "Verdict",
    "evaluate",
]

SCORE_EXACT = 1.0
SCORE_SCRIPT = 0.95
SCORE_PINYIN = 0.95
SCORE_ALIAS = 0.95
SCORE_CORE = 0.95
SCORE_ENTITY = 0.95
SCORE_GROUP = 0.9
SCORE_PREFIX = 0.85
SCORE_BRAND_OWNER = 0.85
SCORE_TYPO = 0.8
SCORE_OCR = 0.85

Verdict = tuple[float, str]


def _ignoring(w: AppName, e: AppName) -> str:
    notes = [*w.qualifiers, *e.qualifiers]
    if e.operator:
        notes.append(e.operator)
    if w.operator:
        notes.append(w.operator)
    if not notes:
        return ""
    return " ignoring " + ", ".join(f"({n})" for n in notes)


def _typo_reason(typo_side: AppName, other: AppName) -> Verdict | None:
    hit = typo_side.brand
    if hit is None or hit.similarity is None:
        return None
    tail = "" if other.norm == normalize(hit.via) else f", another name of {other.base}"
    return (
        SCORE_TYPO,
        f"{typo_side.base} looks like a misspelling of {hit.via} "
        f"({hit.similarity:.0f}% similar){tail}",
    )


def _ocr_verdict(w: AppName, e: AppName, ignoring: str) -> Verdict | None:
    """``e`` (read by OCR) is a likely misreading of ``w``: equal once look-alikes fold."""
    if e.ocr is None or e.brand is not None or e.ocr_clash:
        return None  # nothing to fold, a directory app as printed, or a look-alike of two
    hit = e.ocr_hit
    if hit is not None:  # the misreading of a directory app: of its watches only
        if w.brand is None or w.brand.brand.id != hit.brand.id:
            return None
        tail = "" if w.norm == normalize(hit.via) else f", another name of {w.base}"
        return SCORE_OCR, f"{e.base} reads as {hit.via} (a likely OCR slip){tail}{ignoring}"
    if w.ocr != e.ocr or w.brand is not None:
        return None
    return SCORE_OCR, f"{e.base} reads as {w.base} (a likely OCR slip){ignoring}"


def app_verdict(w: AppName, e: AppName, ocr: bool = False) -> Verdict | None:
    """The rule that matches app name ``w`` (a watch's) with ``e`` (an entity's), if any;
    ``ocr`` when the entity was read by OCR."""
    if not w.norm or not e.norm:
        return None
    ignoring = _ignoring(w, e) if w.qualifiers or e.qualifiers or w.operator or e.operator else ""
    if w.norm == e.norm:
        if w.folded == e.folded:
            return (
                SCORE_EXACT,
                f"app name matches after normalization ({w.base} = {e.base}){ignoring}",
            )
        return (
            SCORE_SCRIPT,
            f"app name matches after traditional/simplified conversion "
            f"({w.base} = {e.base}){ignoring}",
        )
    wb, eb = w.brand, e.brand
    if wb is not None and eb is not None and wb.brand.id != eb.brand.id:
        return None  # two different apps of the directory
    # pinyin only between two names the directory does not know, or names of the same app: a
    # directory app's Chinese names are known, and another name that sounds like one of them
    # is a homophone (Weibo / 微播), not the app. The script test first: pinyin is computed
    # when first read (it loads pypinyin), and two Chinese names never need it
    if not (w.cjk and e.cjk) and (wb is None) == (eb is None) and w.roman and w.roman == e.roman:
        if e.cjk:
            return SCORE_PINYIN, f"pinyin of {e.base} is {e.roman}{ignoring}"
        if w.cjk:
            return SCORE_PINYIN, f"pinyin of {w.base} is {w.roman}{ignoring}"
        return (
            SCORE_PINYIN,
            f"{w.base} and {e.base} are the same romanization ({w.roman}){ignoring}",
        )
    if wb is not None and eb is not None:
        if wb.how == "typo":
            return _typo_reason(w, e)
        if eb.how == "typo":
            return _typo_reason(e, w)
        if e.cjk and not w.cjk:
            return SCORE_ALIAS, f"{e.base} is known in English as {w.base}{ignoring}"
        if w.cjk and not e.cjk:
            return SCORE_ALIAS, f"{w.base} is known in English as {e.base}{ignoring}"
        return (
            SCORE_ALIAS,
            f"{w.base} and {e.base} are names of the same app, {wb.brand.display}{ignoring}",
        )
    if w.typo and e.typo:
        score = typo_similarity(w.base, e.base)
        if score is not None:
            return (
                SCORE_TYPO,
                f"{w.base} and {e.base} differ by one typo ({score:.0f}% similar){ignoring}",
            )
    if ocr:
        return _ocr_verdict(w, e, ignoring)
    return None


def _belongs(chain: tuple[Group, ...], group: Group) -> str:
    if chain[0] == group:
        return group.display
    return f"{group.display} (through {chain[0].display})"


def company_verdict(w: CompanyName, subject: Subject) -> Verdict | None:
    """The rule that matches company name ``w`` (a watch's) with an entity's subject."""
    c = subject.company
    label = subject.label
    if not w.norm or not c.norm:
        return None
    if w.norm == c.norm:
        return SCORE_EXACT, f"{label} name matches after normalization ({w.text} = {c.text})"
    if w.core and w.core == c.core:
        return (
            SCORE_CORE,
            f"{label} {c.text} is {w.core} once region and legal-form words are removed",
        )
    if not (w.cjk and c.cjk) and w.roman and w.roman == c.roman:  # script first, as above
        if c.cjk:
            return SCORE_PINYIN, f"pinyin of {label} {c.text} ({c.core}) is {c.roman}"
        if w.cjk:
            return SCORE_PINYIN, f"pinyin of {w.core} is {w.roman}, as {label} {c.text}"
        return SCORE_PINYIN, f"{label} {c.text} is the same romanization as {w.text}"
    wk, ck = w.entity_key, c.entity_key
    if wk is not None and wk == ck and w.hit is not None:
        return (
            SCORE_ENTITY,
            f"{label} {c.text} is {w.text}, the same company ({w.hit.group.display}) under "
            f"another name",
        )
    group = w.covers
    if group is None or group not in c.chain or c.hit is None:
        return None
    belongs = _belongs(c.chain, group)
    if w.hit is not None and w.hit.how == "typo":
        return (
            SCORE_TYPO,
            f"{w.text} looks like a misspelling of {w.hit.via} ({w.hit.similarity:.0f}% "
            f"similar); {label} {c.text} belongs to {belongs}",
        )
    if c.hit.how == "typo":
        return (
            SCORE_TYPO,
            f"{label} {c.text} looks like a misspelling of {c.hit.via} "
            f"({c.hit.similarity:.0f}% similar), of {belongs}",
        )
    if c.hit.how == "prefix":
        return (
            SCORE_PREFIX,
            f"{label} {c.text} carries the name {c.hit.via} of {belongs}",
        )
    return SCORE_GROUP, f"{label} {c.text} belongs to {belongs}"


def _ocr_company_verdict(w: CompanyName, subject: Subject) -> Verdict | None:
    """A company name read by OCR (``subject``) that is a likely misreading of the watch's."""
    reading, c = subject.reading, subject.company
    if reading is None or reading.clash:
        return None
    label = subject.label
    if reading.company is not None:  # a directory company one look-alike away
        verdict = company_verdict(w, Subject(label, reading.company))
        if verdict is None:
            return None
        slip = f"{label} {c.text} reads as {reading.company.text} (a likely OCR slip)"
        if verdict[0] == SCORE_EXACT:
            return SCORE_OCR, slip
        return min(verdict[0], SCORE_OCR), f"{slip}; {verdict[1]}"
    if w.hit is not None or c.ocr_core is None or c.ocr_core != (w.ocr_core or w.core):
        return None
    return SCORE_OCR, f"{label} {c.text} reads as {w.text} (a likely OCR slip)"


def _company_verdict(w: CompanyName, ent: EntityView) -> Verdict | None:
    best: Verdict | None = None
    for subject in ent.subjects:
        verdict = company_verdict(w, subject)
        if verdict is None and subject.reading is not None:
            verdict = _ocr_company_verdict(w, subject)
        if verdict is not None and ent.inferred:
            score, reason = verdict
            verdict = (min(score, SCORE_BRAND_OWNER), f"{reason} ({_no_developer(ent)})")
        if verdict is not None and (best is None or verdict[0] > best[0]):
            best = verdict
    group = w.covers
    if best is None and group is not None and group in ent.owners:
        if ent.read_as is not None:
            return (
                SCORE_OCR,
                f"{ent.name} reads as {ent.read_as} (a likely OCR slip), an app of "
                f"{_belongs(ent.owners, group)} in the directory (no developer listed)",
            )
        return (
            SCORE_BRAND_OWNER,
            f"{ent.name} is an app of {_belongs(ent.owners, group)} in the directory "
            f"(no developer listed)",
        )
    return best


def _no_developer(ent: EntityView) -> str:
    if ent.read_as is not None:
        return (
            f"no developer listed; the publisher of {ent.read_as} per the directory, which "
            f"{ent.name} likely misreads (OCR)"
        )
    return f"no developer listed; {ent.name}'s publisher per the directory"


def evaluate(spec: WatchSpec, ent: EntityView) -> Verdict | None:
    """The best verdict of a watch (its name or any alias) on an entity; None if no match."""
    if not spec.aliases:  # the common case, without the loop
        if spec.kind == "app":
            return app_verdict(spec.apps[0], ent.app, ent.ocr) if ent.app is not None else None
        return _company_verdict(spec.companies[0], ent)
    best: Verdict | None = None
    best_label: str | None = None
    if spec.kind == "app":
        if ent.app is None:
            return None
        for label, app in zip(spec.labels, spec.apps, strict=True):
            verdict = app_verdict(app, ent.app, ent.ocr)
            if verdict is not None and (best is None or verdict[0] > best[0]):
                best, best_label = verdict, label
    else:
        for label, company in zip(spec.labels, spec.companies, strict=True):
            verdict = _company_verdict(company, ent)
            if verdict is not None and (best is None or verdict[0] > best[0]):
                best, best_label = verdict, label
    if best is None or best_label is None:
        return best
    return best[0], f"via your alias {best_label!r}: {best[1]}"
