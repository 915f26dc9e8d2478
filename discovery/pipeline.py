"""The discovery steps as plain functions over an open store; the Prefect flow calls exactly these.

prepare (clean, segment, redact new feedback) → embed (new texts only) → discover (cluster, name,
score sentiment, rank) → write the run atomically.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb

from discovery import store
from discovery.normalize import content_hash, segment_feedback
from discovery.settings import Settings

log = logging.getLogger(__name__)


def prepare_segments(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    """Segment and redact every feedback item that has no segments yet; returns segments written."""
    rows: list[dict[str, Any]] = []
    written = 0
    with store.transaction(con):
        for fid, kind, text in store.unsegmented_feedback(con):
            for seg in segment_feedback(kind, text, settings.max_segment_chars, settings.redact):
                rows.append({"segment_id": f"{fid}:{seg.position:03d}", "feedback_id": fid,
                             "segment": seg.position, "text": seg.text,
                             "original_text": seg.original_text if settings.store_original else None,
                             "content_hash": content_hash(seg.text), "pii_found": seg.pii_found})
            if len(rows) >= 10_000:
                written += store.insert_segments(con, rows)
                rows = []
        written += store.insert_segments(con, rows)
    return written


@dataclass
class StageClock:
    """Wall time per stage, stored in ``runs.stats``."""

    seconds: dict[str, float] = field(default_factory=dict)

    def __call__(self, name: str) -> "_Timer":
        return _Timer(self, name)


class _Timer:
    def __init__(self, clock: StageClock, name: str) -> None:
        self.clock, self.name = clock, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.clock.seconds[self.name] = round(time.perf_counter() - self.start, 3)


@dataclass
class DiscoveryResult:
    """What one run found, before it is written."""

    themes: list[dict[str, Any]]
    assignments: list[dict[str, Any]]
    stats: dict[str, Any]


def discover(con: duckdb.DuckDBPyConnection, settings: Settings, embedder: Any,
             sentiment: Any, labeler: Any | None = None, clusterer: Any | None = None) -> DiscoveryResult:
    """Cluster, score sentiment, name and rank all embedded segments; pure computation over the store.

    Components are passed in (BERTopic-style slots) so tests and benchmarks can swap any of them.
    """
    import numpy as np

    from discovery.cluster import ThemeClusterer
    from discovery.label import OfflineLabeler
    from discovery.rank import rank_themes

    clock = StageClock()
    with clock("load"):
        data = store.load_run_input(con, settings.embed_model)
    with clock("cluster"):
        clusterer = clusterer or ThemeClusterer(
            min_cluster_size=settings.min_theme_size, n_neighbors=settings.umap_neighbors,
            n_components=settings.umap_components, outlier_threshold=settings.outlier_threshold,
            random_state=settings.seed)
        clusterer.fit(data.vectors)
        labels = clusterer.labels_
    with clock("sentiment"):
        sent_vectors = data.vectors
        if getattr(sentiment.fit(), "model_name_", settings.embed_model) != settings.embed_model:
            sent_vectors = _vectors_for(con, sentiment.model_name_, data.text, settings)
        sent_labels, sent_scores = sentiment.predict(sent_vectors)
    with clock("name"):
        names = (labeler or OfflineLabeler()).name(data.text, data.vectors, labels, clusterer.centroids_,
                                                   encode=embedder.encode)
    with clock("rank"):
        ranked = rank_themes(labels, sent_labels, np.asarray(sent_scores), data.source, data.feedback_id,
                             data.created_at, settings.source_weights, settings.recent_days)
    # theme ids follow theme size (T001 = largest); stable theme identity across runs is issue #4
    theme_ids = {t: f"T{t + 1:03d}" for t in range(len(names))}
    themes = []
    for r in ranked:
        t = r.pop("theme")
        themes.append({**r, "theme_id": theme_ids[t], "label": names[t].label,
                       "description": names[t].description, "keywords": names[t].keywords,
                       "example_quotes": names[t].quotes, "label_method": "offline"})
    assignments = [{"segment_id": sid, "theme_id": theme_ids.get(int(lab)), "how": str(how),
                    "sentiment": s, "sentiment_score": float(sc)}
                   for sid, lab, how, s, sc in zip(data.segment_id, labels, clusterer.how_, sent_labels,
                                                   sent_scores)]
    n = len(labels)
    stats = {"segments": n, "feedback_items": len(set(data.feedback_id)), "themes": len(themes),
             "unassigned": int((labels < 0).sum()), "unassigned_share": float((labels < 0).mean()) if n else 0.0,
             "reassigned": int((clusterer.how_ == "reassigned").sum()) if n else 0,
             "min_theme_size": getattr(clusterer, "min_cluster_size_", None),
             "seconds": clock.seconds, "embed_model": settings.embed_model}
    return DiscoveryResult(themes=themes, assignments=assignments, stats=stats)


def _vectors_for(con: duckdb.DuckDBPyConnection, model: str, texts: list[str], settings: Settings) -> Any:
    """Vectors of ``texts`` under another model (the sentiment classifier's), via the same cache."""
    from discovery.embed import Embedder, embed_missing

    other = Embedder(model=model, batch_size=settings.embed_batch_size)
    embed_missing(con, other)
    return store.load_run_input(con, model).vectors
