"""The discovery steps as plain functions over an open store; the Prefect flow calls exactly these.

prepare (clean, segment, redact new feedback; writes segments) → embed (new texts only; writes the
embedding cache, ``embed_cache.embed_missing``) → discover → write the run atomically
(``runstore.finish_run``).

``discover`` reads the store and writes nothing. It runs named steps, each data in and data out:
load → choose_mode → identify → score (sentiment + rank) → name (offline + optional LLM) → assemble.
Vectors it has to compute on the way (label phrases; texts for a sentiment model trained on another
embedding model) come from a ``CachingEncoder``, which reads the embedding cache and collects what
it computed: they travel in ``DiscoveryResult.embeddings`` and ``finish_run`` caches them with the run.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

import duckdb
import numpy as np

from discovery import runstore, store, themes
from discovery.cluster import ThemeClusterer
from discovery.components import CacheGet, ClustererFactory, Encoder, Labeler, LLMNamer, SentimentClassifier
from discovery.embed import Embedder
from discovery.embed_cache import CachingEncoder, cache_lookup
from discovery.naming import LLMNaming, fixed_labels, name_with_llm, wants_llm_sentiment
from discovery.normalize import content_hash, segment_feedback
from discovery.rank import rank_themes
from discovery.records import (
    Assignment,
    DiscoveryResult,
    KnownTheme,
    LLMStats,
    NewEmbeddings,
    RunStats,
    ThemeName,
    ThemeScore,
    ThemeSnapshot,
    ThemeTrend,
)
from discovery.runstore import RunInput, ThemeState
from discovery.settings import Settings
from discovery.trends import TrendRule, theme_trends
from discovery.vectors import centroids, radii

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


# ------------------------------------------------------------------------- records between steps
@dataclass
class Found:
    """The identify step's result: each segment's stable theme id, and the run's theme index."""

    identity: themes.Identity
    order: list[str]  # theme ids by decreasing size: theme index i is order[i]
    labels: np.ndarray  # theme index per segment, -1 = unassigned
    centroids: np.ndarray  # normalised, per theme index


@dataclass
class Scores:
    """The score step's result: sentiment per segment, then the pain-point score per theme."""

    sentiment: list[str]
    sentiment_score: np.ndarray
    ranked: list[ThemeScore] = field(default_factory=list)


@dataclass
class Naming:
    """The name step's result: a name per theme index, which labels were kept, what the LLM said."""

    names: list[ThemeName]
    fixed: dict[int, str]  # theme index → label kept from earlier runs or curated
    llm: LLMNaming | None = None
    llm_sentiment: list[str | None] | None = None  # per segment, opt-in


@dataclass
class RunInfo:
    """What the assemble step records about the run itself."""

    run_id: str
    mode: str
    reason: str
    seconds: dict[str, float]
    now: datetime = field(default_factory=store.utc_now)


class RunCaches:
    """The store's caches as a run reads them: embedding vectors (through ``CachingEncoder``s, which
    keep what they compute) and earlier LLM replies. Reads only; ``new_embeddings`` is what the run
    hands to ``runstore.finish_run`` to cache."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.encoders: list[CachingEncoder] = []

    def encoder(self, embedder: Encoder) -> CachingEncoder:
        """``embedder`` reading through the embedding cache; every vector discover computes comes from one."""
        self.encoders.append(CachingEncoder(embedder, cache_lookup(self.con)))
        return self.encoders[-1]

    def llm_reply(self, key: str) -> dict[str, Any] | None:
        return runstore.llm_cached(self.con, key)

    def new_embeddings(self) -> list[NewEmbeddings]:
        return [new for e in self.encoders if (new := e.new_embeddings()) is not None]


# ---------------------------------------------------------------------------------------- the run
def discover(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    embedder: Encoder,
    sentiment: SentimentClassifier,
    labeler: Labeler | None = None,
    clusterer: ClustererFactory | None = None,
    llm: LLMNamer | None = None,
    full: bool = False,
    run_id: str = "",
) -> DiscoveryResult:
    """Cluster (or carry over), track theme identity, score sentiment, name and rank the segments of
    the window. Reads the store, writes nothing: vectors computed on the way are in the result's
    ``embeddings`` for ``runstore.finish_run`` to cache.

    Components are passed in (BERTopic-style slots, protocols in ``discovery.components``) so tests
    and benchmarks can swap any of them; ``clusterer`` is a factory ``(min_cluster_size,
    leftovers=False) -> unfitted clusterer`` (default: ``ThemeClusterer`` from ``settings``).
    """
    seconds: dict[str, float] = {}
    caches = RunCaches(con)
    with _timed(seconds, "load"):
        data, state = load(con, settings)
    mode, reason = choose_mode(state, data, settings, full)
    with _timed(seconds, "cluster"):
        found = identify(data, state, mode, settings, clusterer or default_clusterer(settings))
    with _timed(seconds, "sentiment"):
        scores = score_sentiment(data, sentiment, settings, lambda model: caches.encoder(side_embedder(model, settings)))
    with _timed(seconds, "rank"):
        scores.ranked = score_themes(data, found, scores, settings)
    fixed = fixed_labels(found.order, state.known, state.curation, use_llm=llm is not None)
    with _timed(seconds, "name"):
        naming = name(data, found, labeler or offline_labeler(), caches.encoder(embedder), fixed)
    if llm is not None:
        with _timed(seconds, "llm"):
            naming.llm = name_with_llm(llm, naming.names, found.centroids, embedder, settings, caches.llm_reply,
                                       todo=[i for i in range(len(found.order)) if i not in fixed])
        if wants_llm_sentiment(settings, len(data.text)):
            with _timed(seconds, "llm_sentiment"):
                naming.llm_sentiment, _ = llm.classify_sentiment(data.text, caches.llm_reply,
                                                                 report=naming.llm.report)
    result = assemble(data, state, found, scores, naming, settings, RunInfo(run_id, mode, reason, seconds))
    result.embeddings = caches.new_embeddings()
    return result


def load(con: duckdb.DuckDBPyConnection, settings: Settings) -> tuple[RunInput, ThemeState]:
    """The window's segments with their vectors, and the theme state the run builds on."""
    return runstore.load_run_input(con, settings.embed_key, settings.window_days), runstore.load_theme_state(con)


def choose_mode(
    state: ThemeState, data: RunInput, settings: Settings, full: bool, now: datetime | None = None
) -> tuple[str, str]:
    """'incremental' when a previous run exists and little changed, else 'full' — with the reason."""
    if full:
        return "full", "requested"
    if state.run_id is None or not any(t.status == "active" for t in state.known.values()):
        return "full", "no previous themes"
    if (state.stats.embed_model if state.stats else None) != settings.embed_key:
        return "full", "embedding model changed"
    new = sum(state.previous.get(s, (None, None))[1] != h for s, h in zip(data.segment_id, data.content_hash))
    if len(data.segment_id) and new / len(data.segment_id) > settings.incremental_max_new:
        return "full", f"{new / len(data.segment_id):.0%} of segments are new (> incremental_max_new)"
    if settings.full_every_days and state.last_full is not None:
        age = (now or store.utc_now()) - state.last_full
        if age.days >= settings.full_every_days:
            return "full", f"last full run {age.days} days ago (full_every_days = {settings.full_every_days})"
    return "incremental", f"{new} new or changed segments"


def default_clusterer(settings: Settings) -> ClustererFactory:
    """``ThemeClusterer`` (UMAP + HDBSCAN) configured from ``settings``."""

    def make(min_cluster_size: int | None, leftovers: bool = False) -> ThemeClusterer:
        return ThemeClusterer(min_cluster_size=min_cluster_size, n_neighbors=settings.umap_neighbors,
                              n_components=settings.umap_components, outlier_threshold=settings.outlier_threshold,
                              random_state=settings.seed, max_fit=settings.fit_sample, allow_single_cluster=leftovers)

    return make


def identify(data: RunInput, state: ThemeState, mode: str, settings: Settings, make: ClustererFactory) -> Found:
    """Stable theme ids for every segment (``themes.identify``), then the run's theme index: theme 0
    is the largest, ties by id."""
    # an incremental run clusters its leftovers at the granularity of the last full run
    last_size = state.stats.min_theme_size if state.stats and mode == "incremental" else None
    ident = themes.identify(data.vectors, data.segment_id, data.content_hash, state.known, state.previous,
                            state.curation, mode, make, settings.min_theme_size or last_size,
                            settings.match_threshold, settings.outlier_threshold, settings.seed)
    size = Counter(t for t in ident.theme_of if t)
    order = sorted(size, key=lambda t: (-size[t], t))
    index = {t: i for i, t in enumerate(order)}
    labels = np.array([index[t] if t else -1 for t in ident.theme_of], dtype=int)
    return Found(ident, order, labels, centroids(data.vectors, labels, len(order)))


def side_embedder(model: str, settings: Settings) -> Embedder:
    """An embedder of another model than the run's, with the run's batch size and precision."""
    return Embedder(model=model, batch_size=settings.embed_batch_size, precision=settings.embed_precision)


def score_sentiment(data: RunInput, sentiment: SentimentClassifier, settings: Settings,
                    encoder_for: Callable[[str], Encoder]) -> Scores:
    """Sentiment class and score (−1..1) per segment. The classifier works on the run's vectors (it
    is trained on fp32 vectors; int8 ones are within ~0.99 cosine) unless it was trained on another
    embedding model (``model_name_``): then ``encoder_for(model)`` embeds the texts for it."""
    model = getattr(sentiment.fit(), "model_name_", settings.embed_model)
    vectors = data.vectors if model == settings.embed_model else encoder_for(model).encode(data.text)
    labels, scores = sentiment.predict(vectors)
    return Scores(list(labels), np.asarray(scores))


def score_themes(data: RunInput, found: Found, scores: Scores, settings: Settings) -> list[ThemeScore]:
    """The pain-point score of every theme index (``discovery.rank``)."""
    return rank_themes(found.labels, scores.sentiment, scores.sentiment_score, data.source, data.feedback_id,
                       data.created_at, settings.source_weights, settings.recent_days)


def offline_labeler() -> Labeler:
    """The default labeler; sklearn is imported only when a run names themes."""
    from discovery.label import OfflineLabeler

    return OfflineLabeler()


def name(data: RunInput, found: Found, labeler: Labeler, encoder: Encoder, fixed: dict[int, str]) -> Naming:
    """A name for every theme index; ``fixed`` labels stay as they are. Candidate phrases are
    embedded by ``encoder`` (a nightly rerun sees mostly the same phrases: the cache serves them)."""
    names = labeler.name(data.text, data.vectors, found.labels, found.centroids, encode=encoder.encode, fixed=fixed)
    return Naming(names, fixed)


# ---------------------------------------------------------------------------------------- assemble
def assemble(data: RunInput, state: ThemeState, found: Found, scores: Scores, naming: Naming, settings: Settings,
             run: RunInfo) -> DiscoveryResult:
    """The run's rows: theme snapshots, assignments, the next theme state with its events, stats."""
    status = theme_status(found, state)
    trends = theme_trends(found.labels, data.created_at, len(found.order),
                          [s == "new" and state.run_id is not None for s in status],
                          TrendRule(settings.alert_period_days, settings.alert_baseline_periods,
                                    settings.alert_zscore, settings.alert_min_items))
    snapshots = theme_snapshots(found, scores.ranked, naming, status, trends, state)
    splits = [e for e in found.identity.events if e.event == "split"]
    state_rows, life_events = themes.next_state(found_themes(data, found, snapshots), state.known, state.curation,
                                                splits, run.run_id, run.now)
    stats = run_summary(data, state, found, snapshots, status, life_events, settings, run)
    if naming.llm is not None:
        stats.llm = llm_stats(naming.llm, snapshots, settings)
    return DiscoveryResult(themes=snapshots, assignments=assignments(data, found, scores, naming), stats=stats,
                           llm_calls=naming.llm.report.calls if naming.llm else [], theme_state=state_rows,
                           events=found.identity.events + life_events,
                           applied_curation=found.identity.applied_curation)


def theme_status(found: Found, state: ThemeState) -> list[str]:
    """Per theme index: continuing | revived (was dormant) | split (a part of a curated split) | new."""
    split_children = {e.theme_id for e in found.identity.events
                      if e.event == "split" and (e.detail or "").startswith("curation")}
    known = state.known
    return ["continuing" if t in known and known[t].status != "dormant" else "revived" if t in known
            else "split" if t in split_children else "new" for t in found.order]


def theme_snapshots(found: Found, ranked: list[ThemeScore], naming: Naming, status: list[str],
                    trends: list[ThemeTrend], state: ThemeState) -> list[ThemeSnapshot]:
    """One snapshot row per theme, ranked 1..n over the visible themes by score; hidden ones last."""
    cur, known = state.curation, state.known
    rows = []
    for r in ranked:
        t, tid, nm = r.theme, found.order[r.theme], naming.names[r.theme]
        score = {k: v for k, v in asdict(r).items() if k != "theme"}
        row = ThemeSnapshot(theme_id=tid, label=nm.label, label_offline=nm.label, description=nm.description,
                            keywords=nm.keywords, example_quotes=nm.quotes, label_method="offline",
                            status=status[t], pinned=tid in cur.pinned, hidden=tid in cur.hidden,
                            **score, **asdict(trends[t]))
        if t in naming.fixed:
            row.label_method = "curated" if tid in cur.renames else known[tid].label_method
            if row.label_method != "offline" and tid in known:
                row.description = known[tid].description
        if naming.llm is not None:
            row = replace(row, **naming.llm.themes.get(t, {}))
        rows.append(row)
    rows.sort(key=lambda r: (r.hidden, r.rank))
    for i, row in enumerate(rows, start=1):
        row.rank = i
    return rows


def found_themes(data: RunInput, found: Found, snapshots: list[ThemeSnapshot]) -> list[KnownTheme]:
    """This run's themes as rows of the ``themes`` table, with centroid and radius (how close a new
    item must be to join in an incremental run)."""
    by_id = {r.theme_id: r for r in snapshots}
    radius = radii(data.vectors, found.labels, found.centroids)
    return [KnownTheme(t, by_id[t].label, by_id[t].label_method, "active", found.centroids[i],
                       description=by_id[t].description, items=by_id[t].items, radius=float(radius[i]))
            for i, t in enumerate(found.order)]


def assignments(data: RunInput, found: Found, scores: Scores, naming: Naming) -> list[Assignment]:
    """One row per segment: its theme (None = unassigned), how it got it, its sentiment."""
    llm_sentiment = naming.llm_sentiment or [None] * len(data.segment_id)
    return [Assignment(sid, tid, str(how), h, s, float(sc), ls) for sid, tid, how, h, s, sc, ls in
            zip(data.segment_id, found.identity.theme_of, found.identity.how, data.content_hash, scores.sentiment,
                scores.sentiment_score, llm_sentiment)]


def run_summary(data: RunInput, state: ThemeState, found: Found, snapshots: list[ThemeSnapshot], status: list[str],
                life_events: list[Any], settings: Settings, run: RunInfo) -> RunStats:
    """``runs.stats`` of the run (without the LLM part)."""
    labels, how, n = found.labels, found.identity.how, len(found.labels)
    previous_theme = [state.previous.get(s, (None, None))[0] for s in data.segment_id]
    return RunStats(
        mode=run.mode, mode_reason=run.reason, segments=n, feedback_items=len(set(data.feedback_id)),
        themes=len(snapshots), unassigned=int((labels < 0).sum()),
        unassigned_share=float((labels < 0).mean()) if n else 0.0,
        reassigned=int((how == "reassigned").sum()) if n else 0, kept=int((how == "kept").sum()) if n else 0,
        assigned_to_known=int((how == "assigned").sum()) if n else 0,
        themes_new=status.count("new"), themes_revived=status.count("revived"),
        themes_dormant=sum(e.event == "dormant" for e in life_events),
        same_theme_share=themes.same_theme_share(previous_theme, found.identity.theme_of),
        emerging=sum(bool(r.emerging) for r in snapshots), min_theme_size=found.identity.min_cluster_size,
        window_days=settings.window_days, seconds=run.seconds, embed_model=settings.embed_key)


def llm_stats(naming: LLMNaming, snapshots: list[ThemeSnapshot], settings: Settings) -> LLMStats:
    """The ``llm_*`` part of ``runs.stats``: requests, tokens, cost estimate, fallbacks."""
    spent = naming.report.stats(settings.llm_price_in_per_1k, settings.llm_price_out_per_1k)
    return LLMStats(**{k.removeprefix("llm_"): v for k, v in spent.items()}, ungrounded=naming.ungrounded,
                    themes_offline=sum(r.label_method == "offline" for r in snapshots))
