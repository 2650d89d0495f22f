"""Typo tolerance for long Latin names, and an index that finds typo candidates without a scan.

Fuzzy matching is the riskiest rule: most false alerts a name matcher produces are prefix or
edition confusions (``QQ`` / ``QQ Music``, ``Taobao Lite`` / ``Taobao Live``), and Chinese
names are short enough that one character is a different app (抖音 / 斗音). So a pair of names
counts as one typo apart only when all of these hold (:func:`typo_similarity`):

- both names are Latin letters and digits only after :func:`~.names.normalize`, and both are
  at least :data:`MIN_LENGTH` characters long (no fuzzy matching of CJK or short names);
- they differ by at most :data:`MAX_EDITS` single-character insertions or deletions (a
  substitution or a swap of two letters counts 2): one typo;
- their similarity (``rapidfuzz.fuzz.ratio``, the normalized Indel similarity, 0-100) is at
  least :data:`THRESHOLD`, tuned on ``tests/services/matcher/matching/pairs.jsonl``;
- they carry the same digits (``360 Browser`` is not ``365 Browser``);
- neither is the other plus two or more characters at either end (an extra ``HD`` or ``Go``
  is an edition, not a typo; one extra letter is a typo);
- where they differ by a whole word, it is not two different edition / product words
  (``lite`` / ``live``, ``maps`` / ``mail``).

:class:`TypoIndex` indexes keys so that every stored key within one typo of a query key is
returned, by pigeonhole: a key split into ``MAX_EDITS + 1`` segments keeps at least one
segment intact under ``MAX_EDITS`` insertions/deletions, and that segment sits within
``MAX_EDITS`` positions of where it was (PassJoin). A query costs a few dozen dictionary
lookups whatever the number of keys.
"""

from __future__ import annotations

from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Indel

from .names import latin_tokens, normalize

__all__ = [
    "EDITION_WORDS",
    "MAX_EDITS",
    "MIN_LENGTH",
    "THRESHOLD",
    "TypoIndex",
    "typo_key",
    "typo_similarity",
]


def _words(text: str) -> list[str]:
    return text.split()


MIN_LENGTH = 8
"""Shortest normalized Latin name (both sides) that fuzzy matching looks at."""

MAX_EDITS = 2
"""Largest Indel distance (insertions + deletions) between two names one typo apart."""

THRESHOLD = 89.0
"""Lowest ``rapidfuzz.fuzz.ratio`` (0-100) for a typo match; tuned on the labelled pairs."""

EDITION_WORDS = frozenset(
    _words(
        "lite light hd pro plus max mini express speed jisu jisuban kids junior teen global "
        "international intl overseas business enterprise work biz merchant seller driver rider "
        "courier partner live tv music video map maps news browser reader read input ime "
        "keyboard pay wallet finance bank cloud drive disk mail note notes docs meeting game "
        "games store shop mall health sports comic comics novel radio fm camera cam editor "
        "translate translator dictionary dict search assistant manager security cleaner weather "
        "edu class classroom go beta concept chat ai"
    )
)
"""Edition and product words: two names that differ by swapping one of these for another
(``Taobao Lite`` / ``Taobao Live``) are different apps, however similar they look."""


@lru_cache(maxsize=65536)
def typo_key(name: str) -> str | None:
    """The normalized form fuzzy matching compares, or None when ``name`` is not eligible
    (contains anything but Latin letters and digits, or is shorter than :data:`MIN_LENGTH`)."""
    key = normalize(name)
    if len(key) < MIN_LENGTH or not key.isascii() or not key.isalnum():
        return None
    return key


_LETTERS = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyz")


def _digits(key: str) -> str:
    """The digits of a typo key (which holds only a-z and 0-9)."""
    return key.translate(_LETTERS)


def _edition_clash(a: str, b: str) -> bool:
    """True when the names differ by one edition/product word swapped for another."""
    ta, tb = latin_tokens(a), latin_tokens(b)
    if len(ta) == len(tb):
        return any(
            x != y and x in EDITION_WORDS and y in EDITION_WORDS
            for x, y in zip(ta, tb, strict=True)
        )
    extra = set(ta) ^ set(tb)
    return any(word in EDITION_WORDS for word in extra)


def typo_similarity(a: str, b: str, threshold: float | None = None) -> float | None:
    """Similarity (0-100) when ``a`` and ``b`` are one typo apart under the rules above, else
    None. Equal normalized names are not a typo (None): other rules match those.
    ``threshold`` defaults to :data:`THRESHOLD` (read at call time)."""
    if threshold is None:
        threshold = THRESHOLD
    ka, kb = typo_key(a), typo_key(b)
    if ka is None or kb is None or ka == kb:
        return None
    if abs(len(ka) - len(kb)) > MAX_EDITS:
        return None
    if Indel.distance(ka, kb, score_cutoff=MAX_EDITS) > MAX_EDITS or _digits(ka) != _digits(kb):
        return None
    longer, shorter = (ka, kb) if len(ka) >= len(kb) else (kb, ka)
    if len(longer) - len(shorter) > 1 and (longer.startswith(shorter) or longer.endswith(shorter)):
        return None  # a whole word more (HD, Pro, Go): an edition, not a typo
    score = Indel.normalized_similarity(ka, kb) * 100.0
    if score < threshold or _edition_clash(a, b):
        return None
    return round(score, 1)


@lru_cache(maxsize=256)
def _segments(length: int) -> tuple[tuple[int, int], ...]:
    """(start, length) of the ``MAX_EDITS + 1`` near-equal segments of a key."""
    parts = MAX_EDITS + 1
    base, extra = divmod(length, parts)
    out: list[tuple[int, int]] = []
    start = 0
    for i in range(parts):
        size = base + (1 if i < extra else 0)
        out.append((start, size))
        start += size
    return tuple(out)


class TypoIndex:
    """Keys (:func:`typo_key` forms) with integer payloads; finds the payloads of every stored
    key within :data:`MAX_EDITS` insertions/deletions of a query key (the caller still applies
    the other rules of :func:`typo_similarity`).
    """

    def __init__(self) -> None:
        # most segments and keys are unique: a bare str / int, a set when shared
        self._buckets: dict[tuple[int, int, str], str | set[str]] = {}
        self._payloads: dict[str, int | set[int]] = {}

    def __len__(self) -> int:
        return len(self._payloads)

    @staticmethod
    def _entries(key: str) -> list[tuple[int, int, str]]:
        return [
            (len(key), i, key[start : start + size])
            for i, (start, size) in enumerate(_segments(len(key)))
        ]

    def add(self, key: str, payload: int) -> None:
        found = self._payloads.get(key)
        if found is not None:
            if isinstance(found, int):
                if found != payload:
                    self._payloads[key] = {found, payload}
            else:
                found.add(payload)
            return
        self._payloads[key] = payload
        for entry in self._entries(key):
            bucket = self._buckets.get(entry)
            if bucket is None:
                self._buckets[entry] = key
            elif isinstance(bucket, str):
                self._buckets[entry] = {bucket, key}
            else:
                bucket.add(key)

    def remove(self, key: str, payload: int) -> None:
        found = self._payloads.get(key)
        if isinstance(found, set):
            found.discard(payload)
            if len(found) == 1:
                self._payloads[key] = next(iter(found))
            return
        if found != payload:
            return
        del self._payloads[key]
        for entry in self._entries(key):
            bucket = self._buckets.get(entry)
            if isinstance(bucket, set):
                bucket.discard(key)
                if len(bucket) == 1:
                    self._buckets[entry] = next(iter(bucket))
            elif bucket == key:
                del self._buckets[entry]

    def candidates(self, key: str) -> set[int]:
        near: set[str] = set()
        if not self._buckets:
            return set()
        size_q = len(key)
        for length in range(max(MIN_LENGTH, size_q - MAX_EDITS), size_q + MAX_EDITS + 1):
            for i, (start, size) in enumerate(_segments(length)):
                lo = max(0, start - MAX_EDITS)
                hi = min(size_q - size, start + MAX_EDITS)
                for pos in range(lo, hi + 1):
                    bucket = self._buckets.get((length, i, key[pos : pos + size]))
                    if bucket is None:
                        continue
                    if isinstance(bucket, str):
                        near.add(bucket)
                    else:
                        near.update(bucket)
        found: set[int] = set()
        if not near:
            return found
        hits = process.extract(
            key, list(near), scorer=Indel.distance, score_cutoff=MAX_EDITS, limit=None
        )
        for hit, _, _ in hits:
            payloads = self._payloads[hit]
            if isinstance(payloads, int):
                found.add(payloads)
            else:
                found.update(payloads)
        return found
