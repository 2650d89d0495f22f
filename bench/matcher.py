"""Matcher benchmark: WatchIndex against a naive scan of every watch item, same run, same rules.

    .venv/bin/python -m bench.matcher [--quick]

For 10k, 100k and 1M watch items (``--quick``: 10k and 100k) from one subscriber per ten
items, prints one JSON line per size and writes ``bench/results/matcher.json`` and
``bench/results/matcher.png``:

- ``entities_per_s``: entities matched per second by the index, over notices of 200 entities
  (entity preparation included: each notice is new to the matcher);
- ``ratio_vs_naive``: index speed over the naive scan's on the same sample of entities; the
  naive scan (:class:`~services.matcher.matching.NaiveScan`) applies the very same rules,
  rapidfuzz typo checks included, to every watch item for every entity;
- ``same_results``: the index and the scan return equal results on that sample (and on a
  whole notice at 10k);
- ``build_s``: building the index from cold caches (every distinct name prepared);
- ``mem_mb_per_100k``: memory the built index holds, prepared names included, per 100k
  items (tracemalloc, in a separate build).

The population: names drawn with Zipf weights from the directory's apps and companies and
their spellings (pinyin, traditional, full width, spaces, upper case, platform notes), plus a
long tail of names nobody else watches (a third of the items); 2% of items carry aliases.
Notices name directory apps (with their publisher, an English legal name or no developer),
spelling variants, edition traps and unknown apps.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from typing import Any

from opencc import OpenCC

from bench.common import RESULTS, emit, machine
from services.matcher.matching import NaiveScan, WatchIndex, WatchItem, default_directory
from services.matcher.matching.features import clear_caches
from services.matcher.matching.names import has_cjk, pinyin_key
from shared.events import Entity, NoticeEvent, Regulator

ENTITIES_PER_NOTICE = 200
NOTICES = 5
ITEMS_PER_SUBSCRIBER = 10
NAIVE_BUDGET = 2_000_000
"""About how many (watch, entity) comparisons the naive scan gets per size."""

_S2T = OpenCC("s2t")
_HANZI = "安百北博彩创达大德鼎东方飞丰福港广海行和恒华汇佳嘉健金京君凯康乐力联龙美米明南鹏品"
_HANZI += "奇启瑞三森盛世泰天通同万维伟文祥小新信星兴讯阳易逸优宇元云泽智中众卓"
_LATIN = "alpha nova terra luma vivo pixel cloud smart fast easy happy star moon sun blue fox"
_LATIN += " panda tiger bear lotus jade river ocean peak swift bright prime zen echo orbit nest"
_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwxz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
_APP_TAILS = ["", "", "助手", "视频", "商城", "阅读", "直播", "浏览器", "出行", "健康", "钱包"]
_CO_TAILS = ["科技有限公司", "网络科技有限公司", "信息技术有限公司", "文化传媒有限公司"]
_CITIES = ["北京", "上海", "深圳市", "杭州", "广州市", "成都", ""]


def _variants(name: str, rng: random.Random) -> list[str]:
    out = [name, name.upper(), " ".join(name) if len(name) < 6 else name]
    out.append("".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name))
    if has_cjk(name):
        out.append(_S2T.convert(name))
        out.append(pinyin_key(name) or name)
        out.append(name + rng.choice(["（安卓版）", "(iOS)", "APP", "（V2.1.0）"]))
    return list(dict.fromkeys(out))


class Population:
    """Deterministic watch items and notices for a size."""

    def __init__(self, items: int, seed: int = 2024) -> None:
        self.rng = random.Random(seed)
        directory = default_directory()
        rng = self.rng
        # popular names: Zipf over apps and companies, then any of their spellings
        self.app_vocab = [[v for n in b.names for v in _variants(n, rng)] for b in directory.brands]
        self.company_vocab = [
            [v for n in (*g.names, *g.members) for v in _variants(n, rng)[:4]]
            for g in directory.groups
        ]
        rng.shuffle(self.app_vocab)
        rng.shuffle(self.company_vocab)
        self.app_weights = [1 / (r + 1) ** 1.1 for r in range(len(self.app_vocab))]
        self.company_weights = [1 / (r + 1) ** 1.1 for r in range(len(self.company_vocab))]
        tail_size = max(100, items // 3)
        self.tail_apps = [self._tail_app() for _ in range(tail_size)]
        self.tail_companies = [self._tail_company() for _ in range(tail_size // 2)]
        self.items = self._items(items)

    def _tail_app(self) -> str:
        rng = self.rng
        if rng.random() < 0.7:
            return "".join(rng.choices(_HANZI, k=rng.randint(2, 4))) + rng.choice(_APP_TAILS)
        words = _LATIN.split()
        made_up = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(3, 4)))
        return f"{made_up.title()} {rng.choice(words).title()}"

    def _tail_company(self) -> str:
        rng = self.rng
        core = "".join(rng.choices(_HANZI, k=rng.randint(2, 4)))
        return rng.choice(_CITIES) + core + rng.choice(_CO_TAILS)

    def _name(self, kind: str) -> tuple[str, list[str]]:
        """A name to watch, and other names of the same app or company (for aliases)."""
        rng = self.rng
        if kind == "app":
            if rng.random() < 0.33:
                name = rng.choice(self.tail_apps)
                return name, [pinyin_key(name) or name.upper()]
            family = rng.choices(self.app_vocab, self.app_weights)[0]
        else:
            if rng.random() < 0.33:
                name = rng.choice(self.tail_companies)
                return name, [name.replace("有限公司", "")]
            family = rng.choices(self.company_vocab, self.company_weights)[0]
        return rng.choice(family), family

    def _items(self, count: int) -> list[WatchItem]:
        """``ITEMS_PER_SUBSCRIBER`` different watches per subscriber."""
        rng = self.rng
        out: list[WatchItem] = []
        for number in range(max(1, count // ITEMS_PER_SUBSCRIBER)):
            sub = f"sub_{number:07d}"
            mine: set[tuple[str, str]] = set()
            while len(mine) < ITEMS_PER_SUBSCRIBER and len(out) < count:
                kind = "app" if rng.random() < 0.7 else "company"
                name, family = self._name(kind)
                if (kind, name) in mine:
                    continue
                mine.add((kind, name))
                # a few subscribers add their own other name for what they watch
                aliases = (rng.choice(family),) if rng.random() < 0.02 else ()
                out.append(WatchItem(sub, kind, name, id=len(out), aliases=aliases))  # type: ignore[arg-type]
        rng.shuffle(out)  # subscribers add and change watches over time
        return out

    def notice(self, number: int, known: float = 0.55) -> NoticeEvent:
        """A notice of 200 entities; ``known``: the share naming directory apps (a CAC list
        of famous apps ~0.55, an MIIT list of mostly small apps ~0.1)."""
        rng = random.Random(1000 + number)
        directory = default_directory()
        entities = []
        for _ in range(ENTITIES_PER_NOTICE):
            # directory apps (4/5 as listed, 1/5 as spelling variants or editions), then
            # apps of the long tail (7/10 with a developer), SDKs, mini programs, companies
            share = rng.random()
            if share < known:
                roll = share / known * 0.7
            else:
                roll = 0.7 + (share - known) / (1 - known) * 0.3
            if roll < 0.56:
                brand = rng.choice(directory.brands)
                name = rng.choice(brand.names)
                developer = None
                if brand.owner and rng.random() < 0.7:
                    group = directory.group(brand.owner)
                    names = [brand.publisher] if brand.publisher else []
                    names += [n for e in group.entities for n in e]
                    developer = rng.choice(names) if names else None
                entities.append(Entity(name=name, developer=developer))
            elif roll < 0.7:
                name = rng.choice(rng.choice(self.app_vocab))
                entities.append(Entity(name=name + rng.choice(["", "极速版", "（安卓版）"])))
            elif roll < 0.9:
                entities.append(
                    Entity(
                        name=rng.choice(self.tail_apps), developer=rng.choice(self.tail_companies)
                    )
                )
            else:
                kind = rng.choice(["sdk", "mini_program", "company"])
                name = self._tail_company() if kind == "company" else self._tail_app() + "SDK"
                entities.append(Entity(kind=kind, name=name))
        return NoticeEvent(
            notice_id=f"bench-{number}",
            regulator=Regulator(code="MIIT", name="工业和信息化部"),
            title="bench",
            published_on=date(2024, 1, 1),
            entities=entities,
        )


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def _forget_entities() -> None:
    from services.matcher.matching import features

    features.entity_view.cache_clear()


def _match_rate(index: WatchIndex, notices: list[NoticeEvent]) -> tuple[float, float, int]:
    """(entities per second, ms per notice, matches per notice) over ``notices``."""
    match_s = 0.0
    matches = 0
    for event in notices:
        _forget_entities()
        started = time.perf_counter()
        result = index.match(event)
        match_s += time.perf_counter() - started
        matches += sum(len(m) for m in result.values())
    entities = sum(len(n.entities) for n in notices)
    return entities / match_s, match_s / len(notices) * 1000, round(matches / len(notices))


def _speed(size: int, population: Population) -> dict[str, Any]:
    items = population.items
    notices = [population.notice(n) for n in range(NOTICES)]
    quiet = [population.notice(n, known=0.1) for n in range(NOTICES, 2 * NOTICES)]
    clear_caches()
    gc.collect()
    build_s, index = _timed(lambda: WatchIndex(items))
    gc.collect()
    gc.freeze()  # what a long-running matcher does once its watchlist is loaded
    try:
        entities_per_s, ms_per_notice, matches = _match_rate(index, notices)
        _, ms_quiet, matches_quiet = _match_rate(index, quiet)

        # the naive scan on a sample of entities (whole notices take minutes at 1M)
        naive = NaiveScan(items)
        sample_size = max(4, min(ENTITIES_PER_NOTICE, NAIVE_BUDGET // size))
        sample = notices[0].model_copy(update={"entities": notices[0].entities[:sample_size]})
        _forget_entities()
        naive_s, naive_result = _timed(lambda: naive.match(sample))
        _forget_entities()
        index_s, index_result = _timed(lambda: index.match(sample))
        same = naive_result == index_result
        if size <= 10_000:
            same = same and naive.match(notices[1]) == index.match(notices[1])
            same = same and naive.match(quiet[1]) == index.match(quiet[1])
    finally:
        gc.unfreeze()
    return {
        "distinct_watches": index.distinct_watches,
        "entities_per_s": round(entities_per_s),
        "ms_per_notice": round(ms_per_notice, 1),
        "matches_per_notice": matches,
        "ms_per_notice_mostly_unknown_apps": round(ms_quiet, 1),
        "matches_per_notice_mostly_unknown_apps": matches_quiet,
        "naive_entities_per_s": round(sample_size / naive_s, 2),
        "naive_sample_entities": sample_size,
        "index_sample_entities_per_s": round(sample_size / index_s),
        "ratio_vs_naive": round(naive_s / index_s, 1),
        "same_results": same,
        "build_s": round(build_s, 2),
        "build_us_per_item": round(build_s / size * 1e6, 2),
    }


def _memory(items: list[WatchItem]) -> int:
    """Bytes a freshly built index holds (prepared names included), by tracemalloc."""
    clear_caches()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        index = WatchIndex(items)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del index
    gc.collect()
    return held


def run_size(size: int) -> dict[str, Any]:
    population = Population(size)
    result: dict[str, Any] = {
        "bench": "matcher",
        "watch_items": size,
        "subscribers": len({i.subscriber_id for i in population.items}),
    }
    result.update(_speed(size, population))
    held = _memory(population.items)
    result["mem_mb_per_100k"] = round(held / 1e6 / (size / 100_000), 1)
    if size == 100_000:
        result["goal"] = ">= 100x naive at 100k items, same results"
        result["goal_met"] = result["ratio_vs_naive"] >= 100 and bool(result["same_results"])
    return result


def plot(results: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["watch_items"] for r in results]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(sizes, [r["index_sample_entities_per_s"] for r in results], "o-", label="WatchIndex")
    ax.plot(sizes, [r["naive_entities_per_s"] for r in results], "s--", label="naive scan")
    for r in results:
        ax.annotate(
            f"{r['ratio_vs_naive']:,.0f}x",
            (r["watch_items"], r["index_sample_entities_per_s"]),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    top = max(r["index_sample_entities_per_s"] for r in results)
    ax.set_ylim(top=top * 5)
    ax.set_xlabel("watch items (one subscriber per 10)")
    ax.set_ylabel("entities matched per second")
    ax.set_title("regwatch matcher: index vs naive scan (same rules, same results)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    RESULTS.mkdir(parents=True, exist_ok=True)
    fig.savefig(RESULTS / "matcher.png", dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k items only")
    args = parser.parse_args()
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    default_directory()  # load once, outside the measurements
    results = []
    for size in sizes:
        result = run_size(size)
        emit(result)
        results.append(result)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "matcher.json"
    path.write_text(json.dumps({"machine": machine(), "results": results}, indent=2))
    plot(results)


if __name__ == "__main__":
    main()
