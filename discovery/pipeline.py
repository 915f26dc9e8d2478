"""The discovery steps as plain functions over an open store; the Prefect flow calls exactly these.

prepare (clean, segment, redact new feedback) → embed (new texts only) → discover (cluster, name,
score sentiment, rank) → write the run atomically.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def _timed(seconds: dict[str, float], stage: str) -> Iterator[None]:
    """Record the wall time of ``stage`` in ``seconds`` (stored in ``runs.stats``)."""
    start = time.perf_counter()
    yield
    seconds[stage] = round(time.perf_counter() - start, 3)


@dataclass
class DiscoveryResult:
    """What one run found, before it is written."""

    themes: list[dict[str, Any]]
    assignments: list[dict[str, Any]]
    stats: dict[str, Any]
    llm_calls: list[dict[str, Any]] = field(default_factory=list)


def discover(con: duckdb.DuckDBPyConnection, settings: Settings, embedder: Any,
             sentiment: Any, labeler: Any | None = None, clusterer: Any | None = None,
             llm: Any | None = None) -> DiscoveryResult:
    """Cluster, score sentiment, name and rank all embedded segments; pure computation over the store.

    Components are passed in (BERTopic-style slots) so tests and benchmarks can swap any of them.
    """
    import numpy as np

    from discovery.cluster import ThemeClusterer
    from discovery.embed import Embedder, encode_cached
    from discovery.label import OfflineLabeler
    from discovery.rank import rank_themes

    seconds: dict[str, float] = {}
    with _timed(seconds, "load"):
        data = store.load_run_input(con, settings.embed_model)
    with _timed(seconds, "cluster"):
        clusterer = clusterer or ThemeClusterer(
            min_cluster_size=settings.min_theme_size, n_neighbors=settings.umap_neighbors,
            n_components=settings.umap_components, outlier_threshold=settings.outlier_threshold,
            random_state=settings.seed)
        clusterer.fit(data.vectors)
        labels = clusterer.labels_
    with _timed(seconds, "sentiment"):
        sent_vectors = data.vectors
        if getattr(sentiment.fit(), "model_name_", settings.embed_model) != settings.embed_model:
            sent_vectors = encode_cached(con, Embedder(model=sentiment.model_name_,
                                                       batch_size=settings.embed_batch_size), data.text)
        sent_labels, sent_scores = sentiment.predict(sent_vectors)
    with _timed(seconds, "name"):
        names = (labeler or OfflineLabeler()).name(data.text, data.vectors, labels, clusterer.centroids_,
                                                   encode=embedder.encode)
    llm_report = None
    if llm is not None and len(names):
        with _timed(seconds, "llm"):
            llm_report = name_with_llm(con, llm, names, clusterer.centroids_, embedder, settings)
    with _timed(seconds, "rank"):
        ranked = rank_themes(labels, sent_labels, np.asarray(sent_scores), data.source, data.feedback_id,
                             data.created_at, settings.source_weights, settings.recent_days)
    # theme ids follow theme size (T001 = largest); stable theme identity across runs is issue #4
    theme_ids = {t: f"T{t + 1:03d}" for t in range(len(names))}
    themes = []
    for r in ranked:
        t = r.pop("theme")
        themes.append({**r, "theme_id": theme_ids[t], "label": names[t].label, "label_offline": names[t].label,
                       "description": names[t].description, "keywords": names[t].keywords,
                       "example_quotes": names[t].quotes, "label_method": "offline"})
        if llm_report is not None:
            themes[-1].update(llm_report.themes.get(t, {}))
    llm_sent: list[str | None] = [None] * len(labels)
    if llm_report is not None and settings.llm_segment_sentiment:
        if len(labels) <= settings.llm_segment_sentiment_max:
            with _timed(seconds, "llm_sentiment"):
                llm_sent, _ = llm.classify_sentiment(data.text, lambda key: store.llm_cached(con, key),
                                                     report=llm_report.report)
        else:
            log.warning("per-segment LLM sentiment skipped: %d segments > llm_segment_sentiment_max %d",
                        len(labels), settings.llm_segment_sentiment_max)
    assignments = [{"segment_id": sid, "theme_id": theme_ids.get(int(lab)), "how": str(how),
                    "sentiment": s, "sentiment_score": float(sc), "llm_sentiment": ls}
                   for sid, lab, how, s, sc, ls in zip(data.segment_id, labels, clusterer.how_, sent_labels,
                                                       sent_scores, llm_sent)]
    n = len(labels)
    stats = {"segments": n, "feedback_items": len(set(data.feedback_id)), "themes": len(themes),
             "unassigned": int((labels < 0).sum()), "unassigned_share": float((labels < 0).mean()) if n else 0.0,
             "reassigned": int((clusterer.how_ == "reassigned").sum()) if n else 0,
             "min_theme_size": getattr(clusterer, "min_cluster_size_", None),
             "seconds": seconds, "embed_model": settings.embed_model}
    if llm_report is not None:
        stats.update(llm_report.report.stats(settings.llm_price_in_per_1k, settings.llm_price_out_per_1k))
        stats["llm_ungrounded"] = llm_report.ungrounded
        stats["llm_themes_offline"] = sum(t["label_method"] != "llm" for t in themes)
    return DiscoveryResult(themes=themes, assignments=assignments, stats=stats,
                           llm_calls=llm_report.report.calls if llm_report else [])


@dataclass
class LLMNaming:
    """Per theme index, the columns the LLM sets; plus the call report."""

    themes: dict[int, dict[str, Any]]
    report: Any
    ungrounded: int


def grounding(vectors: Any, centroids: Any, themes: list[int]) -> Any:
    """How well each label fits its theme: cosine similarity of the embedded label+description
    (row i, naming theme ``themes[i]``) to that theme's centroid, minus the best similarity to any
    other theme's centroid. Positive: the label describes its own members better than anyone else's."""
    import numpy as np

    sims = np.asarray(vectors) @ np.asarray(centroids).T
    rows = np.arange(len(themes))
    own = sims[rows, themes].copy()
    if sims.shape[1] == 1:
        return own
    sims[rows, themes] = -np.inf
    return own - sims.max(axis=1)


def name_with_llm(con: duckdb.DuckDBPyConnection, llm: Any, names: list[Any], centroids: Any,
                  embedder: Any, settings: Settings) -> LLMNaming:
    """Ask the LLM for every theme, keep only grounded labels; the rest keep their offline names."""
    from discovery.llm import ThemeRequest

    requests = [ThemeRequest(theme=t, phrases=n.keywords, quotes=n.quotes) for t, n in enumerate(names)]
    report = llm.name(requests, lambda key: store.llm_cached(con, key))
    offline_ground = grounding(embedder.encode([f"{n.label}. {n.description}" for n in names]), centroids,
                               list(range(len(names))))
    out = {t: {"grounding": float(offline_ground[t])} for t in range(len(names))}
    got = sorted(report.results)
    ungrounded = 0
    if got:
        vectors = embedder.encode([f"{report.results[t].label}. {report.results[t].description}" for t in got])
        scores = grounding(vectors, centroids, got)
        for t, score in zip(got, scores):
            res = report.results[t]
            out[t].update({"llm_sentiment": res.sentiment, "severity": res.severity, "category": res.category})
            if score < settings.llm_min_grounding:
                ungrounded += 1
                continue
            out[t].update({"label": res.label, "description": res.description, "label_method": "llm",
                           "grounding": float(score)})
    return LLMNaming(themes=out, report=report, ungrounded=ungrounded)

