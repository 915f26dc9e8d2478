"""Themes from vectors: UMAP (seeded) reduces, HDBSCAN finds dense groups, outliers close enough to a
group's centroid join it.

HDBSCAN alone leaves a large share of real feedback as noise (BERTopic's default often leaves a third
unassigned); a PM cannot act on an "outlier" bucket, so each outlier whose cosine similarity to the
nearest theme centroid (in the original embedding space) reaches ``outlier_threshold`` joins that theme.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from painpoints.discovery.coded import Coded
from painpoints.discovery.vectors import UNASSIGNED, centroids, nearest, umap_reduce

FIT_BLOCK = 65_536  # rows per nearest-centroid block when assigning rows outside the fitted sample


def auto_min_cluster_size(n: int) -> int:
    """Smallest theme worth a PM's attention, growing slowly with the data: 5 for a few hundred
    items, ~11 at 3k, capped at 60 for very large windows.

    √n/5 and √n/4 tie on mean NMI and ARI over the five labelled benchmark sets (0.609 vs 0.608,
    0.370 vs 0.370); √n/5 gives finer themes, closer to the true label count on CLINC150, ABCD and
    CFPB (coarser was better only on MultiDoGO)."""
    return int(min(60, max(5, round(math.sqrt(n) / 5))))


@dataclass
class ThemeClusterer:
    """UMAP + HDBSCAN with outlier reassignment, sklearn conventions.

    Parameters
    ----------
    min_cluster_size : HDBSCAN min_cluster_size; None = ``auto_min_cluster_size(n)``.
    min_samples : HDBSCAN min_samples; None = min_cluster_size (measured best on the labelled sets,
        with outlier reassignment recovering what HDBSCAN calls noise).
    n_neighbors, n_components : UMAP shape; n_neighbors is capped below the number of points.
    max_share : no theme may hold more than this share of the rows (HDBSCAN ``max_cluster_size``):
        on mixed sources, excess-of-mass otherwise returns one theme per source ("all complaints").
    outlier_threshold : cosine similarity to a centroid needed to reassign an outlier.
    random_state : UMAP seed; same input → same themes.
    max_fit : above this many rows, fit on a seeded random sample of this size and give every other
        row the nearest theme centroid (cosine ≥ ``outlier_threshold``, else unassigned): UMAP and
        HDBSCAN memory and time grow faster than linearly, nearest-centroid assignment is one matrix
        product per block.
    allow_single_cluster : let HDBSCAN return all rows as one theme. Off for a full run; on when
        clustering an incremental run's leftovers, which may well be one new topic.
    min_items : smallest theme in rows of the whole ``X`` (None: no floor). A sample fit scales it to
        the sample: an incremental run clusters its leftovers with the last full run's ``min_items_``,
        so their new themes are as big in items as the full run's, not ``X``/sample times smaller
        (a 600k-segment store's first nightly run otherwise turned 109 themes into 311).

    Attributes
    ----------
    labels_ : theme index per row, ``UNASSIGNED`` (-1) for what stays unassigned; themes are numbered
        by decreasing size.
    how_ : per row, 'cluster' | 'reassigned' | 'assigned' (not in the fitted sample) | 'outlier': an object
        array of shared strings, or past ``max_fit`` a ``Coded`` (a byte a row).
    centroids_ : normalised mean vector per theme (original space).
    min_cluster_size_ : the value used.
    min_items_ : the smallest theme it could find, in rows of ``X``: ``min_cluster_size_`` scaled from
        the sample to ``X`` (equal to it without a sample).
    """

    min_cluster_size: int | None = None
    min_samples: int | None = None
    n_neighbors: int = 15
    n_components: int = 5
    max_share: float = 0.2
    outlier_threshold: float = 0.35
    random_state: int = 42
    max_fit: int | None = 50_000
    allow_single_cluster: bool = False
    min_items: int | None = None

    def fit(self, X: np.ndarray) -> ThemeClusterer:
        n = len(X)
        if self.max_fit and n > self.max_fit:
            return self._fit_sample(X)  # reads the sample, then the rest block by block (X may be StoredVectors)
        X = np.asarray(X, dtype=np.float32)
        self.min_cluster_size_ = max(self.min_cluster_size or auto_min_cluster_size(n), self.min_items or 0)
        self.min_items_ = self.min_cluster_size_
        if n == 0:
            raw = np.zeros(0, dtype=int)
        elif n < 2 * self.min_cluster_size_:  # too few to find structure: one theme
            raw = np.zeros(n, dtype=int)
        else:
            raw = self._hdbscan(self._reduce(X))
        self._finish(X, raw)
        return self

    def _fit_sample(self, X: np.ndarray) -> ThemeClusterer:
        assert self.max_fit  # fit() samples only then
        rng = np.random.default_rng(self.random_state)
        sample = np.sort(rng.choice(len(X), size=self.max_fit, replace=False))
        floor = math.ceil(self.min_items * self.max_fit / len(X)) if self.min_items else None
        sub = replace(self, max_fit=None, min_items=floor).fit(X[sample])
        labels = np.full(len(X), UNASSIGNED, dtype=np.int32)  # theme indices: 4 bytes a row (40 MB at 10M)
        how = Coded.filled(len(X), "assigned")  # a byte a row: an object array was 80 MB at 10M, then copied
        outside = np.ones(len(X), dtype=bool)
        outside[sample] = False
        for start in range(0, len(X), FIT_BLOCK):  # the rows outside the sample, block by block of the rows:
            block = start + np.flatnonzero(outside[start : start + FIT_BLOCK])  # not all of them as int64 (80 MB)
            labels[block] = nearest(X[block], sub.centroids_, self.outlier_threshold)
        outside &= labels < 0
        how[outside] = "outlier"
        del outside
        labels[sample], how[sample] = sub.labels_, np.asarray(sub.how_, dtype=object)
        self.labels_: np.ndarray = labels
        self.how_: np.ndarray | Coded = how
        self.centroids_: np.ndarray = sub.centroids_
        self.min_cluster_size_ = sub.min_cluster_size_
        self.min_items_ = round(sub.min_cluster_size_ * len(X) / self.max_fit)
        return self

    def _reduce(self, X: np.ndarray) -> np.ndarray:
        n = len(X)
        return umap_reduce(
            X, self.n_neighbors, min(self.n_components, n - 2), min_dist=0.0, random_state=self.random_state
        )

    def _hdbscan(self, Z: np.ndarray) -> np.ndarray:
        import hdbscan

        min_samples = self.min_samples or self.min_cluster_size_
        cap = max(int(self.max_share * len(Z)), 20 * self.min_cluster_size_)
        model = hdbscan.HDBSCAN(
            min_cluster_size=self.min_cluster_size_,
            min_samples=min_samples,
            metric="euclidean",
            cluster_selection_method="eom",
            max_cluster_size=cap,
            allow_single_cluster=self.allow_single_cluster,
        )
        return model.fit_predict(Z)

    def _finish(self, X: np.ndarray, raw: np.ndarray) -> None:
        """Number HDBSCAN's groups by decreasing size, then let each outlier join the nearest
        centroid (original space) when its cosine similarity reaches ``outlier_threshold``."""
        ids = [c for c in np.unique(raw) if c != UNASSIGNED]
        ids.sort(key=lambda c: (-int((raw == c).sum()), int(c)))  # biggest theme first, ties stable
        remap = {c: i for i, c in enumerate(ids)}
        labels = np.array([remap.get(c, UNASSIGNED) for c in raw], dtype=int)
        how = np.array(["cluster", "outlier"], dtype=object)[(labels == UNASSIGNED).astype(np.intp)]  # shared strs
        centres = centroids(X, labels, len(ids))
        outliers = np.flatnonzero(labels == UNASSIGNED)
        joined = nearest(X[outliers], centres, self.outlier_threshold)
        labels[outliers[joined >= 0]] = joined[joined >= 0]
        how[outliers[joined >= 0]] = "reassigned"
        self.labels_, self.how_, self.centroids_ = labels, how, centres
