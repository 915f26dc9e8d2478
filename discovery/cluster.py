"""Themes from vectors: UMAP (seeded) reduces, HDBSCAN finds dense groups, outliers close enough to a
group's centroid join it.

HDBSCAN alone leaves a large share of real feedback as noise (BERTopic's default often leaves a third
unassigned); a PM cannot act on an "outlier" bucket, so each outlier whose cosine similarity to the
nearest theme centroid (in the original embedding space) reaches ``outlier_threshold`` joins that theme.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

UNASSIGNED = -1


def auto_min_cluster_size(n: int) -> int:
    """Smallest theme worth a PM's attention, growing slowly with the data: 5 for a few hundred
    items, ~15 at 3k, capped at 60 for very large windows."""
    return int(min(60, max(5, round(math.sqrt(n) / 4))))


@dataclass
class ThemeClusterer:
    """UMAP + HDBSCAN with outlier reassignment, sklearn conventions.

    Parameters
    ----------
    min_cluster_size : HDBSCAN min_cluster_size; None = ``auto_min_cluster_size(n)``.
    min_samples : HDBSCAN min_samples; None = min_cluster_size (measured best on the labelled sets,
        with outlier reassignment recovering what HDBSCAN calls noise).
    n_neighbors, n_components : UMAP shape; n_neighbors is capped below the number of points.
    outlier_threshold : cosine similarity to a centroid needed to reassign an outlier.
    random_state : UMAP seed; same input → same themes.

    Attributes
    ----------
    labels_ : theme index per row, ``UNASSIGNED`` (-1) for what stays unassigned; themes are numbered
        by decreasing size.
    how_ : per row, 'cluster' | 'reassigned' | 'outlier'.
    centroids_ : normalised mean vector per theme (original space).
    min_cluster_size_ : the value used.
    """

    min_cluster_size: int | None = None
    min_samples: int | None = None
    n_neighbors: int = 15
    n_components: int = 5
    outlier_threshold: float = 0.35
    random_state: int = 42

    def fit(self, X: np.ndarray) -> "ThemeClusterer":
        X = np.asarray(X, dtype=np.float32)
        n = len(X)
        self.min_cluster_size_ = self.min_cluster_size or auto_min_cluster_size(n)
        if n == 0:
            raw = np.zeros(0, dtype=int)
        elif n < 2 * self.min_cluster_size_:  # too few to find structure: one theme
            raw = np.zeros(n, dtype=int)
        else:
            raw = self._hdbscan(self._reduce(X))
        self._finish(X, raw)
        return self

    def _reduce(self, X: np.ndarray) -> np.ndarray:
        os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "numba"))
        import umap

        n = len(X)
        reducer = umap.UMAP(n_neighbors=max(2, min(self.n_neighbors, n - 1)),
                            n_components=min(self.n_components, n - 2), min_dist=0.0, metric="cosine",
                            random_state=self.random_state, n_jobs=1, init="spectral" if n > 50 else "random",
                            low_memory=n > 200_000)
        return reducer.fit_transform(X)

    def _hdbscan(self, Z: np.ndarray) -> np.ndarray:
        import hdbscan

        min_samples = self.min_samples or self.min_cluster_size_
        model = hdbscan.HDBSCAN(min_cluster_size=self.min_cluster_size_, min_samples=min_samples,
                                metric="euclidean", cluster_selection_method="eom")
        return model.fit_predict(Z)

    def _finish(self, X: np.ndarray, raw: np.ndarray) -> None:
        ids = [c for c in np.unique(raw) if c != UNASSIGNED]
        ids.sort(key=lambda c: (-int((raw == c).sum()), int(c)))  # biggest theme first, ties stable
        remap = {c: i for i, c in enumerate(ids)}
        labels = np.array([remap.get(c, UNASSIGNED) for c in raw], dtype=int)
        how = np.where(labels == UNASSIGNED, "outlier", "cluster").astype(object)
        centroids = np.zeros((len(ids), X.shape[1] if X.ndim == 2 else 0), np.float32)
        for i in range(len(ids)):
            c = X[labels == i].mean(axis=0)
            centroids[i] = c / (np.linalg.norm(c) or 1.0)
        outliers = np.flatnonzero(labels == UNASSIGNED)
        if len(outliers) and len(ids):
            sims = X[outliers] @ centroids.T
            best = sims.argmax(axis=1)
            ok = sims[np.arange(len(outliers)), best] >= self.outlier_threshold
            labels[outliers[ok]] = best[ok]
            how[outliers[ok]] = "reassigned"
        self.labels_, self.how_, self.centroids_ = labels, how, centroids
