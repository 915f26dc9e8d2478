"""Areas: a second, coarser level above a run's themes ("Billing", "Mobile app", "Delivery").

A run has 30–150 themes; a PM scanning a feed that mixes products or parts of one product wants a
handful to ~20 headings first. Areas are found offline from the themes alone: agglomerative clustering
of the L2-normalised theme centroids (cosine distance, average linkage) cut at a fixed distance, so the
number of areas follows the data instead of being asked for, and capped at ``max_areas``.

Why a distance cut and this value (``benchmarks/areas.py`` → ``benchmarks/areas.json``): on a feed that
mixes products the top level must keep them apart (homogeneity of product within area ≥ 0.85). On the
tuning mix (six products, 4.4k segments, 36 themes) average linkage keeps homogeneity at 0.98 for cuts
0.40–0.55 and drops to 0.86 at 0.60 (MultiDoGO's chat products merge: their chats share greetings, names
and numbers); ``AREA_THRESHOLD`` = 0.5 is the cut whose neighbours in the sweep are as good, not the
plateau's edge (9 areas, homogeneity 0.98, completeness 0.91). Complete linkage scored lower by the same
rule. On a held-out mix of eight other products it gives homogeneity 0.76 (15 areas), below target: the
themes themselves reach only 0.86 there (generic one-line reviews of phones, restaurants and movies
share themes), and MultiDoGO's finance and expense-claim chats fall into one area.

Identity follows themes (``discovery.themes``): this run's area centroids are matched one-to-one to the
last run's (Hungarian, cosine threshold), unmatched areas get fresh ids ``A01, A02…`` never reused. A
PM's ``theme move THEME AREA`` wins over the computed area (``apply_moves``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from painpoints.discovery.columns import take
from painpoints.discovery.label import Encode, ctfidf, related, title, top_phrases
from painpoints.discovery.lazy_vectors import prefetch
from painpoints.discovery.themes import fresh_ids, match
from painpoints.discovery.vectors import row_mean

AREA_THRESHOLD = 0.5  # cosine distance where the average-linkage tree is cut (measured, see above)
MAX_AREAS = 20


def find_areas(
    centroids: np.ndarray,
    sizes: np.ndarray,
    max_areas: int = MAX_AREAS,
    threshold: float = AREA_THRESHOLD,
    linkage: str = "average",
) -> np.ndarray:
    """Area index per theme; area 0 holds the most items, ties by the lowest theme index.

    ``centroids`` are the themes' centroids (normalised here again), ``sizes`` their item counts. The
    average-linkage tree is cut at cosine distance ``threshold``; if that leaves more than
    ``max_areas`` areas, it is cut at ``max_areas`` clusters instead. Few themes need no special case:
    one theme is one area, and two or three themes get the same cut as thirty (three themes of three
    products stay three areas, three themes of one product become one) — a fixed rule either way
    would be wrong for one of those feeds.
    """
    C = np.asarray(centroids, dtype=np.float64)
    sizes = np.asarray(sizes, dtype=np.int64)
    n = len(C)
    if len(sizes) != n:
        raise ValueError(f"{n} centroids but {len(sizes)} sizes")
    if max_areas < 1:
        raise ValueError("max_areas must be at least 1")
    if n <= 1:
        return np.zeros(n, dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    C = C / np.maximum(np.linalg.norm(C, axis=1, keepdims=True), 1e-12)
    raw = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage=linkage, distance_threshold=threshold, compute_full_tree=True
    ).fit_predict(C)
    if len(np.unique(raw)) > max_areas:
        raw = AgglomerativeClustering(n_clusters=max_areas, metric="cosine", linkage=linkage).fit_predict(C)
    return _by_size(raw, sizes)


def _by_size(raw: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Renumber areas by decreasing item count (ties: the area whose first theme comes first), so the
    same partition always gets the same numbers."""
    groups = sorted(np.unique(raw).tolist(), key=lambda a: (-int(sizes[raw == a].sum()), int(np.argmax(raw == a))))
    remap = {a: i for i, a in enumerate(groups)}
    return np.array([remap[a] for a in raw.tolist()], dtype=int)


def area_centroids(centroids: np.ndarray, sizes: np.ndarray, area_of_theme: np.ndarray) -> np.ndarray:
    """Normalised, item-weighted mean of its themes' centroids per area ``0..max``: what an area's
    identity is matched on next run (the mean of its items' vectors, up to outlier reassignment)."""
    C = np.asarray(centroids, dtype=np.float64)
    area_of_theme = np.asarray(area_of_theme, dtype=int)
    n_areas = int(area_of_theme.max()) + 1 if len(area_of_theme) else 0
    out = np.zeros((n_areas, C.shape[1] if C.ndim == 2 else 0), np.float32)
    for a in range(n_areas):
        members = area_of_theme == a
        v = (C[members] * np.asarray(sizes, dtype=np.float64)[members, None]).sum(axis=0)
        out[a] = v / (np.linalg.norm(v) or 1.0)
    return out


def name_areas(
    texts: Sequence[str],
    labels_theme: np.ndarray,
    area_of_theme: np.ndarray,
    theme_labels: Sequence[str],
    X: np.ndarray,
    encode: Encode | None = None,
    n_candidates: int = 10,
    max_texts_per_area: int = 2_000,
    taken: Iterable[str] = (),
) -> list[str]:
    """One readable, unique name per area, offline.

    c-TF-IDF with the area as the class (``discovery.label.ctfidf``) gives the phrases that are both
    frequent in the area and rare in the others; with ``encode`` the top ``n_candidates`` are ranked
    by closeness to the area's centroid (the most central of the distinctive phrases reads as the
    heading: "credit report" rather than a stray product code). The name is the best phrase joined with
    the next unrelated one ("Dress / Fabric"): an area spans several themes, and one word alone
    reads as one of them. An area without usable phrases takes the label of its largest theme. Names
    are unique and title-cased like theme labels. ``labels_theme`` is the theme index per segment
    (−1 unassigned); ``X`` the segments' normalised vectors; ``taken`` names other areas keep (never
    given again). Texts and the centre both come from the same sample of at most
    ``max_texts_per_area`` segments per area: an incremental run at 1M items that needed one new area
    name read all 1M vectors here (97 s of a 241 s run) when the centre was every member's mean.
    """
    labels_theme = np.asarray(labels_theme, dtype=int)
    area_of_theme = np.asarray(area_of_theme, dtype=int)
    n_areas = int(area_of_theme.max()) + 1 if len(area_of_theme) else 0
    seg_area = np.where(labels_theme >= 0, area_of_theme[np.maximum(labels_theme, 0)], -1)
    rows = _sample(seg_area, n_areas, max_texts_per_area)
    weights, vocab = ctfidf(take(texts, rows), seg_area[rows], n_areas)
    cands = top_phrases(weights, vocab, n_candidates)
    if encode is not None:
        uniq = sorted({p for c in cands for p in c})
        vecs = dict(zip(uniq, np.asarray(encode(uniq)), strict=True)) if uniq else {}
        prefetch(X, rows)  # every area's sample in one read of the store, not one read an area
        for a in range(n_areas):
            members = rows[seg_area[rows] == a]  # the sample: a large area's vectors are not read whole
            if cands[a] and len(members):
                centre = row_mean(X, members)
                closeness = {p: float(vecs[p] @ centre) for p in cands[a]}
                cands[a].sort(key=closeness.__getitem__, reverse=True)  # stable: c-TF-IDF order breaks ties
    sizes = np.bincount(labels_theme[labels_theme >= 0], minlength=len(area_of_theme))
    names: list[str] = []
    used = {t.lower() for t in taken}
    for a in range(n_areas):
        themes = np.flatnonzero(area_of_theme == a)
        largest = theme_labels[int(themes[np.argmax(sizes[themes])])] if len(themes) else f"Area {a + 1}"
        name = _compose(cands[a], largest, used)
        used.add(name.lower())
        names.append(name)
    return names


def _sample(seg_area: np.ndarray, n_areas: int, cap: int) -> np.ndarray:
    """Every member of a small area, a seeded sample of ``cap`` of a large one, plus up to ``cap``
    unassigned rows (they count in the document frequencies): bounded memory on large runs."""
    rng = np.random.default_rng(0)
    keep = [np.flatnonzero(seg_area < 0)[:cap]]
    for a in range(n_areas):
        members = np.flatnonzero(seg_area == a)
        keep.append(np.sort(rng.choice(members, cap, replace=False)) if len(members) > cap else members)
    return np.sort(np.concatenate(keep))


def _compose(cands: list[str], fallback: str, used: set[str]) -> str:
    """Best phrase + the next unrelated one, else the phrases alone, else ``fallback``; never a name in
    ``used`` (a numbered fallback as the last resort)."""
    options = [f"{best} / {extra}" for best in cands[:1] for extra in cands[1:] if not related(best, extra)]
    options += cands + [fallback]
    for option in options:
        name = title(re.sub(r"\s+", " ", option))[:80]
        if name.lower() not in used:
            return name
    return next(f"{title(fallback)[:70]} ({i})" for i in itertools.count(2) if f"{fallback} ({i})".lower() not in used)


def fresh_area_ids(existing: Iterable[str]) -> Iterator[str]:
    """New ids ``A01, A02…`` after the highest ever used; ids are never reused."""
    return fresh_ids(existing, prefix="A", width=2)


def identify_areas(
    area_centroids: np.ndarray,
    known: dict[str, np.ndarray],
    threshold: float,
    existing_ids: Iterable[str] = (),
) -> list[str]:
    """Stable id per area of this run: the known area (last run's, id → centroid) it matches one-to-one
    by cosine similarity ≥ ``threshold`` (Hungarian, ``discovery.themes.match``), else a fresh id after
    every id in ``known`` and ``existing_ids`` (all ids ever used: a retired id is never handed out
    again)."""
    ids = sorted(known)
    old = np.stack([np.asarray(known[i], dtype=np.float32) for i in ids]) if ids else np.zeros((0, 0), np.float32)
    new = np.asarray(area_centroids, dtype=np.float32)
    matched = {r: ids[c] for r, c, _ in match(new, old, threshold)} if len(new) and ids else {}
    fresh = fresh_area_ids([*ids, *existing_ids])
    return [matched.get(r) or next(fresh) for r in range(len(new))]


def apply_moves(area_of_theme_ids: dict[str, str], moves: dict[str, str]) -> dict[str, str]:
    """Theme id → area id after a PM's ``theme move THEME AREA`` curation (latest move per theme): a
    move always wins over the computed area. Moves of themes absent from this run are ignored; the
    target area is kept even if no computed theme sits in it this run (the PM asked for it)."""
    return {theme: moves.get(theme, area) for theme, area in area_of_theme_ids.items()}
