"""The pain-precision metric (benchmarks/pain_precision.py) on a hand-made toy: no model, no DB."""

from __future__ import annotations

import pytest

from benchmarks.pain_precision import NEGATIVE, NEUTRAL, POSITIVE, view_precision

TRUTH = {
    "a": NEGATIVE,
    "b": NEGATIVE,
    "c": NEGATIVE,
    "d": POSITIVE,
    "e": POSITIVE,
    "f": NEUTRAL,
    "g": NEGATIVE,
}
# rank 1: 3 of 4 negative; rank 2: 1 of 3 negative (d, f non-negative: mostly non-negative);
# rank 3: 1 of 2 (exactly half: not "mostly"); "a" sits in two themes and counts in each.
ROWS = [(2, "T2", "sizing runs small"), (1, "T1", "zipper broke"), (3, "T3", "shipping")]
MEMBERS = {
    "T1": ["a", "b", "c", "d", "a"],  # "a" twice (two segments of one item): counted once
    "T2": ["a", "d", "f"],
    "T3": ["g", "e", "zz"],  # "zz" has no truth: left out and counted as unlabelled
}


def test_pooled_precision_counts_an_item_once_per_theme() -> None:
    out = view_precision(ROWS, MEMBERS, TRUTH, k=10)
    assert out["k"] == 3  # fewer rows than k: over what the view has
    assert [t["rank"] for t in out["themes"]] == [1, 2, 3]
    assert [(t["items"], t["hits"]) for t in out["themes"]] == [(4, 3), (3, 1), (2, 1)]
    assert out["items"] == 9 and out["hits"] == 5
    assert out["precision"] == pytest.approx(5 / 9, abs=1e-4)
    assert out["macro_precision"] == pytest.approx((0.75 + 1 / 3 + 0.5) / 3, abs=1e-4)
    assert out["unlabelled"] == 1


def test_mostly_non_negative_is_strictly_more_than_half() -> None:
    out = view_precision(ROWS, MEMBERS, TRUTH, k=10)
    assert [t["mostly_miss"] for t in out["themes"]] == [False, True, False]
    assert out["mostly_miss"] == 1


def test_k_cuts_by_rank_and_hit_set_switches_to_praise() -> None:
    top1 = view_precision(ROWS, MEMBERS, TRUTH, k=1)
    assert top1["k"] == 1 and top1["precision"] == 0.75 and top1["mostly_miss"] == 0
    praise = view_precision(ROWS, MEMBERS, TRUTH, hit=frozenset({POSITIVE}), k=10)
    assert praise["hits"] == 3  # d in T1, d in T2, e in T3
    assert praise["mostly_miss"] == 2  # T1 (1 of 4 positive) and T2 (1 of 3); T3 is half
    # neutral counted as negative: T2 becomes 2 of 3
    lenient = view_precision(ROWS, MEMBERS, {**TRUTH, "f": NEGATIVE}, k=10)
    assert lenient["hits"] == 6 and lenient["mostly_miss"] == 0


def test_empty_view_and_theme_without_members() -> None:
    assert view_precision([], MEMBERS, TRUTH)["precision"] is None
    out = view_precision([(1, "T9", "ghost")], MEMBERS, TRUTH)
    assert out["k"] == 1 and out["precision"] is None and out["themes"][0]["share"] is None
    assert out["mostly_miss"] == 0
