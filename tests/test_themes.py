"""Theme identity, curation and emerging-theme rules on synthetic vectors (no model, no Prefect).

The clusterer stand-in is k-means with a fixed k: these tests are about what happens *after*
clustering; UMAP + HDBSCAN are exercised in test_cluster_label_rank.py and end to end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from painpoints.discovery import themes
from painpoints.discovery.columns import ArrowColumn
from painpoints.discovery.records import ThemeEvent
from painpoints.discovery.themes import Curation, KnownTheme
from painpoints.discovery.trends import TrendRule, theme_trends
from painpoints.discovery.vectors import centroids


def blobs(n_per: int, k: int, dim: int = 16, seed: int = 0, spread: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """``k`` well-separated unit-vector blobs of ``n_per`` points; returns vectors and true labels."""
    rng = np.random.default_rng(seed)
    centers = np.eye(dim)[:k]
    X = np.concatenate([c + spread * rng.standard_normal((n_per, dim)) for c in centers])
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), np.repeat(np.arange(k), n_per)


@dataclass
class KMeansStandIn:
    """Trivial clusterer with the ThemeClusterer interface (labels_, how_, centroids_, min_cluster_size_)."""

    k: int
    min_cluster_size: int | None = None

    def fit(self, X: np.ndarray) -> KMeansStandIn:
        from sklearn.cluster import KMeans

        self.labels_ = KMeans(self.k, n_init=4, random_state=0).fit_predict(X)
        self.how_ = np.full(len(X), "cluster", dtype=object)
        self.centroids_ = centroids(X, self.labels_, self.k)
        self.min_cluster_size_ = self.min_cluster_size or 5
        return self


def known_from(X: np.ndarray, labels: np.ndarray, ids: list[str], status: str = "active") -> dict[str, KnownTheme]:
    C = centroids(X, labels, len(ids))
    return {t: KnownTheme(t, f"label {t}", "offline", status, C[i]) for i, t in enumerate(ids)}


def test_match_is_one_to_one_and_thresholded() -> None:
    old = np.eye(3, dtype=np.float32)
    new = np.array([[0.9, 0.1, 0], [0.95, 0, 0.05], [0, 0.1, 1]], dtype=np.float32)
    new /= np.linalg.norm(new, axis=1, keepdims=True)
    pairs = themes.match(new, old, threshold=0.8)
    assert sorted((a, b) for a, b, _ in pairs) == [(1, 0), (2, 2)]  # the better of two claims wins theme 0
    assert themes.match(new, old, threshold=0.999) == []


def test_fresh_ids_never_reuse() -> None:
    assert next(themes.fresh_ids([])) == "T001"
    ids = themes.fresh_ids(["T002", "T010", "X"])
    assert [next(ids), next(ids)] == ["T011", "T012"]


def test_curation_latest_wins_and_merges_resolve_without_cycles() -> None:
    rows = [
        ("a", "rename", "T1", None, "Old", None),
        ("b", "rename", "T1", None, "New", None),
        ("c", "pin", "T2", None, None, None),
        ("d", "unpin", "T2", None, None, None),
        ("e", "hide", "T3", None, None, None),
        ("f", "merge", "T4", "T5", None, None),
        ("g", "merge", "T5", "T6", None, None),
        ("h", "split", "T7", None, "3", None),
        ("i", "split", "T8", None, "2", "run-1"),
    ]
    cur = Curation.from_rows(rows)
    assert cur.renames == {"T1": "New"} and cur.pinned == set() and cur.hidden == {"T3"}
    assert cur.resolve("T4") == "T6" and cur.resolve("T9") == "T9" and cur.resolve(None) is None
    assert cur.splits == {"T7": ("h", 3)}  # T8's split was already applied
    loop = Curation(merges={"A": "B", "B": "A"})
    assert loop.resolve("A") in {"A", "B"}  # terminates


def test_incremental_keeps_old_assignments_and_assigns_new_by_centroid() -> None:
    X, y = blobs(30, 3)
    ids = ["T001", "T002", "T003"]
    known = known_from(X, y, ids)
    seg = [f"s{i}" for i in range(len(X))]
    hashes = [f"h{i}" for i in range(len(X))]
    previous = {s: (ids[c], h) for s, h, c in zip(seg, hashes, y, strict=True)}
    previous["s0"] = (None, "h0")  # unassigned last time: stays a leftover
    previous["s1"] = ("T002", "h1")  # deliberately "wrong" but kept: old items never move
    del previous["s2"]  # new segment: nearest centroid
    previous["s3"] = ("T001", "changed")  # text changed: reassigned like a new one
    theme_of, how = themes.carry_over(seg, hashes, X, previous, known, Curation(), threshold=0.5)
    assert theme_of[0] is None and how[0] == "outlier"
    assert theme_of[1] == "T002" and how[1] == "kept"
    assert theme_of[2] == "T001" and how[2] == "assigned"
    assert theme_of[3] == "T001" and how[3] == "assigned"
    far = -X[:1]  # opposite direction: no theme is close
    theme_of, how = themes.carry_over(["new"], ["hx"], far, previous, known, Curation(), threshold=0.5)
    assert theme_of == [None] and list(how) == ["outlier"]


def test_full_run_keeps_ids_of_matched_clusters_and_retires_lost_ones() -> None:
    X, y = blobs(40, 3)
    known = known_from(X, y, ["T001", "T002", "T003"])
    known["T009"] = KnownTheme("T009", "gone", "offline", "active", np.roll(np.eye(16, dtype=np.float32)[0], 8))
    seg = [f"s{i}" for i in range(len(X))]
    ident = themes.identify(
        X,
        seg,
        seg,
        known,
        {},
        Curation(),
        "full",
        lambda mcs, leftovers=False, min_items=None: KMeansStandIn(3),
        None,
        match_threshold=0.8,
        outlier_threshold=0.3,
        seed=0,
    )
    assert {themes_of for themes_of in ident.theme_of} == {"T001", "T002", "T003"}
    for c, tid in enumerate(["T001", "T002", "T003"]):
        assert {ident.theme_of[i] for i in np.flatnonzero(y == c)} == {tid}
    C = centroids(X, y, 3)
    found = [KnownTheme(t, "x", "offline", "active", C[i], items=40) for i, t in enumerate(["T001", "T002", "T003"])]
    state, events = themes.next_state(found, known, Curation(), [], "r2", datetime.now())
    assert {r.theme_id: r.status for r in state}["T009"] == "dormant"
    assert events == [ThemeEvent("T009", "dormant")]


def test_full_run_new_cluster_gets_new_id_and_split_is_recorded() -> None:
    X, y = blobs(40, 3)
    known = known_from(X, np.minimum(y, 1), ["T001", "T002"])  # last run had blobs 1 and 2 as one theme
    seg = [f"s{i}" for i in range(len(X))]
    previous = {s: ("T001" if c == 0 else "T002", s) for s, c in zip(seg, y, strict=True)}
    ident = themes.identify(
        X,
        seg,
        seg,
        known,
        previous,
        Curation(),
        "full",
        lambda mcs, leftovers=False, min_items=None: KMeansStandIn(3),
        None,
        match_threshold=0.6,
        outlier_threshold=0.3,
        seed=0,
    )
    ids = {c: {ident.theme_of[i] for i in np.flatnonzero(y == c)} for c in range(3)}
    assert ids[0] == {"T001"}
    assert {ids[1].pop(), ids[2].pop()} == {"T002", "T003"}  # one half keeps T002, the other is new
    splits = [e for e in ident.events if e.event == "split"]
    assert [(e.theme_id, e.other_theme_id) for e in splits] == [("T003", "T002")]
    assert themes.same_theme_share([previous[s][0] for s in seg], ident.theme_of) == pytest.approx(
        80 / 120
    )  # blob 0 and T002's kept half


def test_curation_merge_split_and_pin_survive_a_full_recluster() -> None:
    X, y = blobs(40, 4)
    ids = ["T001", "T002", "T003", "T004"]
    known = known_from(X, y, ids)
    seg = [f"s{i}" for i in range(len(X))]
    previous = {s: (ids[c], s) for s, c in zip(seg, y, strict=True)}
    cur = Curation(merges={"T002": "T001"}, pinned={"T004"}, splits={"T003": ("cid", 2)})
    # the stand-in finds only 3 clusters: blobs 3 and 4 collapse, so T004 would be lost without the pin
    X3 = X.copy()
    X3[y == 3] = X[y == 2][: (y == 3).sum()]
    ident = themes.identify(
        X3,
        seg,
        seg,
        known,
        previous,
        cur,
        "full",
        lambda mcs, leftovers=False, min_items=None: KMeansStandIn(3),
        None,
        match_threshold=0.8,
        outlier_threshold=0.3,
        seed=0,
    )
    got = {c: {ident.theme_of[i] for i in np.flatnonzero(y == c)} for c in range(4)}
    assert got[0] == got[1] == {"T001"}  # merged stays merged
    assert got[3] == {"T004"}  # pinned theme keeps its members
    assert len(got[2]) == 2 and not got[2] & {"T003"}  # split into two new ids, parent gone
    assert ident.applied_curation == ["cid"]
    assert sum(e.event == "split" for e in ident.events) >= 2


def test_incremental_clusters_leftovers_only_when_new_text_is_left_over() -> None:
    X, y = blobs(30, 3)
    known = known_from(X[y < 2], y[y < 2], ["T001", "T002"])  # the third blob was never a theme
    seg = [f"s{i}" for i in range(len(X))]
    old = {s: (("T001", "T002", None)[c], s) for s, c in zip(seg, y, strict=True)}
    same = themes.identify(
        X,
        seg,
        seg,
        known,
        old,
        Curation(),
        "incremental",
        lambda mcs, leftovers=False, min_items=None: KMeansStandIn(1, mcs),
        10,
        match_threshold=0.8,
        outlier_threshold=0.5,
        seed=0,
    )
    assert {same.theme_of[i] for i in np.flatnonzero(y == 2)} == {None}  # old leftovers alone: no churn
    fresh = {s: v for s, v in old.items() if int(s[1:]) < 75}  # 15 of the third blob are new
    grown = themes.identify(
        X,
        seg,
        seg,
        known,
        fresh,
        Curation(),
        "incremental",
        lambda mcs, leftovers=False, min_items=None: KMeansStandIn(1, mcs),
        10,
        match_threshold=0.8,
        outlier_threshold=0.5,
        seed=0,
    )
    assert {grown.theme_of[i] for i in np.flatnonzero(y == 2)} == {"T003"}
    assert {grown.theme_of[i] for i in np.flatnonzero(y == 0)} == {"T001"}
    asked: list[int | None] = []

    def recording(mcs: int | None, leftovers: bool = False, min_items: int | None = None) -> KMeansStandIn:
        asked.append(min_items)
        return KMeansStandIn(1, mcs)

    args = (X, seg, seg, known, fresh, Curation(), "incremental", recording, 10)
    themes.identify(*args, match_threshold=0.8, outlier_threshold=0.5, seed=0, min_items=12)
    assert asked == [12]  # the last full run's smallest theme in items reaches the leftover clusterer
    # 30 leftovers cannot hold two themes of 16 items: they are not clustered (one lump would be a theme)
    small = themes.identify(*args, match_threshold=0.8, outlier_threshold=0.5, seed=0, min_items=16)
    assert asked == [12] and {small.theme_of[i] for i in np.flatnonzero(y == 2)} == {None}


def test_next_state_marks_curated_merges() -> None:
    X, y = blobs(10, 2)
    known = known_from(X, y, ["T001", "T002"])
    found = [KnownTheme("T001", "x", "offline", "active", centroids(X, np.zeros(20, int), 1)[0], items=20)]
    state, events = themes.next_state(found, known, Curation(merges={"T002": "T001"}), [], "r", datetime.now())
    row = {r.theme_id: r for r in state}["T002"]
    assert row.status == "merged" and row.merged_into == "T001"
    assert events == [ThemeEvent("T002", "merged", other_theme_id="T001", detail="curation")]


def test_emerging_themes_new_and_spiking() -> None:
    end = datetime(2026, 11, 20)
    created, labels = [], []
    for week in range(9):  # theme 0 steady at 10/week, theme 1 at 3/week then 15 in the last week
        created += [end - timedelta(weeks=week, hours=h) for h in range(10)]
        labels += [0] * 10
        n1 = 15 if week == 0 else 3
        created += [end - timedelta(weeks=week, hours=h) for h in range(n1)]
        labels += [1] * n1
    created += [end - timedelta(hours=1)] * 6 + [None] * 4  # theme 2: new, 6 recent items; 4 undated items
    labels += [2] * 10
    rows = theme_trends(np.array(labels), created, 3, [False, False, True], TrendRule())
    assert not rows[0].emerging and abs(rows[0].zscore) < 1
    assert rows[1].emerging and rows[1].emerging_reason == "spike" and rows[1].growth == pytest.approx(4.0)
    assert rows[2].emerging and rows[2].emerging_reason == "new" and rows[2].recent_items == 6
    quiet = theme_trends(np.array(labels), created, 3, [False, False, False], TrendRule(min_items=20))
    assert not any(r.emerging for r in quiet)
    undated = theme_trends(np.zeros(3, int), [None] * 3, 1, [True])
    assert undated[0].emerging and undated[0].zscore is None
    # a run's column (Arrow timestamps, what a loaded run holds) reads as the list does; unassigned rows
    # (−1) and rows older than the baseline count nowhere
    column = ArrowColumn.of(created + [end, end - timedelta(weeks=30)], pa.timestamp("us"))
    assert theme_trends(np.array(labels + [-1, 0]), column, 3, [False, False, True], TrendRule()) == rows
