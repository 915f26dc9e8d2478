"""Geometry of unit vectors shared by clustering, theme identity and the report: centroids, the
nearest centroid, theme radii, exact cosine kNN and the one UMAP set-up.

Vectors are L2-normalised everywhere (``discovery.embed``), so cosine similarity is a dot product.
UMAP and numba are imported lazily: a run that carries every assignment over never pays for them.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings

import numpy as np

from painpoints.discovery.lazy_vectors import BLOCK_ROWS, blocks, in_memory, prefetch

UNASSIGNED = -1
EXACT_KNN_MAX = 50_000  # up to here an exact cosine kNN by blocked matrix products beats NN-descent
TOPK_TORCH_MIN = 20_000  # columns from which exact_knn selects neighbours with torch (``_top_k``)


def centroids(
    X: np.ndarray, labels: np.ndarray, n_themes: int, known: dict[int, np.ndarray] | None = None
) -> np.ndarray:
    """Normalised mean vector per theme index ``0..n_themes-1`` (every index must have members);
    the indices in ``known`` take the centroid given and read none of their members' vectors.
    Vectors not in memory (``lazy_vectors.StoredVectors``) are summed in one pass of row blocks."""
    known = known or {}
    dim = X.shape[1] if X.ndim == 2 else 0
    out = np.zeros((n_themes, dim), np.float32)
    if not in_memory(X):
        sums = np.zeros((n_themes + 1, dim), np.float64)  # the last row collects what no theme computes
        wanted = np.array([t not in known for t in range(n_themes)] + [False])
        prefetch(X, np.flatnonzero(wanted[np.where(labels >= 0, labels, n_themes)]))
        from scipy.sparse import csr_matrix

        for rows in blocks(len(X)):
            lab = np.where(labels[rows] >= 0, labels[rows], n_themes)
            take = np.flatnonzero(wanted[lab])
            member = csr_matrix(
                (np.ones(len(take)), (lab[take], np.arange(len(take)))), shape=(n_themes + 1, len(take))
            )
            sums += member @ X[rows[take]]  # per-theme sums as one sparse product (np.add.at: 8x slower)
        for t in range(n_themes):
            c = known[t] if t in known else sums[t]
            out[t] = c / (1.0 if t in known else (np.linalg.norm(c) or 1.0))
        return out
    for t in range(n_themes):
        if t in known:
            out[t] = known[t]
            continue
        c = X[labels == t].mean(axis=0)
        out[t] = c / (np.linalg.norm(c) or 1.0)
    return out


def nearest(X: np.ndarray, centroids: np.ndarray, threshold: float) -> np.ndarray:
    """Index of the nearest centroid per row, ``UNASSIGNED`` where the best cosine similarity is
    below ``threshold``."""
    if not len(X) or not len(centroids):
        return np.full(len(X), UNASSIGNED, dtype=int)
    sims = X @ centroids.T
    best = sims.argmax(axis=1)
    return np.where(sims[np.arange(len(X)), best] >= threshold, best, UNASSIGNED)


def radii(
    X: np.ndarray, labels: np.ndarray, centroids: np.ndarray, q: float = 10, known: dict[int, float] | None = None
) -> np.ndarray:
    """Per theme, the ``q``-th percentile of its members' cosine similarity to the centroid: how
    close a new item must be to count as one of them. Indices in ``known`` take the radius given.
    Vectors not in memory are read in one pass of row blocks (one similarity per row is kept)."""
    known = known or {}
    if not in_memory(X):
        sims = np.zeros(len(X), np.float32)
        wanted = np.array([t not in known for t in range(len(centroids))] + [False])
        prefetch(X, np.flatnonzero(wanted[np.where(labels >= 0, labels, len(centroids))]))
        for rows in blocks(len(X)):
            lab = np.where(labels[rows] >= 0, labels[rows], len(centroids))
            take = rows[wanted[lab]]
            sims[take] = np.einsum("ij,ij->i", X[take], centroids[labels[take]])
        return np.array(
            [
                known[t] if t in known else float(np.percentile(sims[labels == t], q)) if (labels == t).any() else 0.0
                for t in range(len(centroids))
            ]
        )
    return np.array(
        [
            known[t] if t in known else float(np.percentile(X[labels == t] @ c, q)) if (labels == t).any() else 0.0
            for t, c in enumerate(centroids)
        ]
    )


def row_mean(X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Mean vector of ``rows`` (indices), read block by block when the vectors are not in memory."""
    if in_memory(X):
        return X[rows].mean(axis=0)
    total = np.zeros(X.shape[1], np.float64)
    prefetch(X, rows)
    for start in range(0, len(rows), BLOCK_ROWS):
        total += X[rows[start : start + BLOCK_ROWS]].sum(axis=0)
    return (total / max(1, len(rows))).astype(np.float32)


def exact_knn(X: np.ndarray, k: int, block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours by cosine distance for L2-normalised rows (self first).

    With a fixed seed UMAP runs its NN-descent single-threaded; on 4.5k texts that took 41 s here (one
    ad-hoc timing), while this exact search takes 1 s and the rest of UMAP 3.5 s (same seed).
    """
    n = len(X)
    idx = np.empty((n, k), np.int32)
    dist = np.empty((n, k), np.float32)
    for start in range(0, n, block):
        sims = X[start : start + block] @ X.T
        part = _top_k(sims, k)
        part_sims = np.take_along_axis(sims, part, axis=1)
        order = np.lexsort((part, -part_sims), axis=1)  # by similarity, ties by index: deterministic
        idx[start : start + block] = np.take_along_axis(part, order, axis=1)
        dist[start : start + block] = np.clip(1 - np.take_along_axis(part_sims, order, axis=1), 0, 2)
    return idx, dist


def _top_k(sims: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` largest values, in no order. Past ``TOPK_TORCH_MIN`` columns
    by ``torch.topk`` (torch comes with sentence-transformers), which selects on every core: NumPy's
    ``argpartition`` took 1.7–4 s per 1,024 × 50,000 block here against 0.12 s, ~90 of the 225 s an
    incremental 1M run spent fitting its leftovers (2026-12-03, cProfile). Below it NumPy, as before:
    importing torch costs ~2 s and ~190 MB, more than small fits save."""
    if sims.shape[1] < TOPK_TORCH_MIN:
        return np.argpartition(-sims, k - 1, axis=1)[:, :k]
    import torch

    return torch.topk(torch.from_numpy(sims), k, dim=1, sorted=False).indices.numpy()


@functools.cache
def cache_numba_functions(packages: tuple[str, ...] = ("umap", "pynndescent")) -> int:
    """Turn on numba's on-disk cache for UMAP's jitted functions; returns how many.

    UMAP declares most of its kernels without ``cache=True``, so every new process recompiled them:
    ≈4.7 s of a cold 4,500-text run here (UMAP 9.6 s cold vs 4.9 s warm). ``enable_caching()`` is
    what ``cache=True`` calls; compiled code then lands in ``$NUMBA_CACHE_DIR`` and later processes load
    it. Any failure only costs the compile time, so it is not raised.
    """
    try:
        from numba.core.registry import CPUDispatcher
    except ImportError:
        return 0
    count = 0
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(packages):
            continue
        for obj in list(vars(module).values()):
            if isinstance(obj, CPUDispatcher) and type(getattr(obj, "_cache", None)).__name__ == "NullCache":
                try:
                    obj.enable_caching()
                    count += 1
                except Exception:  # noqa: BLE001  (e.g. a function numba cannot cache: compile as before)
                    pass
    return count


def umap_reduce(
    X: np.ndarray,
    n_neighbors: int,
    n_components: int,
    min_dist: float,
    random_state: int,
    init: str | None = None,
) -> np.ndarray:
    """Seeded cosine UMAP of L2-normalised rows: the set-up clustering and the report's map share.

    ``n_neighbors`` is capped below the number of rows; the kNN graph is exact (``exact_knn``) up to
    ``EXACT_KNN_MAX`` rows, NN-descent beyond; ``init`` defaults to spectral above 50 rows (spectral
    fails on tiny graphs). ``n_jobs=1``: a seeded UMAP is deterministic only single-threaded.
    """
    os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "numba"))
    import umap

    cache_numba_functions()
    n = len(X)
    k = max(2, min(n_neighbors, n - 1))
    knn = exact_knn(X, k) if n <= EXACT_KNN_MAX else None
    reducer = umap.UMAP(
        n_neighbors=k,
        n_components=n_components,
        min_dist=min_dist,
        metric="cosine",
        random_state=random_state,
        n_jobs=1,
        init=init or ("spectral" if n > 50 else "random"),
        low_memory=n > 200_000,
        precomputed_knn=(knn[0], knn[1], None) if knn else (None, None, None),
    )
    with warnings.catch_warnings():  # "precomputed_knn without search index: no transform()": not needed
        warnings.simplefilter("ignore")
        return reducer.fit_transform(X)
