"""An index of watch items: a notice costs dictionary lookups per entity, not a scan.

Layout, for a million items from a hundred thousand subscribers watching far fewer distinct
names:

- one *slot* per distinct watch (kind, name, aliases): the prepared :class:`~.features.WatchSpec`
  (normalization, pinyin and directory lookups done once per distinct watch, whoever watches
  it) and three compact arrays of its watchers: subscriber number, item id, insertion order.
  A slot loaded with its stored form (:func:`~.features.watch_form`: its keys, kept with the
  watch in the database) is prepared only when a notice first makes it a candidate: at start
  nothing is prepared but what has no stored form yet (:meth:`WatchIndex.take_forms` gives
  those to store);
- ``key -> slots`` postings for the keys of the specs (normalized name, pinyin, directory app,
  company core, legal entity, group: see :mod:`.features`), and a :class:`~.fuzzy.TypoIndex`
  of long Latin app names. Pinyin is compared across scripts only, so a watch added here
  (:meth:`WatchIndex.add_many`; :meth:`WatchIndex.add_rows` files it at once) is filed under
  the pinyin of its Chinese names when a Latin name is first looked up (or its form is taken),
  and a Chinese entity's pinyin is looked up only when some Latin watch name is indexed:
  Chinese watches and notices never load pypinyin;
- subscriber ids stored once (``str -> number``), with each subscriber's (slot, item id) pairs
  in one array, so adding, removing and duplicate checks never scan other subscribers.

A notice's entity is prepared once, its keys give the candidate slots, each candidate is judged
once by :func:`~.rules.evaluate`, and one :class:`~shared.events.Match` per (slot, entity) is
shared by all of that slot's subscribers. Results equal :class:`~.scan.NaiveScan`'s, in the
same order: entity position, then distinct watch by its oldest item, then item order.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, KeysView, Mapping, Sequence

from shared.events import Entity, Match, NoticeEvent, WatchRef

from .features import (
    KEY_TABLES,
    PINYIN_TABLES,
    EntityView,
    Key,
    WatchSpec,
    entity_views,
    form_keys,
    watch_form,
    watch_spec,
)
from .fuzzy import TypoIndex
from .results import Suppress, content_key, is_suppressed, make_match
from .rules import evaluate
from .watch import WatchItem, match_key

__all__ = ["Row", "WatchIndex", "WatchKey"]

_NO_ID = -(2**63)
WatchKey = tuple[str, str, tuple[str, ...]]
"""A distinct watch: kind, name, aliases."""
_SpecKey = WatchKey
_KINDS = ("app", "company")
Row = tuple[int, str, str, str, tuple[str, ...]]
"""A stored watch item as :meth:`WatchIndex.add_rows` takes it: id, subscriber id, kind, name,
aliases."""
_SCAN_PAIRS = 128
"""Up to this many (slot, item id) pairs a subscriber's duplicate check scans its array."""
_SCAN_REMOVALS = 8
"""Up to this many of one subscriber's items :meth:`WatchIndex.remove_many` removes one by one."""


class _Slot:
    """One distinct watch and the items that watch it: (subscriber, item id, order) triples,
    in order, flat in one array.

    A slot made from a stored form (:func:`~.features.watch_form`) has its keys but no spec
    until it is first judged: most watches are never a candidate of a notice. A slot prepared
    here with a Chinese name, unless ``pinyin``, is ``pending`` until a Latin name is first
    looked up: it is filed under its pinyin (:meth:`~.features.WatchSpec.pinyin_keys`) only
    then."""

    __slots__ = ("_ref", "_spec", "data", "form", "key", "pending", "repeats")

    def __init__(self, key: _SpecKey, form: str | None = None, pinyin: bool = False) -> None:
        self.key = key
        self.form = form
        if form is None:
            self._spec: WatchSpec | None = watch_spec(*key)
            self.pending = not pinyin and self._spec.cjk
        elif key[0] in _KINDS:
            self._spec = None
            self.pending = False
        else:
            raise ValueError(f"unknown watch kind {key[0]!r}")
        self.data = array("q")
        self.repeats = 0
        """How many items watch this as a subscriber's second (third...) item of it."""
        self._ref: WatchRef | None = None

    @property
    def spec(self) -> WatchSpec:
        """The prepared watch (prepared now if the slot was made from a stored form)."""
        if self._spec is None:
            self._spec = watch_spec(*self.key)
        return self._spec

    def keys(self) -> tuple[list[Key], list[str]]:
        """The index keys and typo keys the slot is filed under (while ``pending``: all but
        its pinyin keys)."""
        if self.form is not None:
            return form_keys(self.form)
        return self.spec.index_keys(pinyin=not self.pending), self.spec.typos()

    @property
    def ref(self) -> WatchRef:
        """The watch as its matches show it: made on the first match, then shared."""
        if self._ref is None:
            self._ref = self.spec.ref()
        return self._ref

    @property
    def subs(self) -> array[int]:
        return self.data[0::3]

    @property
    def ids(self) -> array[int]:
        return self.data[1::3]

    @property
    def oldest(self) -> int:
        """Order number of the oldest item."""
        return self.data[2]


def _find_pair(pairs: array[int], slot: int, item_id: int) -> int:
    """Position of (slot, item_id) in a flat pair array, or -1."""
    pos = 0
    while True:
        try:
            pos = pairs.index(slot, pos)
        except ValueError:
            return -1
        if pos % 2 == 0 and pairs[pos + 1] == item_id:
            return pos
        pos += 1


def _has_slot(pairs: array[int], slot: int) -> bool:
    """True when a flat pair array holds an item of ``slot``."""
    pos = 0
    while True:
        try:
            pos = pairs.index(slot, pos)
        except ValueError:
            return False
        if pos % 2 == 0:
            return True
        pos += 1


class WatchIndex:
    """Watch items keyed for candidate lookup; see the module docstring.

    Results come out in the order of :class:`~.scan.NaiveScan` (entity position, then each
    distinct watch in the order of its oldest item, then item order). Adding an equal item
    again, or removing an unknown one, is a no-op. Not thread-safe: the matcher changes and
    queries it from one event loop.
    """

    def __init__(self, items: Iterable[WatchItem] = ()) -> None:
        self._slots: list[_Slot | None] = []
        self._free: list[int] = []
        self._slot_of: dict[_SpecKey, int] = {}
        self._postings: list[dict[str, int | list[int]]] = [{} for _ in range(KEY_TABLES)]
        self._typos = TypoIndex()
        self._sub_names: list[str] = []
        self._sub_index: dict[str, int] = {}
        self._sub_items: list[array[int]] = []
        self._seq = 0
        self._count = 0
        self._recount: set[int] = set()
        """Slots given rows by :meth:`add_rows` whose ``repeats`` are not counted yet."""
        self._fresh: list[int] = []
        """Slots prepared here, whose forms :meth:`take_forms` has not given yet."""
        self._pending: set[int] = set()
        """Slots not filed under their pinyin keys yet (filed when a Latin name is first
        looked up: only Latin names look pinyin up; computing it loads pypinyin)."""
        self.add_many(items)

    # --- content --------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._count

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, WatchItem):
            return False
        slot = self._slot_of.get((item.kind, item.name, item.aliases))
        sub = self._sub_index.get(item.subscriber_id)
        if slot is None or sub is None:
            return False
        return _find_pair(self._sub_items[sub], slot, _item_id(item)) >= 0

    def __iter__(self) -> Iterator[WatchItem]:
        """The indexed items, in no particular order."""
        for slot in self._slots:
            if slot is None:
                continue
            for sub, item_id in zip(slot.subs, slot.ids, strict=True):
                yield self._item(slot, sub, item_id)

    def items_of(self, subscriber_id: str) -> list[WatchItem]:
        """The subscriber's indexed items, in the order they were added."""
        sub = self._sub_index.get(subscriber_id)
        if sub is None:
            return []
        pairs = self._sub_items[sub]
        slots = self._slots
        out: list[WatchItem] = []
        for number, item_id in zip(pairs[0::2], pairs[1::2], strict=True):
            slot = slots[number]
            assert slot is not None
            out.append(self._item(slot, sub, item_id))
        return out

    @property
    def distinct_watches(self) -> int:
        """How many distinct (kind, name, aliases) the items watch."""
        return len(self._slot_of)

    def _item(self, slot: _Slot, sub: int, item_id: int) -> WatchItem:
        kind, name, aliases = slot.key
        return WatchItem(
            subscriber_id=self._sub_names[sub],
            kind=kind,  # type: ignore[arg-type]
            name=name,
            id=None if item_id == _NO_ID else item_id,
            aliases=aliases,
        )

    # --- changes --------------------------------------------------------------------------

    def watches(self) -> KeysView[WatchKey]:
        """The distinct watches indexed (kind, name, aliases), in no particular order."""
        return self._slot_of.keys()

    def take_forms(self, limit: int | None = None) -> list[tuple[WatchKey, str]]:
        """The stored forms (:func:`~.features.watch_form`) of watches this index prepared
        itself (not made from a stored form), each once: up to ``limit`` of those not taken
        yet. A watch whose keys cannot be written as a form is left out."""
        out: list[tuple[WatchKey, str]] = []
        fresh, slots = self._fresh, self._slots
        while fresh and (limit is None or len(out) < limit):
            number = fresh.pop()
            slot = slots[number]
            if slot is None or slot.form is not None:
                continue
            form = watch_form(slot.spec)
            if form is not None:
                if slot.pending:  # the form holds the pinyin keys: filed under them now
                    self._post(number, slot.spec.pinyin_keys())
                    slot.pending = False
                    self._pending.discard(number)
                slot.form = form
                out.append((slot.key, form))
        return out

    def _new_slot(self, key: _SpecKey, form: str | None = None, pinyin: bool = False) -> int:
        slot = _Slot(key, form, pinyin)  # raises ValueError for an unknown kind, before any change
        if self._free:
            number = self._free.pop()
            self._slots[number] = slot
        else:
            number = len(self._slots)
            self._slots.append(slot)
        self._slot_of[key] = number
        if form is None:
            self._fresh.append(number)
        if slot.pending:
            self._pending.add(number)
        keys, typos = slot.keys()
        self._post(number, keys)
        for typo in typos:
            self._typos.add(typo, number)
        return number

    def _post(self, number: int, keys: Iterable[Key]) -> None:
        """File slot ``number`` under ``keys``."""
        for table, text in keys:
            posting = self._postings[table]
            found = posting.get(text)
            if found is None:
                posting[text] = number  # most keys have one slot: no list for them
            elif isinstance(found, int):
                posting[text] = [found, number]
            else:
                found.append(number)

    def _file_pinyin(self) -> None:
        """File the pending slots under their pinyin keys (a Latin name is looked up)."""
        slots = self._slots
        for number in self._pending:
            slot = slots[number]
            if slot is not None:
                self._post(number, slot.spec.pinyin_keys())
                slot.pending = False
        self._pending.clear()

    def _drop_slot(self, number: int) -> None:
        slot = self._slots[number]
        if slot is None:
            return
        keys, typos = slot.keys()
        for table, text in keys:
            posting = self._postings[table]
            found = posting.get(text)
            if isinstance(found, list):
                found.remove(number)
                if len(found) == 1:
                    posting[text] = found[0]
            elif found == number:
                del posting[text]
        for typo in typos:
            self._typos.remove(typo, number)
        self._pending.discard(number)
        del self._slot_of[slot.key]
        self._slots[number] = None
        self._free.append(number)

    def _sub_number(self, subscriber_id: str) -> int:
        sub = self._sub_index.get(subscriber_id)
        if sub is None:
            sub = len(self._sub_names)
            self._sub_names.append(subscriber_id)
            self._sub_index[subscriber_id] = sub
            self._sub_items.append(array("q"))
        return sub

    def add(self, item: WatchItem) -> None:
        """Add a watch item; raises ValueError for an unknown kind."""
        self.add_many((item,))

    def add_rows(self, rows: Iterable[Row], forms: Mapping[WatchKey, str] | None = None) -> int:
        """Add stored watch items in bulk (the database's rows at start-up); returns how many.

        The same index as :meth:`add_many` of the same items, without its per-item work: no
        ``WatchItem`` made and no duplicate check, so every row's id must be new to the index
        (ids are the table's primary key). Raises ValueError for an unknown kind (the rows
        before it stay added). How many items repeat a subscriber's watch is counted once,
        before the index is next changed or queried.

        ``forms``: stored forms of watches (:func:`~.features.watch_form`, of the current
        :func:`~.features.form_version`): a watch new to the index found there is filed under
        the form's keys and prepared only when first judged; the others are prepared now, the
        pinyin of their Chinese names included (not left to the first Latin name a notice
        looks up, which would then compute all of it at once: a long-running matcher loads
        in slices, with its event loop free in between)."""
        slot_of, slots, sub_index, sub_items = (
            self._slot_of,
            self._slots,
            self._sub_index,
            self._sub_items,
        )
        recount = self._recount
        seq = start = self._seq
        try:
            for item_id, subscriber_id, kind, name, aliases in rows:
                key = (kind, name, aliases)
                number = slot_of.get(key)
                if number is None:
                    number = self._new_slot(key, None if forms is None else forms.get(key), True)
                sub = sub_index.get(subscriber_id)
                if sub is None:
                    sub = self._sub_number(subscriber_id)
                pairs = sub_items[sub]
                pairs.append(number)
                pairs.append(item_id)
                slot = slots[number]
                assert slot is not None
                slot.data.extend((sub, item_id, seq))
                recount.add(number)
                seq += 1
        finally:
            self._count += seq - start
            self._seq = seq
        return seq - start

    def _settle(self) -> None:
        """Count the repeats of the slots :meth:`add_rows` gave items."""
        if not self._recount:
            return
        slots = self._slots
        for number in self._recount:
            slot = slots[number]
            if slot is not None:
                subs = slot.data[0::3]
                slot.repeats = len(subs) - len(set(subs))
        self._recount.clear()

    def add_many(self, items: Iterable[WatchItem]) -> int:
        """Add watch items in one step; returns how many were new. Raises ValueError for an
        unknown kind (the items before it stay added).

        Duplicate checks cost nothing for a watch new to the index, and a subscriber with many
        items has its pairs looked up in a set made once per call: adding a subscriber's
        100k items is linear, not quadratic as one :meth:`add` (a scan) per item would be."""
        self._settle()
        before = self._count
        known: dict[int, tuple[set[tuple[int, int]], set[int]]] = {}
        for item in items:
            key = (item.kind, item.name, tuple(item.aliases))
            number = self._slot_of.get(key)
            fresh = number is None
            if number is None:
                number = self._new_slot(key)
            sub = self._sub_number(item.subscriber_id)
            item_id = _item_id(item)
            pairs = self._sub_items[sub]
            sets = known.get(sub)
            if fresh:  # no subscriber has an item of a slot made just now
                repeat = False
            elif sets is None and len(pairs) <= _SCAN_PAIRS:
                if _find_pair(pairs, number, item_id) >= 0:
                    continue
                repeat = _has_slot(pairs, number)
            else:
                if sets is None:
                    sets = known[sub] = (
                        set(zip(pairs[0::2], pairs[1::2], strict=True)),
                        set(pairs[0::2]),
                    )
                if (number, item_id) in sets[0]:
                    continue
                repeat = number in sets[1]
            if sets is not None:
                sets[0].add((number, item_id))
                sets[1].add(number)
            slot = self._slots[number]
            assert slot is not None
            if repeat:
                slot.repeats += 1
            pairs.append(number)
            pairs.append(item_id)
            slot.data.extend((sub, item_id, self._seq))
            self._seq += 1
            self._count += 1
        return self._count - before

    def remove(self, item: WatchItem) -> None:
        """Remove a watch item; removing an unknown item is a no-op."""
        self._settle()
        number = self._slot_of.get((item.kind, item.name, tuple(item.aliases)))
        sub = self._sub_index.get(item.subscriber_id)
        if number is None or sub is None:
            return
        item_id = _item_id(item)
        pairs = self._sub_items[sub]
        pos = _find_pair(pairs, number, item_id)
        if pos < 0:
            return
        del pairs[pos : pos + 2]
        slot = self._slots[number]
        assert slot is not None
        if _has_slot(pairs, number):
            slot.repeats -= 1
        data = slot.data
        at = 0
        while True:
            at = data.index(sub, at)
            if at % 3 == 0 and data[at + 1] == item_id:
                break
            at += 1
        del data[at : at + 3]
        self._count -= 1
        if not data:
            self._drop_slot(number)

    def remove_many(self, items: Iterable[WatchItem]) -> int:
        """Remove watch items in one step; returns how many were indexed. A subscriber losing
        many items has its pairs rewritten once, not scanned once per item."""
        self._settle()
        gone: dict[int, set[tuple[int, int]]] = {}
        for item in items:
            number = self._slot_of.get((item.kind, item.name, tuple(item.aliases)))
            sub = self._sub_index.get(item.subscriber_id)
            if number is not None and sub is not None:
                gone.setdefault(sub, set()).add((number, _item_id(item)))
        before = self._count
        for sub, wanted in gone.items():
            if len(wanted) <= _SCAN_REMOVALS:
                for number, item_id in wanted:
                    slot = self._slots[number]
                    assert slot is not None
                    self.remove(self._item(slot, sub, item_id))
                continue
            self._remove_pairs(sub, wanted)
        return before - self._count

    def _remove_pairs(self, sub: int, wanted: set[tuple[int, int]]) -> None:
        pairs = self._sub_items[sub]
        kept = array("q")
        dropped: dict[int, set[int]] = {}
        for pos in range(0, len(pairs), 2):
            number, item_id = pairs[pos], pairs[pos + 1]
            if (number, item_id) in wanted:
                dropped.setdefault(number, set()).add(item_id)
            else:
                kept.append(number)
                kept.append(item_id)
        self._sub_items[sub] = kept
        left = Counter(number for number in kept[0::2] if number in dropped)
        for number, ids in dropped.items():
            slot = self._slots[number]
            assert slot is not None
            remaining = left[number]
            # the subscriber's items of this slot beyond its first are repeats
            slot.repeats -= (remaining + len(ids) - 1) - max(remaining - 1, 0)
            data = slot.data
            out = array("q")
            for at in range(0, len(data), 3):
                if data[at] != sub or data[at + 1] not in ids:
                    out.extend(data[at : at + 3])
            slot.data = out
            self._count -= len(ids)
            if not out:
                self._drop_slot(number)

    # --- matching -------------------------------------------------------------------------

    def _candidates(self, view: EntityView) -> list[_Slot]:
        found: set[int] = set()
        postings = self._postings
        pending = self._pending
        keys = list(view.keys)
        for table, name in view.later:  # a Chinese name's pinyin, among Latin names only
            if postings[table] and (roman := name.roman):
                keys.append((table, roman))
        for table, text in keys:
            if table >= PINYIN_TABLES and pending:
                self._file_pinyin()  # a Latin name looks up the Chinese names' pinyin
            numbers = postings[table].get(text)
            if numbers is None:
                continue
            if isinstance(numbers, int):
                found.add(numbers)
            else:
                found.update(numbers)
        if view.typo is not None and len(self._typos):
            found |= self._typos.candidates(view.typo)
        slots = self._slots
        return [s for s in (slots[n] for n in found) if s is not None]

    def _judged(self, entities: Sequence[Entity]) -> Iterator[list[tuple[_Slot, Match]]]:
        """Per distinct entity: the slots that match it, each with its (shared) Match."""
        for view in entity_views(entities):
            matched: list[tuple[_Slot, Match]] = []
            for slot in self._candidates(view):
                verdict = evaluate(slot.spec, view)
                if verdict is not None:
                    matched.append((slot, make_match(slot.spec, view, verdict, slot.ref)))
            if matched:
                # distinct watches in the order of their first (oldest) item
                matched.sort(key=lambda sm: sm[0].oldest)
                yield matched

    def match_entities(self, entities: Sequence[Entity]) -> list[tuple[WatchItem, Match]]:
        """Same result as :func:`~.scan.match_entities` over the indexed items."""
        out: list[tuple[WatchItem, Match]] = []
        for matched in self._judged(entities):
            for slot, match in matched:
                out.extend(
                    (self._item(slot, sub, item_id), match)
                    for sub, item_id in zip(slot.subs, slot.ids, strict=True)
                )
        return out

    def match(
        self, notice: NoticeEvent, *, suppress: Suppress | None = None
    ) -> dict[str, list[Match]]:
        """subscriber_id -> that subscriber's matches, in the notice's entity order.

        Subscribers without a match are absent. Matches that read the same (same watch kind
        and name, same entity name and developer) are listed once. ``suppress`` leaves out the
        matches whose :func:`~.watch.match_key` it holds (a set) or accepts (a predicate):
        false-positive feedback. Match objects are shared between subscribers: do not mutate.
        """
        self._settle()
        per_sub: dict[int, list[Match]] = {}
        get = per_sub.get
        # matches that could read the same as another of the same subscriber: a second item
        # of the same watch, or two watches with one name (other aliases), or two entities
        # with one name and developer (other kinds); only their subscribers are deduplicated
        contents: set[tuple[str, str, str, str | None]] = set()
        recheck: set[int] = set()
        for matched in self._judged(notice.entities):
            for slot, match in matched:
                key = content_key(match)
                if slot.repeats or key in contents:
                    recheck.update(slot.subs)
                contents.add(key)
            for slot, match in matched:
                for sub in slot.subs:
                    found = get(sub)
                    if found is None:
                        per_sub[sub] = [match]
                    else:
                        found.append(match)
        if recheck:
            keys: dict[int, tuple[str, str, str, str | None]] = {}
            for sub in recheck:
                found = get(sub)
                if found is not None and len(found) > 1:
                    per_sub[sub] = _dedupe(found, keys)
        names = self._sub_names
        if suppress is None:
            return {names[sub]: matches for sub, matches in per_sub.items()}
        out: dict[str, list[Match]] = {}
        for sub, matches in per_sub.items():
            subscriber_id = names[sub]
            kept = [m for m in matches if not is_suppressed(suppress, match_key(subscriber_id, m))]
            if kept:
                out[subscriber_id] = kept
        return out


def _item_id(item: WatchItem) -> int:
    return _NO_ID if item.id is None else item.id


def _dedupe(matches: list[Match], keys: dict[int, tuple[str, str, str, str | None]]) -> list[Match]:
    seen: set[tuple[str, str, str, str | None]] = set()
    out: list[Match] = []
    for match in matches:
        key = keys.get(id(match))
        if key is None:
            key = keys[id(match)] = content_key(match)
        if key not in seen:
            seen.add(key)
            out.append(match)
    return out
