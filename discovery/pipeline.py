"""The discovery steps as plain functions over an open store; the Prefect flow calls exactly these.

prepare (clean, segment, redact new feedback) → embed (new texts only) → discover (cluster, name,
score sentiment, rank) → write the run atomically.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb

from discovery import runstore, store, themes
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
    theme_state: list[dict[str, Any]] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    applied_curation: list[str] = field(default_factory=list)


def choose_mode(state: runstore.ThemeState, data: runstore.RunInput, settings: Settings, full: bool) -> tuple[str, str]:
    """'incremental' when a previous run exists and little changed, else 'full' — with the reason."""
    if full:
        return "full", "requested"
    if state.run_id is None or not any(t.status == "active" for t in state.known.values()):
        return "full", "no previous themes"
    if state.stats.get("embed_model") != settings.embed_key:
        return "full", "embedding model changed"
    new = sum(state.previous.get(s, (None, None))[1] != h for s, h in zip(data.segment_id, data.content_hash))
    if len(data.segment_id) and new / len(data.segment_id) > settings.incremental_max_new:
        return "full", f"{new / len(data.segment_id):.0%} of segments are new (> incremental_max_new)"
    if settings.full_every_days and state.last_full is not None:
        age = store.utc_now() - state.last_full
        if age.days >= settings.full_every_days:
            return "full", f"last full run {age.days} days ago (full_every_days = {settings.full_every_days})"
    return "incremental", f"{new} new or changed segments"


def discover(con: duckdb.DuckDBPyConnection, settings: Settings, embedder: Any,
             sentiment: Any, labeler: Any | None = None, clusterer: Any | None = None,
             llm: Any | None = None, full: bool = False, run_id: str = "") -> DiscoveryResult:
    """Cluster (or carry over), track theme identity, score sentiment, name and rank the segments of
    the window; pure computation over the store.

    Components are passed in (BERTopic-style slots) so tests and benchmarks can swap any of them;
    ``clusterer`` is a factory ``(min_cluster_size, leftovers=False) -> unfitted clusterer``.
    """
    import numpy as np

    from discovery.cluster import ThemeClusterer
    from discovery.embed import Embedder, encode_cached
    from discovery.label import OfflineLabeler
    from discovery.rank import rank_themes
    from discovery.trends import TrendRule, theme_trends

    seconds: dict[str, float] = {}
    with _timed(seconds, "load"):
        data = runstore.load_run_input(con, settings.embed_key, settings.window_days)
        state = runstore.load_theme_state(con)
    mode, reason = choose_mode(state, data, settings, full)
    make = clusterer or (lambda mcs, leftovers=False: ThemeClusterer(
        min_cluster_size=mcs, n_neighbors=settings.umap_neighbors, n_components=settings.umap_components,
        outlier_threshold=settings.outlier_threshold, random_state=settings.seed, max_fit=settings.fit_sample,
        allow_single_cluster=leftovers))
    # an incremental run clusters its leftovers at the granularity of the last full run
    mcs = settings.min_theme_size or (state.stats.get("min_theme_size") if mode == "incremental" else None)
    with _timed(seconds, "cluster"):
        ident = themes.identify(data.vectors, data.segment_id, data.content_hash, state.known, state.previous,
                                state.curation, mode, make, mcs, settings.match_threshold,
                                settings.outlier_threshold, settings.seed)
    size = Counter(t for t in ident.theme_of if t)
    order = sorted(size, key=lambda t: (-size[t], t))  # theme index 0 = largest
    index = {t: i for i, t in enumerate(order)}
    labels = np.array([index[t] if t else -1 for t in ident.theme_of], dtype=int)
    centroids = themes.centroids(data.vectors, labels, len(order))
    with _timed(seconds, "sentiment"):
        sent_vectors = data.vectors  # the classifier is trained on fp32 vectors; int8 ones are within ~0.99 cosine
        if getattr(sentiment.fit(), "model_name_", settings.embed_model) != settings.embed_model:
            sent_vectors = encode_cached(con, Embedder(model=sentiment.model_name_,
                                                       batch_size=settings.embed_batch_size,
                                                       precision=settings.embed_precision), data.text)
        sent_labels, sent_scores = sentiment.predict(sent_vectors)
    cur, known = state.curation, state.known
    # a theme keeps its label once named; an offline label is upgraded when an LLM is in use
    fixed = {i: cur.renames.get(t) or known[t].label for i, t in enumerate(order)
             if t in cur.renames or (t in known and (llm is None or known[t].label_method != "offline"))}
    # candidate phrases go through the embedding cache: a nightly rerun sees mostly the same phrases
    with _timed(seconds, "name"):
        names = (labeler or OfflineLabeler()).name(data.text, data.vectors, labels, centroids,
                                                   encode=lambda texts: encode_cached(con, embedder, texts),
                                                   fixed=fixed)
    llm_report = None
    todo = [i for i in range(len(order)) if i not in fixed]
    if llm is not None:  # themes that keep their label send nothing: a rerun on unchanged data costs 0 tokens
        with _timed(seconds, "llm"):
            llm_report = name_with_llm(con, llm, names, centroids, embedder, settings, todo)
    with _timed(seconds, "rank"):
        ranked = rank_themes(labels, sent_labels, np.asarray(sent_scores), data.source, data.feedback_id,
                             data.created_at, settings.source_weights, settings.recent_days)
    splits = [e for e in ident.events if e["event"] == "split"]
    split_children = {e["theme_id"] for e in splits if e["detail"].startswith("curation")}
    status = ["continuing" if t in known and known[t].status != "dormant" else "revived" if t in known
              else "split" if t in split_children else "new" for t in order]
    first_run = state.run_id is None
    trend_rows = theme_trends(labels, data.created_at, len(order), [s == "new" and not first_run for s in status],
                              TrendRule(settings.alert_period_days, settings.alert_baseline_periods,
                                        settings.alert_zscore, settings.alert_min_items))
    rows = []
    for r in ranked:
        t = r.pop("theme")
        tid = order[t]
        row = {**r, "theme_id": tid, "label": names[t].label, "label_offline": names[t].label,
               "description": names[t].description, "keywords": names[t].keywords,
               "example_quotes": names[t].quotes, "label_method": "offline", "status": status[t],
               "pinned": tid in cur.pinned, "hidden": tid in cur.hidden, **trend_rows[t]}
        if t in fixed:
            row["label_method"] = "curated" if tid in cur.renames else known[tid].label_method
            if row["label_method"] != "offline" and tid in known:
                row["description"] = known[tid].description
        if llm_report is not None:
            row.update(llm_report.themes.get(t, {}))
        rows.append(row)
    _rerank(rows)
    llm_sent: list[str | None] = [None] * len(labels)
    if llm_report is not None and settings.llm_segment_sentiment:
        if len(labels) <= settings.llm_segment_sentiment_max:
            with _timed(seconds, "llm_sentiment"):
                llm_sent, _ = llm.classify_sentiment(data.text, lambda key: runstore.llm_cached(con, key),
                                                     report=llm_report.report)
        else:
            log.warning("per-segment LLM sentiment skipped: %d segments > llm_segment_sentiment_max %d",
                        len(labels), settings.llm_segment_sentiment_max)
    assignments = [{"segment_id": sid, "theme_id": tid, "how": str(how), "content_hash": h,
                    "sentiment": s, "sentiment_score": float(sc), "llm_sentiment": ls}
                   for sid, tid, how, h, s, sc, ls in zip(data.segment_id, ident.theme_of, ident.how,
                                                          data.content_hash, sent_labels, sent_scores, llm_sent)]
    by_id = {r["theme_id"]: r for r in rows}
    radius = themes.radii(data.vectors, labels, centroids)
    state_rows, life_events = themes.next_state([{**by_id[t], "radius": float(radius[i])} for i, t in enumerate(order)],
                                                centroids, known, cur, splits,
                                                run_id, store.utc_now())
    previous_theme = [state.previous.get(s, (None, None))[0] for s in data.segment_id]
    n = len(labels)
    stats = {"mode": mode, "mode_reason": reason, "segments": n, "feedback_items": len(set(data.feedback_id)),
             "themes": len(rows), "unassigned": int((labels < 0).sum()),
             "unassigned_share": float((labels < 0).mean()) if n else 0.0,
             "reassigned": int((ident.how == "reassigned").sum()) if n else 0,
             "kept": int((ident.how == "kept").sum()) if n else 0,
             "assigned_to_known": int((ident.how == "assigned").sum()) if n else 0,
             "themes_new": status.count("new"), "themes_revived": status.count("revived"),
             "themes_dormant": sum(e["event"] == "dormant" for e in life_events),
             "same_theme_share": themes.same_theme_share(previous_theme, ident.theme_of),
             "emerging": sum(bool(r["emerging"]) for r in rows), "min_theme_size": ident.min_cluster_size,
             "window_days": settings.window_days, "seconds": seconds, "embed_model": settings.embed_key}
    if llm_report is not None:
        stats.update(llm_report.report.stats(settings.llm_price_in_per_1k, settings.llm_price_out_per_1k))
        stats["llm_ungrounded"] = llm_report.ungrounded
        stats["llm_themes_offline"] = sum(r["label_method"] == "offline" for r in rows)
    return DiscoveryResult(themes=rows, assignments=assignments, stats=stats,
                           llm_calls=llm_report.report.calls if llm_report else [], theme_state=state_rows,
                           events=ident.events + life_events, applied_curation=ident.applied_curation)


def _rerank(rows: list[dict[str, Any]]) -> None:
    """Ranks 1..n over the visible themes by score; hidden themes go after them."""
    rows.sort(key=lambda r: (bool(r["hidden"]), r["rank"]))
    for i, r in enumerate(rows, start=1):
        r["rank"] = i


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
                  embedder: Any, settings: Settings, todo: list[int] | None = None) -> LLMNaming:
    """Ask the LLM for the themes in ``todo`` (default all), keep only grounded labels; the rest keep
    their offline names."""
    from discovery.llm import ThemeRequest

    todo = list(range(len(names))) if todo is None else todo
    requests = [ThemeRequest(theme=t, phrases=names[t].keywords, quotes=names[t].quotes) for t in todo]
    report = llm.name(requests, lambda key: runstore.llm_cached(con, key))
    if not todo:
        return LLMNaming(themes={}, report=report, ungrounded=0)
    offline_ground = grounding(embedder.encode([f"{names[t].label}. {names[t].description}" for t in todo]),
                               centroids, todo)
    out = {t: {"grounding": float(g)} for t, g in zip(todo, offline_ground)}
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

