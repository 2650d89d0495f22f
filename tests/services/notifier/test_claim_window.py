"""The window's ranking by hand: turns within a queue's slots, places per destination, age
order kept within a place. (Random mixes against the SQL ranking of every due row are in
``test_dispatcher_window``.)"""

from __future__ import annotations

from collections.abc import Callable

from services.notifier.claim_window import Ranked, rank_window


def slots_of(limits: dict[str, int]) -> Callable[[str, str], int]:
    def slots(queue: str, channel: str) -> int:
        return limits.get(queue, 4 if channel == "webhook" else 16)

    return slots


def test_a_deep_queue_gives_its_slots_and_every_first_row_comes_before_any_second() -> None:
    rows = [(f"d{n}", "webhook", "http://deep", "http://deep") for n in range(6)]
    rows += [("a1", "webhook", "http://a", "http://a"), ("a2", "webhook", "http://a", "http://a")]
    rows += [("m1", "email", "smtp:", "x@example.com"), ("m2", "email", "smtp:", "x@example.com")]
    rows += [("m3", "email", "smtp:", "y@example.com")]
    ranked = rank_window(rows, slots_of({}), wanted=20)
    assert [r.id for r in ranked] == ["d0", "a1", "m1", "m3", "d1", "a2", "m2", "d2", "d3"]
    assert ranked[0] == Ranked("d0", "http://deep", 1, 4, 6)
    assert {r.queue: r.in_window for r in ranked} == {"http://deep": 6, "http://a": 2, "smtp:": 3}


def test_slots_left_cut_a_queue_and_wanted_cuts_the_answer() -> None:
    rows = [(f"q{n}", "webhook", "http://q", "http://q") for n in range(3)]
    rows += [(f"r{n}", "dingtalk", f"ding:{n}", f"ding:{n}") for n in range(3)]
    ranked = rank_window(rows, slots_of({"http://q": 1}), wanted=3)
    assert [r.id for r in ranked] == ["q0", "r0", "r1"]
    assert ranked[0].slots == 1
    assert rank_window([], slots_of({}), wanted=5) == []


def test_a_queue_without_a_slot_gives_nothing() -> None:
    rows = [("z1", "gone", "gone:1", "gone:1"), ("w1", "webhook", "http://w", "http://w")]
    ranked = rank_window(rows, slots_of({"gone:1": 0}), wanted=5)
    assert [r.id for r in ranked] == ["w1"]
