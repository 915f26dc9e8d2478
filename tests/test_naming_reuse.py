"""An incremental run keeps the names of themes that barely changed (``naming.reusable_names`` and
``naming.name_themes``): synthetic data and a spy labeler, no model, no store."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from painpoints.discovery.naming import context_rows, name_themes, reusable_names
from painpoints.discovery.records import ThemeName
from painpoints.discovery.themes import Curation


class SpyLabeler:
    """Names theme t "fresh t" and records how many texts it read."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def name(self, texts: Sequence[str], X, labels, centroids, encode=None, fixed=None) -> list[ThemeName]:
        self.calls.append(len(texts))
        return [ThemeName((fixed or {}).get(t, f"fresh {t}"), "", [f"kw{t}"], []) for t in range(len(centroids))]


class NoEncoder:
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.zeros((len(texts), 4), np.float32)


def old(tid: str) -> ThemeName:
    return ThemeName(f"{tid} label", f"{tid} description", [f"{tid} keyword"], [f"{tid} quote"])


def setup(a_new: int, b_new: int):
    """Theme A (index 0) and B (index 1), 40 members each last run; ``*_new`` of them replaced now."""
    order = ["T001", "T002"]
    ids = [f"s{i}" for i in range(80)]
    previous: dict[str, tuple[str | None, str | None]] = {
        s: ("T001" if i < 40 else "T002", "h") for i, s in enumerate(ids)
    }
    hashes = ["h"] * 80
    for i in range(a_new):
        hashes[i] = "changed"
    for i in range(b_new):
        hashes[40 + i] = "changed"
    labels = np.array([0] * 40 + [1] * 40)
    return order, labels, ids, hashes, previous


def test_a_theme_keeps_its_name_when_at_most_5_percent_of_it_changed() -> None:
    order, labels, ids, hashes, previous = setup(a_new=2, b_new=3)  # 2 of 40 = 5%; 3 of 40 > 5%
    names = {"T001": old("T001"), "T002": old("T002")}
    fixed = {0: "Kept A", 1: "Kept B"}
    reuse = reusable_names(order, labels, ids, hashes, previous, names, fixed, Curation())
    # a changed text counts twice (it left with its old text and came back with a new one): 2 → 4 of 40
    assert reuse == {}
    order, labels, ids, hashes, previous = setup(a_new=1, b_new=3)
    reuse = reusable_names(order, labels, ids, hashes, previous, names, fixed, Curation())
    assert list(reuse) == [0] and reuse[0].label == "Kept A" and reuse[0].keywords == ["T001 keyword"]


def test_only_themes_with_a_kept_label_and_a_past_name_are_reused() -> None:
    order, labels, ids, hashes, previous = setup(a_new=0, b_new=0)
    assert reusable_names(
        order, labels, ids, hashes, previous, {"T001": old("T001")}, {0: "A", 1: "B"}, Curation()
    ) == {0: ThemeName("A", "T001 description", ["T001 keyword"], ["T001 quote"])}
    assert reusable_names(order, labels, ids, hashes, previous, {"T001": old("T001")}, {}, Curation()) == {}
    # last run's segments of a theme merged into T001 count as T001's
    merged = {s: ("T009" if tid == "T001" else tid, h) for s, (tid, h) in previous.items()}
    got = reusable_names(
        order, labels, ids, hashes, merged, {"T001": old("T001")}, {0: "A"}, Curation({}, {"T009": "T001"})
    )
    assert list(got) == [0]


def test_the_labeler_reads_only_what_changed() -> None:
    labels = np.array([0] * 300 + [1] * 300 + [-1] * 100)
    texts = [f"t{i}" for i in range(len(labels))]
    X, centroids = np.zeros((len(labels), 4), np.float32), np.zeros((2, 4), np.float32)
    spy = SpyLabeler()
    every = name_themes(spy, texts, X, labels, centroids, NoEncoder(), {}, {})
    assert spy.calls == [700] and [n.label for n in every] == ["fresh 0", "fresh 1"]
    some = name_themes(spy, texts, X, labels, centroids, NoEncoder(), {0: "A"}, {0: old("T001")})
    assert spy.calls[-1] == 300 + 50 + 50  # theme 1 whole, 50 of theme 0 and of the unassigned as context
    assert some[0] == old("T001") and some[1].label == "fresh 1"
    spy.calls.clear()
    both = name_themes(spy, texts, X, labels, centroids, NoEncoder(), {}, {0: old("T001"), 1: old("T002")})
    assert spy.calls == [] and both == [old("T001"), old("T002")]  # nothing changed: no labeler call


def test_context_rows_are_seeded_and_sorted() -> None:
    labels = np.array([0] * 100 + [1] * 10)
    rows = context_rows(labels, {0, 1}, 20)
    assert len(rows) == 20 + 10 and list(rows) == sorted(rows)
    assert np.array_equal(rows, context_rows(labels, {0, 1}, 20))
