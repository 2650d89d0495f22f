"""WatchIndex against the reference scan, and its bookkeeping."""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from array import array
from datetime import date
from pathlib import Path

import pytest
from opencc import OpenCC

from services.matcher.matching import (
    MatchKey,
    NaiveScan,
    WatchIndex,
    WatchItem,
    default_directory,
    match_entities,
    match_key,
    match_notice,
)
from services.matcher.matching import index as index_module
from services.matcher.matching.features import (
    APP_PINYIN,
    CO_PINYIN,
    _Later,
    clear_caches,
    entity_view,
    form_keys,
    form_version,
    watch_form,
    watch_spec,
)
from shared.events import Entity, EntityRef, Match, NoticeEvent, Regulator, WatchRef


def ent(name: str, developer: str | None = None, kind: str = "app") -> Entity:
    return Entity.model_validate({"name": name, "developer": developer, "kind": kind})


def notice(*entities: Entity) -> NoticeEvent:
    return NoticeEvent(
        notice_id="n1",
        regulator=Regulator(code="MIIT", name="工业和信息化部"),
        title="关于侵害用户权益行为的APP通报",
        published_on=date(2024, 5, 1),
        entities=list(entities),
    )


_S2T = OpenCC("s2t")
_EXTRA_APPS = ["某某健身", "Tencent Vidoe", "Xiaohongsu", "Fitness Tracker", "Fitness Trakcer",
               "douyin", "dou3yin1", "Kuai Shou", "斗音", "微播", "抖音（极速版）"]  # fmt: skip
_EXTRA_COMPANIES = ["某某网络科技有限公司", "上海银行股份有限公司", "Bytedancee", "Sogou Inc.",
                    "腾讯智慧科技（深圳）有限公司", "京东方光电科技有限公司"]  # fmt: skip


def _variant(rng: random.Random, name: str) -> str:
    choice = rng.randrange(6)
    if choice == 0:  # full-width
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
    if choice == 1:
        return _S2T.convert(name)
    if choice == 2:
        return " ".join(name)
    if choice == 3:
        return name.upper()
    if choice == 4:
        return name + rng.choice(["（安卓版）", "(iOS)", "（极速版）", "", "（V1.2.3）", "APP"])
    return name


def _generated(seed: int = 20240501) -> tuple[list[WatchItem], list[Entity]]:
    rng = random.Random(seed)
    directory = default_directory()
    apps = [n for b in directory.brands for n in b.names] + _EXTRA_APPS
    companies = [n for g in directory.groups for n in (*g.names, *g.members)] + _EXTRA_COMPANIES
    watches = []
    for i in range(1500):
        sub = f"s{rng.randrange(120)}"
        kind = "app" if rng.random() < 0.6 else "company"
        pool = apps if kind == "app" else companies
        aliases = ()
        if rng.random() < 0.1:
            aliases = tuple(_variant(rng, rng.choice(pool)) for _ in range(rng.randint(1, 2)))
        item_id = rng.choice([None, i, i % 7])
        watches.append(WatchItem(sub, kind, _variant(rng, rng.choice(pool)), item_id, aliases))  # type: ignore[arg-type]
    watches += watches[:50]  # the same items again
    entities = []
    for _ in range(200):
        kind = rng.choice(["app", "app", "app", "sdk", "mini_program", "company"])
        if kind == "company":
            entities.append(ent(_variant(rng, rng.choice(companies)), kind="company"))
            continue
        developer = rng.choice(
            [None, None, None, *companies[:80], *_EXTRA_COMPANIES, rng.choice(companies)]
        )
        entities.append(ent(_variant(rng, rng.choice(apps)), developer, kind))
    entities += entities[:10]  # repeated rows
    return watches, entities


def test_index_agrees_with_the_reference_scan() -> None:
    watches, entities = _generated()
    naive = match_entities(watches, entities)
    index = WatchIndex(watches)
    assert index.match_entities(entities) == naive
    # the set must exercise every rule, or agreeing proves little
    scores = {m.score for _, m in naive}
    assert scores >= {1.0, 0.95, 0.9, 0.85, 0.8}
    reasons = " ".join(m.reason for _, m in naive)
    for phrase in ("pinyin of", "known in English", "traditional/simplified", "belongs to",
                   "via your alias", "misspelling", "publisher per the directory",
                   "same company", "carries the name"):  # fmt: skip
        assert phrase in reasons, phrase
    assert len(naive) > 500

    n = notice(*entities)
    assert index.match(n) == NaiveScan(watches).match(n) == match_notice(watches, n)

    # removing watches keeps the index consistent, and re-adding puts them last
    kept = watches[::3]
    for item in watches:
        if item not in kept:
            index.remove(item)
    assert index.match_entities(entities) == match_entities(kept, entities)
    assert len(index) == len(set(kept))
    readded = watches[1:200:3]
    for item in readded:
        index.add(item)
    order = list(dict.fromkeys(kept)) + [i for i in dict.fromkeys(readded) if i not in set(kept)]
    assert index.match_entities(entities) == match_entities(order, entities)


def test_one_slot_per_distinct_watch_and_compact_subscribers() -> None:
    items = [WatchItem(f"sub{i}", "app", "微信", id=i) for i in range(2000)]
    items += [WatchItem(f"sub{i}", "company", "Tencent", id=10_000 + i) for i in range(2000)]
    index = WatchIndex(items)
    assert len(index) == 4000 and index.distinct_watches == 2
    result = index.match(notice(ent("微信", "深圳市腾讯计算机系统有限公司")))
    assert len(result) == 2000
    first = result["sub0"]
    assert [(m.watch.name, m.score) for m in first] == [("微信", 1.0), ("Tencent", 0.9)]
    assert result["sub1999"][0] is first[0]  # one Match per (watch, entity), shared
    assert set(index) == set(items)


def test_add_remove_contains() -> None:
    douyin = WatchItem("carol", "app", "Douyin")
    index = WatchIndex([douyin, WatchItem("alice", "app", "QQ")])
    n = notice(ent("抖音"), ent("QQ"))
    assert sorted(index.match(n)) == ["alice", "carol"]
    index.remove(douyin)
    index.remove(douyin)  # no-op
    index.remove(WatchItem("nobody", "app", "Douyin"))  # no-op
    assert sorted(index.match(n)) == ["alice"]
    assert douyin not in index and len(index) == 1 and index.distinct_watches == 1
    index.add(douyin)
    index.add(douyin)  # no-op
    assert douyin in index and len(index) == 2
    assert WatchItem("carol", "app", "Douyin", id=3) not in index
    assert WatchItem("carol", "app", "Douyin", aliases=("抖音",)) not in index
    assert "Douyin" not in index
    assert sorted(index.match(n)) == ["alice", "carol"]


def test_the_same_watch_saved_twice_is_listed_once() -> None:
    items = [WatchItem("alice", "app", "QQ", id=1), WatchItem("alice", "app", "QQ", id=2)]
    items.append(WatchItem("alice", "app", "QQ", id=3, aliases=("腾讯QQ",)))
    result = WatchIndex(items).match(notice(ent("QQ"), ent("QQ", kind="sdk")))
    assert [(m.watch.name, m.entity.name) for m in result["alice"]] == [("QQ", "QQ")]


def test_unknown_watch_kind_is_rejected_without_a_trace() -> None:
    index = WatchIndex()
    with pytest.raises(ValueError, match="unknown watch kind"):
        index.add(WatchItem("s", "brand", "QQ"))  # type: ignore[arg-type]
    assert len(index) == 0 and index.distinct_watches == 0


def test_empty_index_and_notice() -> None:
    assert WatchIndex().match(notice(ent("微信"))) == {}
    assert WatchIndex([WatchItem("s", "app", "微信")]).match(notice()) == {}


# --- feedback: suppressed matches -------------------------------------------------------------


def test_match_key_normalizes() -> None:
    m = Match(
        watch=WatchRef(kind="app", name="Ｄｏｕｙｉｎ"),
        entity=EntityRef(name="抖音（安卓版）", developer="北京微播视界科技有限公司"),
        score=0.95,
        reason="x",
    )
    key = match_key("alice", m)
    assert key == MatchKey("alice", "app", "douyin", "抖音", "北京微播视界科技有限公司")
    assert len(key.digest()) == 64 and key.text().count("\x1f") == 4
    other = m.model_copy(
        update={"entity": EntityRef(name="抖音", developer="北京微播视界科技有限公司")}
    )
    assert match_key("alice", other) == key
    assert match_key("bob", m) != key


def test_suppressed_matches_are_left_out() -> None:
    items = [WatchItem("alice", "app", "Douyin"), WatchItem("alice", "company", "ByteDance")]
    items.append(WatchItem("bob", "app", "Douyin"))
    n = notice(ent("抖音", "北京微播视界科技有限公司"), ent("今日头条", "北京字节跳动科技有限公司"))
    index = WatchIndex(items)
    full = index.match(n)
    wrong = match_key("alice", full["alice"][0])  # Douyin -> 抖音 marked wrong by alice
    assert wrong.watch_name_normalized == "douyin"
    suppressed = index.match(n, suppress={wrong})
    assert [(m.watch.name, m.entity.name) for m in suppressed["alice"]] == [
        ("ByteDance", "抖音"),
        ("ByteDance", "今日头条"),
    ]
    assert suppressed["bob"] == full["bob"]  # only for the subscriber who said so
    # a predicate works too, and a subscriber left with nothing drops out
    only_bob = index.match(n, suppress=lambda key: key.subscriber_id == "alice")
    assert list(only_bob) == ["bob"]
    assert NaiveScan(items).match(n, suppress={wrong}) == suppressed
    assert match_notice(items, n, suppress={wrong}) == suppressed


# --- many items at once -----------------------------------------------------------------------


def _state(index: WatchIndex) -> tuple[object, ...]:
    """Everything a match depends on, comparable between two indexes built differently."""
    slots = {
        slot.key: (list(slot.data[0::3]), list(slot.data[1::3]), bool(slot.repeats))
        for slot in index._slots
        if slot is not None
    }
    subs = {
        index._sub_names[number]: sorted(zip(pairs[0::2], pairs[1::2], strict=True))
        for number, pairs in enumerate(index._sub_items)
    }
    keyed = {key: (slots[key], number) for key, number in index._slot_of.items()}
    return len(index), keyed, {name: len(pairs) for name, pairs in subs.items()}


def test_add_many_and_remove_many_equal_one_at_a_time() -> None:
    watches, entities = _generated()
    # one subscriber with far more items than a scan is used for, sharing slots with others
    big = [
        WatchItem("big", w.kind, w.name, i, w.aliases)  # type: ignore[arg-type]
        for i, w in enumerate(watches[:600])
    ]
    big += big[:40]  # again: no-ops
    big += [WatchItem("big", "app", "QQ", 10_000 + i) for i in range(5)]  # repeats of a watch
    one_by_one, at_once = WatchIndex(), WatchIndex()
    for item in [*watches, *big]:
        one_by_one.add(item)
    assert at_once.add_many(watches) == len(set(watches))
    assert at_once.add_many(big) == len(set(big))
    assert _state(at_once) == _state(one_by_one)
    assert at_once.match_entities(entities) == one_by_one.match_entities(entities)

    gone = [*big[::2], *watches[::5], WatchItem("nobody", "app", "QQ")]
    for item in gone:
        one_by_one.remove(item)
    assert at_once.remove_many(gone) == len(set(gone) - {WatchItem("nobody", "app", "QQ")})
    assert _state(at_once) == _state(one_by_one)
    n = notice(*entities, ent("QQ"))
    assert at_once.match(n) == one_by_one.match(n)
    assert at_once.remove_many(gone) == 0


def test_one_subscribers_many_items_are_added_and_removed_without_scans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A CSV import's new items of one subscriber: no scan of its items per item (that took
    seconds per 10k items, growing with the square)."""
    items = [WatchItem("importer", "company", f"Company {i} Ltd", i) for i in range(5_000)]
    index = WatchIndex()
    scans = 0
    original = index_module._find_pair

    def counting(pairs: array[int], slot: int, item_id: int) -> int:
        nonlocal scans
        scans += 1
        return original(pairs, slot, item_id)

    monkeypatch.setattr(index_module, "_find_pair", counting)
    assert index.add_many(items) == 5_000
    assert index.add_many(items[:100]) == 0
    assert index.remove_many(items[::2]) == 2_500
    assert scans == 0
    assert len(index) == 2_500 and set(index) == set(items[1::2])


# --- bulk load of stored rows ---------------------------------------------------------------


def test_rows_added_in_bulk_make_the_index_add_many_makes() -> None:
    watches, entities = _generated()
    # stored items: each with its own id, in id order; a subscriber watching one watch twice
    stored = [
        WatchItem(w.subscriber_id, w.kind, w.name, i, w.aliases)
        for i, w in enumerate(dict.fromkeys(watches))
    ]
    stored += [WatchItem("s1", "app", "QQ", 90_000 + i) for i in range(3)]
    rows = [(w.id or 0, w.subscriber_id, w.kind, w.name, w.aliases) for w in stored]
    reference, bulk = WatchIndex(stored), WatchIndex()
    assert sum(bulk.add_rows(rows[start : start + 97]) for start in range(0, len(rows), 97)) == len(
        stored
    )
    n = notice(*entities, ent("QQ"))
    assert bulk.match(n) == reference.match(n)
    assert _state(bulk) == _state(reference)
    repeats = {s.key: s.repeats for s in bulk._slots if s is not None}
    assert repeats == {s.key: s.repeats for s in reference._slots if s is not None}
    assert repeats[("app", "QQ", ())] >= 2
    assert bulk.match_entities(entities) == reference.match_entities(entities)
    for sub in ("s0", "s1", "s77", "nobody"):
        assert bulk.items_of(sub) == [w for w in stored if w.subscriber_id == sub]

    # and it changes as the other does afterwards
    gone = stored[::4]
    assert bulk.remove_many(gone) == reference.remove_many(gone) == len(gone)
    again = [WatchItem("s1", "app", "QQ", 95_000), *stored[:8]]
    assert bulk.add_many(again) == reference.add_many(again)
    assert _state(bulk) == _state(reference)
    assert bulk.match(n) == reference.match(n)


def test_a_bulk_row_of_an_unknown_kind_is_rejected() -> None:
    index = WatchIndex()
    with pytest.raises(ValueError, match="unknown watch kind"):
        index.add_rows([(1, "s", "app", "QQ", ()), (2, "s", "person", "Zhang San", ())])
    assert len(index) == 1 and index.items_of("s") == [WatchItem("s", "app", "QQ", 1)]


# --- stored forms: a watch filed under its stored keys, prepared when first judged -----------


def _keys_state(index: WatchIndex) -> tuple[object, ...]:
    """The index's keys: postings and typo index, by watch rather than slot number."""
    keys = {number: slot.key for number, slot in enumerate(index._slots) if slot is not None}
    postings = [
        {
            text: sorted(keys[n] for n in ([found] if isinstance(found, int) else found))
            for text, found in table.items()
        }
        for table in index._postings
    ]
    typos = {
        text: sorted(keys[n] for n in ([found] if isinstance(found, int) else found))
        for text, found in index._typos._payloads.items()
    }
    return postings, typos, dict(index._typos._buckets)


def _rows(items: list[WatchItem]) -> list[tuple[int, str, str, str, tuple[str, ...]]]:
    return [(i.id or 0, i.subscriber_id, i.kind, i.name, i.aliases) for i in items]


def test_an_index_loaded_with_stored_forms_matches_as_one_prepared_at_once() -> None:
    watches, entities = _generated()
    stored = [
        WatchItem(w.subscriber_id, w.kind, w.name, i, w.aliases)
        for i, w in enumerate(dict.fromkeys(watches))
    ]
    rows = _rows(stored)
    reference = WatchIndex()
    reference.add_rows(rows)
    forms = dict(reference.take_forms())
    assert set(forms) == set(reference.watches())
    loaded = WatchIndex()
    assert loaded.add_rows(rows, forms) == len(stored)
    assert all(s._spec is None for s in loaded._slots if s is not None)  # nothing prepared
    assert loaded.take_forms() == []  # nothing to store: every form came from the store
    assert _state(loaded) == _state(reference)
    assert _keys_state(loaded) == _keys_state(reference)

    n = notice(*entities, ent("QQ"))
    assert loaded.match(n) == reference.match(n)
    assert loaded.match_entities(entities) == reference.match_entities(entities)
    prepared = [s for s in loaded._slots if s is not None and s._spec is not None]
    assert 0 < len(prepared) < loaded.distinct_watches  # the candidates only

    # and it changes as the other does afterwards: slots dropped under their stored keys
    gone = stored[::3]
    assert loaded.remove_many(gone) == reference.remove_many(gone) == len(gone)
    assert _keys_state(loaded) == _keys_state(reference)
    assert loaded.add_many(gone) == reference.add_many(gone)
    assert _state(loaded) == _state(reference)
    assert _keys_state(loaded) == _keys_state(reference)
    assert loaded.match(n) == reference.match(n)


def test_forms_cover_some_watches_only() -> None:
    """Watches without a stored form are prepared at once, and only theirs are to store."""
    watches, entities = _generated(seed=7)
    stored = [
        WatchItem(w.subscriber_id, w.kind, w.name, i, w.aliases)
        for i, w in enumerate(dict.fromkeys(watches))
    ]
    reference = WatchIndex()
    reference.add_rows(_rows(stored))
    forms = dict(reference.take_forms())
    half = dict(list(forms.items())[::2])
    loaded = WatchIndex()
    loaded.add_rows(_rows(stored), half)
    taken = loaded.take_forms(limit=10)
    assert len(taken) == 10
    taken += loaded.take_forms()
    assert dict(taken) == {key: form for key, form in forms.items() if key not in half}
    assert loaded.take_forms() == []  # each once
    n = notice(*entities)
    assert loaded.match(n) == reference.match(n)


def test_a_watch_added_later_gives_its_form_once() -> None:
    index = WatchIndex([WatchItem("a", "app", "抖音", 1)])
    assert [key for key, _ in index.take_forms()] == [("app", "抖音", ())]
    index.add_many([WatchItem("b", "app", "抖音", 2), WatchItem("b", "company", "Tencent", 3)])
    assert [key for key, _ in index.take_forms()] == [("company", "Tencent", ())]
    assert index.take_forms() == []


def test_a_form_gives_back_the_keys_of_the_prepared_watch() -> None:
    watches, _ = _generated()
    for key in dict.fromkeys((w.kind, w.name, w.aliases) for w in watches):
        spec = watch_spec(*key)
        form = watch_form(spec)
        assert form is not None
        assert form_keys(form) == (spec.index_keys(), spec.typos())


def test_keys_that_cannot_be_written_give_no_form() -> None:
    class Odd:
        def index_keys(self) -> list[tuple[int, str]]:
            return [(0, "a\x1eb")]

        def typos(self) -> list[str]:
            return []

    assert watch_form(Odd()) is None  # type: ignore[arg-type]


def test_a_bulk_row_of_an_unknown_kind_with_a_form_is_rejected() -> None:
    index = WatchIndex()
    with pytest.raises(ValueError, match="unknown watch kind"):
        index.add_rows([(1, "s", "person", "Zhang San", ())], {("person", "Zhang San", ()): ""})
    assert len(index) == 0 and index.distinct_watches == 0


def test_the_form_version_is_a_stable_digest() -> None:
    version = form_version()
    assert len(version) == 24 and int(version, 16) >= 0
    form_version.cache_clear()
    assert form_version() == version


# --- pinyin: computed when a name of the other script first needs it -------------------------

_CHINESE_ONLY = """
import sys
from datetime import date
from services.matcher.matching import WatchItem, match_notice
from shared.events import Entity, NoticeEvent, Regulator
event = NoticeEvent(
    notice_id="n1",
    regulator=Regulator(code="CAC", name="国家互联网信息办公室"),
    title="关于抖音等3款App违法违规收集使用个人信息情况的通报",
    published_on=date(2021, 5, 10),
    entities=[
        Entity(name="抖音", developer="北京微播视界科技有限公司"),
        Entity(name="快手", developer="北京快手科技有限公司"),
        Entity(name="腾讯地图", developer="腾讯科技（深圳）有限公司"),
        Entity(name="某某健身"),
    ],
)
def matched(*watches):
    found = match_notice(list(watches), event).get("s", [])
    return [[m.watch.name, m.entity.name, m.score] for m in found], "pypinyin" in sys.modules
print(matched(WatchItem("s", "app", "抖音"), WatchItem("s", "company", "腾讯"),
              WatchItem("s", "app", "斗音"), WatchItem("s", "company", "字节跳动")))
print(matched(WatchItem("s", "app", "Moumou Jianshen")))
"""


def test_chinese_watches_on_a_chinese_notice_never_load_pypinyin() -> None:
    """In a fresh process: Chinese watches (a homophone of a listed app among them) match a
    Chinese notice without pypinyin; a Latin watch then loads it to compare by sound."""
    root = Path(__file__).resolve().parents[4]
    done = subprocess.run(
        [sys.executable, "-c", _CHINESE_ONLY],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    chinese, latin = (ast.literal_eval(line) for line in done.stdout.splitlines())
    assert chinese == (
        [["抖音", "抖音", 1.0], ["字节跳动", "抖音", 0.9], ["腾讯", "腾讯地图", 0.95]],
        False,
    )
    assert latin == ([["Moumou Jianshen", "某某健身", 0.95]], True)


def test_a_chinese_watch_is_filed_under_its_pinyin_when_a_latin_name_is_looked_up() -> None:
    clear_caches()  # prepared names forgotten: none has its pinyin yet
    watches = [
        WatchItem("s", "app", "抖音"),  # a directory app
        WatchItem("s", "app", "某某健身"),  # unknown to the directory
        WatchItem("s", "company", "某某网络科技有限公司"),
        WatchItem("t", "app", "微信", aliases=("某某健身",)),
    ]
    index = WatchIndex(watches)
    pinyin_tables = index._postings[APP_PINYIN], index._postings[CO_PINYIN]
    assert pinyin_tables == ({}, {})  # nothing computed while building
    assert all(s is not None and s.pending for s in index._slots)

    chinese = notice(ent("抖音"), ent("某某健身", "某某网络科技有限公司"))
    assert [(m.watch.name, m.entity.name) for m in index.match(chinese)["s"]] == [
        ("抖音", "抖音"),
        ("某某健身", "某某健身"),
        ("某某网络科技有限公司", "某某健身"),
    ]
    assert all(s is not None and s.pending for s in index._slots)  # Chinese only: still none

    latin = [ent("Douyin"), ent("Moumou Jianshen", "Moumou Network Technology Co., Ltd.")]
    found = index.match_entities(latin)
    assert [(w.name, m.entity.name, m.score, m.reason) for w, m in found] == [
        ("抖音", "Douyin", 0.95, "pinyin of 抖音 is douyin"),
        ("某某健身", "Moumou Jianshen", 0.95, "pinyin of 某某健身 is moumoujianshen"),
        (
            "某某网络科技有限公司",
            "Moumou Jianshen",
            0.95,
            "pinyin of 某某 is moumou, as developer Moumou Network Technology Co., Ltd.",
        ),
        (
            "微信",
            "Moumou Jianshen",
            0.95,
            "via your alias '某某健身': pinyin of 某某健身 is moumoujianshen",
        ),
    ]
    assert found == match_entities(watches, latin)
    assert not any(s is not None and s.pending for s in index._slots)
    assert index._postings[APP_PINYIN] and index._postings[CO_PINYIN]


def test_a_chinese_entity_looks_its_pinyin_up_among_latin_watches() -> None:
    clear_caches()  # prepared names forgotten: none has its pinyin yet
    watches = [
        WatchItem("s", "app", "Douyin"),
        WatchItem("s", "app", "Moumou Jianshen"),
        WatchItem("s", "company", "Moumou Network Technology Co., Ltd."),
    ]
    index = WatchIndex(watches)
    entities = [ent("抖音"), ent("某某健身", "某某网络科技有限公司")]
    views = [entity_view(e.kind, e.name, e.developer) for e in entities]
    assert all(isinstance(name._roman, _Later) for v in views for _, name in v.later)
    found = index.match_entities(entities)
    assert [(w.name, m.entity.name, m.score, m.reason) for w, m in found] == [
        ("Douyin", "抖音", 0.95, "pinyin of 抖音 is douyin"),
        ("Moumou Jianshen", "某某健身", 0.95, "pinyin of 某某健身 is moumoujianshen"),
        (
            "Moumou Network Technology Co., Ltd.",
            "某某健身",
            0.95,
            "pinyin of developer 某某网络科技有限公司 (某某) is moumou",
        ),
    ]
    assert found == match_entities(watches, entities)


def test_a_pending_watch_removed_or_stored_keeps_its_keys_straight() -> None:
    """A watch removed before its pinyin was filed leaves nothing behind; one whose form is
    taken is filed under every key of its form, as one loaded with that form."""
    clear_caches()
    gone, kept = WatchItem("s", "app", "抖音", 1), WatchItem("s", "app", "快手", 2)
    index = WatchIndex([gone, kept])
    index.remove(gone)
    assert index.match_entities([ent("Douyin")]) == []
    assert index._postings[APP_PINYIN] == {"kuaishou": 1}
    index.add(gone)  # pending again, in the slot number it had
    assert index._postings[APP_PINYIN] == {"kuaishou": 1}
    forms = dict(index.take_forms())
    assert set(forms) == {("app", "抖音", ()), ("app", "快手", ())}
    assert index._postings[APP_PINYIN] == {"kuaishou": 1, "douyin": 0}
    loaded = WatchIndex()
    loaded.add_rows(_rows([kept, gone]), forms)
    assert _keys_state(loaded) == _keys_state(index)
    index.remove(gone)  # dropped under its form's keys
    assert index._postings[APP_PINYIN] == {"kuaishou": 1}
    assert [w.name for w, _ in index.match_entities([ent("Douyin"), ent("Kuaishou")])] == ["快手"]


def test_rows_added_in_bulk_are_filed_under_their_pinyin_at_once() -> None:
    """The matcher's load (:meth:`WatchIndex.add_rows`) computes the pinyin while loading, not
    all at once at the first Latin name of a notice; watches added later wait for one."""
    clear_caches()
    index = WatchIndex()
    index.add_rows([(1, "s", "app", "抖音", ()), (2, "s", "company", "某某网络科技有限公司", ())])
    assert not index._pending
    assert index._postings[APP_PINYIN] == {"douyin": 0}
    assert index._postings[CO_PINYIN] == {"moumou": 1}
    index.add(WatchItem("s", "app", "快手", 3))
    assert index._pending == {2} and "kuaishou" not in index._postings[APP_PINYIN]
    found = index.match_entities([ent("Douyin"), ent("Kuaishou")])
    assert [(w.name, m.entity.name) for w, m in found] == [("抖音", "Douyin"), ("快手", "Kuaishou")]
