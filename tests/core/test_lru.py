"""core/lru.py: the bounded memo the runtime, perception and web caches are made of."""

from __future__ import annotations

import threading

from pertouch.core.lru import LRU


def test_keeps_the_most_recently_used_and_makes_a_value_once():
    made = []
    memo = LRU(2)
    for key in ("a", "b", "a", "c"):
        memo.get_or(key, lambda key=key: made.append(key) or key.upper())
    assert made == ["a", "b", "c"] and list(memo) == ["a", "c"]  # "a" used again: "b" went
    assert memo.hit("a") == "A" and list(memo) == ["c", "a"] and memo.hit("b") is None
    memo.put("d", "D")
    assert list(memo) == ["a", "d"]
    memo.clear()
    assert not memo


def test_memos_may_share_a_lock_and_make_outside_it():
    lock = threading.RLock()
    one, two = LRU(4, lock), LRU(4, lock)
    assert one.lock is two.lock is lock

    def make():  # another thread can use the memo while a value is being made
        t = threading.Thread(target=lambda: two.put("x", 1))
        t.start()
        t.join(5)
        return "slow"

    assert one.get_or("k", make) == "slow" and two.hit("x") == 1
