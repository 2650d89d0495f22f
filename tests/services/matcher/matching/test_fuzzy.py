from __future__ import annotations

import random

import pytest
from rapidfuzz.distance import Indel

from services.matcher.matching import fuzzy
from services.matcher.matching.fuzzy import (
    MAX_EDITS,
    MIN_LENGTH,
    THRESHOLD,
    TypoIndex,
    typo_key,
    typo_similarity,
)


@pytest.mark.parametrize(
    ("a", "b", "score"),
    [
        ("Tencent Vidoe", "Tencent Video", 91.7),  # swapped letters
        ("Tencnet Video", "Tencent Video", 91.7),
        ("Tencent Vido", "Tencent Video", 95.7),  # one letter missing, even at the end
        ("Xiaohongsu", "Xiaohongshu", 95.2),
        ("Boss Zhipinn", "Boss Zhipin", 95.2),  # one letter more
        ("Tencent Videos", "Tencent Video", 96.0),
        ("Baidu Netdisc", "Baidu Netdisk", 91.7),
        ("Ximalaya FN", "Ximalaya FM", 90.0),
    ],
)
def test_one_typo_in_a_long_latin_name(a: str, b: str, score: float) -> None:
    assert typo_similarity(a, b) == score
    assert typo_similarity(b, a) == score


def test_threshold_boundary() -> None:
    """89: one substituted or swapped letter needs 10+ letters (9 letters score 88.9, 8 letters
    87.5); one letter more or less is enough from 8 letters (94.1)."""
    assert THRESHOLD == 89.0
    assert typo_similarity("Pinduodou", "Pinduoduo") is None  # 9 letters, swapped: 88.9
    assert typo_similarity("Pinduodou", "Pinduoduo", threshold=88.0) == 88.9
    assert typo_similarity("Tongchang", "Tongcheng") is None  # 88.9: another pinyin syllable
    assert typo_similarity("Autohome", "Autohmoe", threshold=87.5) == 87.5
    assert typo_similarity("Autohome", "Autohmoe") is None
    assert typo_similarity("Dingtalk", "Dingtalks") == 94.1
    assert typo_similarity("Meituan Waimai", "Meituan Wiamai") == 92.3


def test_threshold_is_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fuzzy, "THRESHOLD", 95.0)
    assert typo_similarity("Tencent Vidoe", "Tencent Video") is None


@pytest.mark.parametrize(
    ("a", "b", "why"),
    [
        ("Wecaht", "WeChat", "too short"),
        ("Kugou", "Kugo", "too short"),
        ("腾讯视屏", "腾讯视频", "Chinese"),
        ("Tencent视频", "Tencent视屏", "Chinese"),
        ("Tencent Video", "Tencent Video", "equal: not a typo"),
        ("Tencent Video", "TENCENT-VIDEO", "equal after normalization"),
        ("Tencent Video HD", "Tencent Video", "an edition word more"),
        ("Xiaohongshu Pro", "Xiaohongshu", "an edition word more"),
        ("Genshin Impact 2", "Genshin Impact", "different digits"),
        ("360 Browser", "365 Browser", "different digits"),
        ("Taobao Live", "Taobao Lite", "two edition words"),
        ("Kuaishou Lite", "Kuaishou Live", "two edition words"),
        ("Baidu Maps", "Baidu Mail", "two edition words"),
        ("Ximalaya FM", "Ximalaya TV", "two edition words"),
        ("Kugou Music", "Kuwo Music", "two edits"),
        ("QQ Browser", "UC Browser", "two edits"),
        ("Dianping", "Dianpnig2", "different digits"),
    ],
)
def test_not_a_typo(a: str, b: str, why: str) -> None:
    assert typo_similarity(a, b) is None, why


def test_typo_key() -> None:
    assert typo_key("Tencent Video") == "tencentvideo"
    assert typo_key("WeChat") is None  # 6 letters
    assert typo_key("腾讯视频ABCDEFGH") is None
    assert MIN_LENGTH == 8 and MAX_EDITS == 2


def _brute(keys: list[str], query: str) -> set[int]:
    return {
        i
        for i, k in enumerate(keys)
        if Indel.distance(k, query, score_cutoff=MAX_EDITS) <= MAX_EDITS
    }


def test_typo_index_never_misses_a_key_within_reach() -> None:
    rng = random.Random(4)
    alphabet = "abcdeio"  # small alphabet: many near neighbours
    keys = ["".join(rng.choice(alphabet) for _ in range(rng.randint(8, 14))) for _ in range(600)]
    index = TypoIndex()
    for i, key in enumerate(keys):
        index.add(key, i)
    for _ in range(300):
        base = list(rng.choice(keys))
        for _ in range(rng.randint(0, 2)):  # up to two random insertions / deletions
            pos = rng.randrange(len(base))
            if rng.random() < 0.5 and len(base) > 8:
                del base[pos]
            else:
                base.insert(pos, rng.choice(alphabet))
        query = "".join(base)
        assert _brute(keys, query) <= index.candidates(query)


def test_typo_index_remove() -> None:
    index = TypoIndex()
    index.add("tencentvideo", 1)
    index.add("tencentvideo", 2)
    assert index.candidates("tencentvidoe") == {1, 2}
    index.remove("tencentvideo", 1)
    assert index.candidates("tencentvidoe") == {2}
    index.remove("tencentvideo", 2)
    assert index.candidates("tencentvidoe") == set() and len(index) == 0
