"""Stable theme identity across runs: carry assignments over, match new clusters to known themes,
apply PM curation, and say what changed.

A PM follows "T007 Refund never arrived" for weeks, so a theme id must survive reruns. Reclustering
cannot promise that by itself: UMAP + HDBSCAN turn 1e-7 differences in the vectors into different
partitions. So identity is decided here, after clustering:

* **incremental run** (few new items): segments seen last run keep their theme; a new segment joins
  the nearest known theme centroid when close enough; only the leftovers are clustered, and those
  clusters become new themes (or revive a dormant one they match).
* **full run** (first run, many new items, weekly, or ``--full``): everything is reclustered and each
  cluster is matched one-to-one to a known theme by centroid cosine similarity (Hungarian assignment,
  threshold ``match_threshold``); matched clusters take the theme's id and label, the rest get new ids,
  known themes left without a cluster become dormant.

Curation is applied last so it always wins: merges map a theme into its target, a split re-cuts one
theme into parts once, pins keep a theme alive, renames and hides are attributes of the snapshot.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
from scipy.optimize import linear_sum_assignment

from painpoints.discovery.coded import Coded
from painpoints.discovery.columns import dictionary_codes
from painpoints.discovery.components import ClustererFactory
from painpoints.discovery.lastrun import theme_and_same, theme_counts
from painpoints.discovery.lazy_vectors import prefetch, rows_of
from painpoints.discovery.records import Identity, KnownTheme, ThemeEvent
from painpoints.discovery.vectors import nearest

SPLIT_SHARE = 0.25  # an old theme counts as split when ≥ 2 new themes each got this share of it
# a theme is steady when its members changed by at most this share of its last-run size (added plus
# removed): an incremental run keeps a steady theme's name, centroid and radius from the last run
STEADY_SHARE = 0.05


@dataclass
class Curation:
    """The effective curation: latest rename/pin/hide/move per theme, all merges, pending splits."""

    renames: dict[str, str] = field(default_factory=dict)
    merges: dict[str, str] = field(default_factory=dict)
    pinned: set[str] = field(default_factory=set)
    hidden: set[str] = field(default_factory=set)
    splits: dict[str, tuple[str, int]] = field(default_factory=dict)  # theme → (curation_id, parts)
    moves: dict[str, str] = field(default_factory=dict)  # theme → area id (`painpoints theme move`)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str, str | None, str | None, str | None]]) -> Curation:
        """``(curation_id, action, theme_id, target_theme_id, value, applied_run)`` in creation order."""
        cur = cls()
        for cid, action, theme, target, value, applied in rows:
            if action == "rename" and value:
                cur.renames[theme] = value
            elif action == "merge" and target:
                cur.merges[theme] = target
            elif action in ("pin", "unpin"):
                (cur.pinned.add if action == "pin" else cur.pinned.discard)(theme)
            elif action in ("hide", "unhide"):
                (cur.hidden.add if action == "hide" else cur.hidden.discard)(theme)
            elif action == "split" and applied is None:
                cur.splits[theme] = (cid, max(2, int(value or 2)))
            elif action == "move" and value:
                cur.moves[theme] = value
        return cur

    def resolve(self, theme_id: str | None) -> str | None:
        """Follow merges to the theme that finally holds ``theme_id`` (cycle-safe)."""
        seen = set()
        while theme_id in self.merges and theme_id not in seen:
            seen.add(theme_id)
            theme_id = self.merges[theme_id]
        return theme_id


def fresh_ids(existing: Iterable[str], prefix: str = "T", width: int = 3) -> Iterator[str]:
    """New ids after the highest ``<prefix><number>`` ever used (themes T001…, areas A01…); ids are
    never reused."""
    pattern = re.compile(rf"{re.escape(prefix)}(\d+)")
    top = max((int(m.group(1)) for t in existing if (m := pattern.fullmatch(t))), default=0)
    return (f"{prefix}{i:0{width}d}" for i in itertools.count(top + 1))


def match(new: np.ndarray, old: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
    """One-to-one matching of new to old centroids maximising total cosine similarity; pairs below
    ``threshold`` are dropped. Returns ``(new index, old index, similarity)``."""
    if not len(new) or not len(old):
        return []
    sims = np.asarray(new) @ np.asarray(old).T
    rows, cols = linear_sum_assignment(-sims)
    return [(int(r), int(c), float(sims[r, c])) for r, c in zip(rows, cols, strict=True) if sims[r, c] >= threshold]


def carry_over(
    segment_ids: Sequence[str],
    hashes: Sequence[str],
    X: np.ndarray,
    previous: Mapping[str, tuple[str | None, str | None]],
    known: dict[str, KnownTheme],
    curation: Curation,
    threshold: float,
) -> tuple[Coded, Coded]:
    """Incremental assignment. Returns the theme per segment and how it got it: 'kept' | 'assigned' |
    'outlier' (the leftovers to cluster).

    A segment keeps last run's theme when its text is unchanged; a new (or changed) one joins the
    nearest active theme when it is as close to the centroid as 90% of the theme's members were
    (its ``radius``, never looser than ``threshold``): a loose fixed threshold would let a brand-new
    topic vanish into the nearest big theme. Last run's unassigned and new segments that fit no
    theme are the leftovers."""
    active = [t for t in known.values() if t.status == "active" and t.centroid is not None]
    centroids = np.stack([_centroid(t) for t in active]) if active else np.zeros((0, X.shape[1]), np.float32)
    radius = np.array([max(threshold, t.radius or 0.0) for t in active])
    how = Coded.filled(len(segment_ids), "outlier")  # a byte a row (an object array: 8; n strs: 57)
    last_theme, same = theme_and_same(previous, segment_ids, hashes)  # (None, False) for a segment new this run
    last, names = dictionary_codes(last_theme)  # a code per row (−1: none), not a list of 8-byte pointers
    kept = same & (last >= 0)  # an unchanged text that had a theme
    theme_of = Coded.of_codes(np.where(kept, last, -1), [curation.resolve(t) for t in names])
    how[kept] = "kept"
    fresh = np.flatnonzero(~same).tolist()
    if fresh:
        for i, j in zip(fresh, nearest(X[fresh], centroids, threshold), strict=True):
            if j >= 0 and float(X[i] @ centroids[j]) >= radius[j]:
                theme_of[i], how[i] = curation.resolve(active[j].theme_id), "assigned"
    return theme_of, how


def _centroid(theme: KnownTheme) -> np.ndarray:
    assert theme.centroid is not None, theme.theme_id  # callers pick themes with a centroid
    return theme.centroid


def name_clusters(
    labels: np.ndarray,
    centroids: np.ndarray,
    known: dict[str, KnownTheme],
    taken: set[str],
    threshold: float,
    curation: Curation,
    new_id: Iterator[str],
) -> dict[int, str]:
    """Cluster index → theme id: the known theme it matches (dormant ones come back; one merged away by
    a PM resolves to its target, so merged themes stay merged), else a fresh id. Split parents and
    themes in ``taken`` are not candidates."""
    candidates = [
        t
        for t in known.values()
        if t.status in ("active", "dormant", "merged") and t.centroid is not None and t.theme_id not in taken
    ]
    pairs = match(centroids, np.stack([_centroid(t) for t in candidates]), threshold) if candidates else []
    matched = {c: curation.resolve(candidates[j].theme_id) for c, j, _ in pairs}
    return {int(c): matched.get(int(c)) or next(new_id) for c in sorted(np.unique(labels)) if c >= 0}


def apply_curation(
    theme_of: Sequence[str | None],
    X: np.ndarray,
    previous_theme: Sequence[str | None],
    curation: Curation,
    new_id: Iterator[str],
    seed: int,
) -> tuple[Coded, list[ThemeEvent], list[str]]:
    """Merges, pending splits and pins, applied to the run's assignment. ``previous_theme`` is last
    run's theme per segment (None if none); split parts get ids from ``new_id``. Returns the new
    assignment (a ``Coded``: on codes, not a list of a pointer per segment, 80 MB at 10M), the split
    events and the ids of the split curations performed (they apply once)."""
    from sklearn.cluster import KMeans

    out = (theme_of if isinstance(theme_of, Coded) else Coded.of(theme_of)).mapped(curation.resolve)
    events: list[ThemeEvent] = []
    applied: list[str] = []
    dropped = [theme for theme in sorted(curation.pinned) if not out.is_(theme).any()]
    if dropped:  # a pinned theme keeps its members even if reclustering dropped it
        last, names = dictionary_codes(previous_theme)
        for theme in dropped:
            was = [i for i, prev in enumerate(names) if curation.resolve(prev) == theme]
            if was:
                out[np.isin(last, was)] = theme
    for theme, (cid, parts) in sorted(curation.splits.items()):
        members = np.flatnonzero(out.is_(theme))
        if len(members) < 2 * parts:
            continue
        cut = KMeans(n_clusters=parts, n_init=4, random_state=seed).fit_predict(X[members])
        order = [c for c, _ in Counter(cut.tolist()).most_common()]
        ids = {c: next(new_id) for c in order}
        for c in order:
            out[members[cut == c]] = ids[c]
        events += [
            ThemeEvent(ids[c], "split", other_theme_id=theme, share=float((cut == c).mean()), detail=f"curation {cid}")
            for c in order
        ]
        applied.append(cid)
    return out, events, applied


def change_events(
    previous_theme: Sequence[str | None], theme_of: Sequence[str | None], min_items: int
) -> list[ThemeEvent]:
    """Splits and merges seen in the data: an old theme whose items now sit in ≥ 2 themes with
    ≥ 25% each was split; a theme now holding ≥ 25% each of ≥ 2 old themes' items merged them."""
    moved = moved_items(previous_theme, theme_of)
    events: list[ThemeEvent] = []
    gathered: dict[str, Counter] = defaultdict(Counter)
    for old, counts in moved.items():
        total = sum(counts.values())
        if total < min_items:
            continue
        big = {new: n / total for new, n in counts.items() if n / total >= SPLIT_SHARE}
        if len(big) >= 2:
            events += [
                ThemeEvent(new, "split", other_theme_id=old, share=share, detail="reclustering")
                for new, share in sorted(big.items())
                if new != old
            ]
        for new, n in counts.items():
            gathered[new][old] += n
    for new, counts in gathered.items():
        total = sum(counts.values())
        big = {old: n / total for old, n in counts.items() if n / total >= SPLIT_SHARE}
        if len(big) >= 2:
            events += [
                ThemeEvent(old, "merged", other_theme_id=new, share=share, detail="reclustering")
                for old, share in sorted(big.items())
                if old != new
            ]
    return events


def moved_items(previous_theme: Sequence[str | None], theme_of: Sequence[str | None]) -> dict[str, Counter]:
    """Old theme → new theme → segments, over the segments assigned both then and now, in the order a walk
    over the segments meets them. Counted on codes (``columns.dictionary_codes``): a walk over 10M
    segments made a Python string of each old theme id, and took seconds."""
    if len(previous_theme) != len(theme_of):
        raise ValueError(f"{len(previous_theme)} previous themes for {len(theme_of)} segments")
    before, before_names = dictionary_codes(previous_theme)
    now, now_names = dictionary_codes(theme_of)
    both = np.flatnonzero((before >= 0) & (now >= 0))
    width = max(1, len(now_names))
    pairs, first, counts = np.unique(
        before[both].astype(np.int64) * width + now[both], return_index=True, return_counts=True
    )
    old, new = pairs // width, pairs % width
    old_first = np.full(len(before_names), len(both), np.int64)
    np.minimum.at(old_first, old, first)
    moved: dict[str, Counter] = defaultdict(Counter)
    for i in np.lexsort((first, old_first[old])).tolist():  # by the old theme's first segment, then the pair's
        moved[before_names[old[i]]][now_names[new[i]]] = int(counts[i])
    return moved


def steady_themes(
    order: Sequence[str],
    labels: np.ndarray,
    segment_ids: Sequence[str],
    hashes: Sequence[str],
    previous: Mapping[str, tuple[str | None, str | None]],
    curation: Curation,
    share: float = STEADY_SHARE,
) -> set[int]:
    """Theme indices (``order[i]`` is index i's id, ``labels`` the index per segment) whose members
    changed by at most ``share`` of their size last run. A segment counts as unchanged for its theme
    when last run it sat, with the same text, on the theme it sits on now (merges followed); a theme
    with no members last run is never steady."""
    before: Counter[str] = Counter()
    for tid, n in theme_counts(previous).items():
        if (resolved := curation.resolve(tid)) is not None:
            before[resolved] += n
    last_theme, same = theme_and_same(previous, segment_ids, hashes)
    # on codes (a loop over the segments made an int, a bool and a theme id object per segment at 10M)
    last, names = dictionary_codes(last_theme)
    index = {tid: t for t, tid in enumerate(order)}
    now_index = np.array([index.get(curation.resolve(name) or "", -1) for name in names] + [-1], np.int64)
    labels = np.asarray(labels)
    stayed = (labels >= 0) & same & (now_index[last] == labels)  # code −1 (no theme last run) reads the −1 sentinel
    kept = np.bincount(labels[stayed], minlength=len(order))
    size = np.bincount(labels[labels >= 0], minlength=len(order))
    return {
        t
        for t, tid in enumerate(order)
        if before[tid] and (size[t] - kept[t]) + (before[tid] - kept[t]) <= share * before[tid]
    }


def same_theme_share(previous_theme: Sequence[str | None], theme_of: Sequence[str | None]) -> float | None:
    """Share of segments assigned last run that sit on the same theme id now (theme stability): on
    codes (``columns.dictionary_codes``), not a Python pair per segment (~1.5 GB at 10M)."""
    if len(previous_theme) != len(theme_of):
        raise ValueError(f"{len(previous_theme)} previous themes for {len(theme_of)} segments")
    before, before_names = dictionary_codes(previous_theme)
    now, now_names = dictionary_codes(theme_of)
    at = {name: i for i, name in enumerate(now_names)}
    as_now = np.array([at.get(name, -2) for name in before_names] + [-3], np.int32)  # −1 → −3: no match
    assigned = int(np.count_nonzero(before >= 0))
    return int(np.count_nonzero(as_now[before] == now)) / assigned if assigned else None


def identify(
    X: np.ndarray,
    segment_ids: Sequence[str],
    hashes: Sequence[str],
    known: dict[str, KnownTheme],
    previous: Mapping[str, tuple[str | None, str | None]],
    curation: Curation,
    mode: str,
    make_clusterer: ClustererFactory,
    min_cluster_size: int | None,
    match_threshold: float,
    outlier_threshold: float,
    seed: int,
    min_items: int | None = None,
) -> Identity:
    """Assign every segment to a stable theme id (see the module docstring for the two modes).
    ``make_clusterer(min_cluster_size, leftovers=False, min_items=None)`` builds an unfitted clusterer;
    an incremental run passes ``min_items``, the last full run's smallest theme in items, so the
    leftovers' new themes are no smaller than the full run's (``ThemeClusterer.min_items``)."""
    new_id = fresh_ids(known)
    if mode == "incremental":
        theme_of, how = carry_over(segment_ids, hashes, X, previous, known, curation, outlier_threshold)
        rest = np.flatnonzero(how.is_("outlier"))
        fresh = int((~theme_and_same(previous, segment_ids, hashes)[1][rest]).sum())
        # cluster the leftovers only when new text failed to fit a known theme: last run's outliers
        # alone already had their chance, and reclustering them would churn themes on reruns
        # and only when they could hold two themes of the full run's size (fewer would become one theme)
        if min_cluster_size and fresh and len(rest) >= 2 * max(min_cluster_size, min_items or 0):
            # the fit and the assignment read them in blocks: one pass over the store, not one a block
            prefetch(X, rest)
            clusterer = make_clusterer(min_cluster_size, leftovers=True, min_items=min_items).fit(rows_of(X, rest))
            ids = name_clusters(
                clusterer.labels_,
                clusterer.centroids_,
                known,
                {t for t in theme_of.used() if t},
                match_threshold,
                curation,
                new_id,
            )
            labels = np.asarray(clusterer.labels_)
            for lab in np.unique(labels[labels >= 0]).tolist():  # a write per new theme, not per leftover
                mine = labels == lab
                theme_of[rest[mine]], how[rest[mine]] = ids[lab], clusterer.how_[mine]
    else:
        clusterer = make_clusterer(min_cluster_size).fit(X)
        ids = name_clusters(clusterer.labels_, clusterer.centroids_, known, set(), match_threshold, curation, new_id)
        theme_of = Coded.of_codes(clusterer.labels_, [ids.get(c) for c in range(max(ids, default=-1) + 1)])
        how, min_cluster_size = Coded.of(clusterer.how_), clusterer.min_cluster_size_
        min_items = getattr(clusterer, "min_items_", min_cluster_size)  # a stand-in may fit no sample
    previous_theme = theme_and_same(previous, segment_ids, hashes)[0]
    theme_of, events, applied = apply_curation(theme_of, X, previous_theme, curation, new_id, seed)
    if mode == "full":
        events += change_events(previous_theme, theme_of, min_items=min_cluster_size or 5)
    # held through the rest of the run as a code per segment (issue 18): 8 bytes a row as a list, 1–2 here
    return Identity(theme_of, how, events, applied, min_cluster_size, min_items)


def next_state(
    found: list[KnownTheme],
    known: dict[str, KnownTheme],
    curation: Curation,
    splits: list[ThemeEvent],
    run_id: str,
    now: datetime,
) -> tuple[list[KnownTheme], list[ThemeEvent]]:
    """The new ``themes`` table and the lifecycle events (new, revived, dormant, merged).

    ``found`` are this run's themes (id, label, label_method, description, centroid, radius, items);
    they are active and keep their first run and first sighting; ``splits`` are the run's split events.
    Known themes without members this run become dormant, or merged/split as curation says."""
    rows: list[KnownTheme] = []
    events: list[ThemeEvent] = []
    split_parents = {e.other_theme_id for e in splits if (e.detail or "").startswith("curation")}
    split_children = {e.theme_id for e in splits if (e.detail or "").startswith("curation")}
    for t in found:
        old = known.get(t.theme_id)
        if old is None and t.theme_id not in split_children:
            events.append(ThemeEvent(t.theme_id, "new"))
        elif old is not None and old.status == "dormant":
            events.append(ThemeEvent(t.theme_id, "revived"))
        rows.append(
            replace(
                t,
                status="active",
                merged_into=None,
                first_run=old.first_run if old else run_id,
                last_run=run_id,
                first_seen=old.first_seen if old else now,
                last_seen=now,
            )
        )
    present = {t.theme_id for t in found}
    for tid, old in sorted(known.items()):
        if tid in present:
            continue
        status, into = old.status, old.merged_into
        if tid in curation.merges:
            status, into = "merged", curation.resolve(tid)
            if old.status != "merged":
                events.append(ThemeEvent(tid, "merged", other_theme_id=into, detail="curation"))
        elif tid in split_parents:
            status = "split"
        elif old.status == "active":
            status = "dormant"
            events.append(ThemeEvent(tid, "dormant"))
        rows.append(replace(old, status=status, merged_into=into))
    return rows, events
