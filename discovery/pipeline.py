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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np

from painpoints.discovery import runinput, runstore, store, themes
from painpoints.discovery.assemble import RunInfo, assemble
from painpoints.discovery.carve import carve_pains, pain_mask
from painpoints.discovery.cluster import ThemeClusterer
from painpoints.discovery.coded import Coded, mask_of
from painpoints.discovery.columns import StoredTexts
from painpoints.discovery.components import (
    ClustererFactory,
    Encoder,
    FeedbackTyper,
    Labeler,
    LLMNamer,
    SentimentClassifier,
)
from painpoints.discovery.embed_cache import CachingEncoder, cache_lookup
from painpoints.discovery.lastrun import theme_and_same
from painpoints.discovery.lazy_vectors import FileVectors
from painpoints.discovery.naming import fixed_labels, name_themes, name_with_llm, reusable_names, wants_llm_sentiment
from painpoints.discovery.prepare import prepare_segments as prepare_segments  # the flow's prepare step
from painpoints.discovery.rank import rank_themes
from painpoints.discovery.records import (
    Areas,
    DiscoveryResult,
    Found,
    Identity,
    KnownArea,
    Naming,
    NewEmbeddings,
    Scores,
    ThemeName,
    ThemeScore,
)
from painpoints.discovery.runinput import RunInput
from painpoints.discovery.runstore import ThemeState
from painpoints.discovery.scoring import (
    default_typer,
    kept_sentiments,
    kept_types,
    score_sentiment,
    score_types,
    side_embedder,
)
from painpoints.discovery.settings import Settings
from painpoints.discovery.textpool import text_pool
from painpoints.discovery.vectors import centroids

if TYPE_CHECKING:  # ray is imported only when engine = "ray"
    from painpoints.discovery.ray_engine import RayTextMap

log = logging.getLogger(__name__)
AREA_MATCH = 0.8  # cosine an area's centroid needs to last run's to keep its id (as themes' match_threshold)


@contextmanager
def _timed(seconds: dict[str, float], stage: str) -> Iterator[None]:
    """Record the wall time of ``stage`` in ``seconds`` (stored in ``runs.stats``)."""
    start = time.perf_counter()
    yield
    seconds[stage] = round(time.perf_counter() - start, 3)


class RunCaches:
    """The store's caches as a run reads them: embedding vectors (through ``CachingEncoder``s, which
    keep what they compute) and earlier LLM replies. Reads only; ``new_embeddings`` is what the run
    hands to ``runstore.finish_run`` to cache."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
        self.con, self.settings = con, settings
        self.encoders: list[CachingEncoder] = []

    def encoder(self, embedder: Encoder) -> CachingEncoder:
        """``embedder`` reading through the embedding cache, one per cache key: every vector discover
        computes comes from one, and a text embedded by one step (a label phrase) is not embedded again
        by the next (area names, LLM grounding)."""
        for e in self.encoders:
            if e.key == embedder.key:
                return e
        self.encoders.append(CachingEncoder(embedder, cache_lookup(self.con)))
        return self.encoders[-1]

    def encoder_for(self, model: str) -> CachingEncoder:
        """A cached encoder of another model than the run's (for a classifier trained on it)."""
        return self.encoder(side_embedder(model, self.settings))

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
    typer: FeedbackTyper | None = None,
) -> DiscoveryResult:
    """Cluster (or carry over), track theme identity, score sentiment, name and rank the segments of
    the window. Reads the store, writes nothing: vectors computed on the way are in the result's
    ``embeddings`` for ``runstore.finish_run`` to cache.

    Components are passed in (BERTopic-style slots, protocols in ``discovery.components``) so tests
    and benchmarks can swap any of them; ``clusterer`` is a factory ``(min_cluster_size,
    leftovers=False, min_items=None) -> unfitted clusterer`` (default: ``ThemeClusterer`` from ``settings``);
    ``typer`` tells problems from requests and praise (default: ``FeedbackTypeModel``).
    """
    seconds: dict[str, float] = {}
    caches = RunCaches(con, settings)
    with _timed(seconds, "load"):
        data, state, mode, reason = load(con, settings, full)
    with _timed(seconds, "cluster"):
        found = identify(data, state, mode, settings, clusterer or default_clusterer(settings))
    mapper = ray_text_map(settings)
    with text_pool(settings.text_workers, mapper):  # the per-text rules of both stages, on every CPU
        with _timed(seconds, "sentiment"):
            sentiment_key = getattr(sentiment.fit(), "key_", None)  # its weights' digest: a new model rescores all
            kept_sentiment = kept_sentiments(data, state, sentiment_key) if mode == "incremental" else None
            scores = score_sentiment(data, sentiment, settings, caches.encoder_for, kept_sentiment)
        with _timed(seconds, "feedback_type"):
            typer = typer or default_typer()
            type_key = getattr(typer.fit(), "key_", None)  # weights and rules: a change retypes all
            kept = kept_types(data, state, type_key) if mode == "incremental" else None
            scores.feedback_type = score_types(data, typer, settings, caches.encoder_for, kept)
    if settings.carve_pains:
        with _timed(seconds, "carve"):
            found = carve(data, found, scores, state, settings, mode)
    with _timed(seconds, "rank"):
        scores.ranked = score_themes(data, found, scores, settings)
    fixed = fixed_labels(found.order, state.known, state.curation, use_llm=llm is not None)
    with _timed(seconds, "name"):
        reuse = {}
        if mode == "incremental":
            reuse = reusable_names(
                found.order,
                found.labels,
                data.segment_id,
                data.content_hash,
                state.previous,
                state.names,
                fixed,
                state.curation,
            )
        naming = name(data, found, labeler or offline_labeler(), caches.encoder(embedder), fixed, reuse)
    if llm is not None:
        with _timed(seconds, "llm"):
            naming.llm = name_with_llm(
                llm, naming.names, found.centroids, caches.encoder(embedder), settings, caches.llm_reply, naming.open()
            )
        if wants_llm_sentiment(settings, len(data.text)):
            with _timed(seconds, "llm_sentiment"):
                naming.llm_sentiment, _ = llm.classify_sentiment(
                    list(data.text), caches.llm_reply, report=naming.llm.report
                )
    with _timed(seconds, "areas"):
        areas = group_areas(data, found, naming, state, caches.encoder(embedder), run_id)
    result = assemble(data, state, found, scores, naming, settings, RunInfo(run_id, mode, reason, seconds), areas)
    result.stats.vectors_read = getattr(data.vectors, "rows_read", len(data.vectors))
    result.stats.sentiment_model = sentiment_key
    result.stats.type_model = type_key
    if mapper is not None and mapper.workers_used:  # small runs score here even with engine = "ray"
        result.stats.scoring_engine, result.stats.scoring_workers = "ray", len(mapper.workers_used)
    result.embeddings = caches.new_embeddings()
    return result


def ray_text_map(settings: Settings) -> RayTextMap | None:
    """With ``engine = "ray"``, the scoring stages' per-text rules go to the cluster (``RayTextMap``)."""
    if settings.engine != "ray":
        return None
    from painpoints.discovery.ray_engine import RayEngine, RayTextMap

    return RayTextMap(RayEngine.from_settings(settings))


def load(
    con: duckdb.DuckDBPyConnection, settings: Settings, full: bool = False
) -> tuple[RunInput, ThemeState, str, str]:
    """The window's segments, the theme state the run builds on, and the run's mode with its reason.

    The mode needs only segment ids and texts, so the rows come first without their vectors: a full
    run then reads every vector in one pass, an incremental one reads them as its stages index them
    (new text, leftovers, the themes it re-measures: ``lazy_vectors``) and keeps at most
    ``vectors_in_memory`` of them. Past that many segments a full run's pass writes the vectors to a
    scratch file in row order (``FileVectors``) that its stages read in blocks, and its texts to another
    (``columns.FileTexts``); an incremental run reads texts as its stages take them (``StoredTexts``).
    Past that many, either run keeps segment ids and hashes in scratch files (``runinput.sorted_on_disk``)."""
    state = runstore.load_theme_state(con)
    data = runinput.load_run_input(
        con, settings.embed_key, settings.window_days, vectors=False, texts_in_memory=settings.vectors_in_memory
    )
    if state.run_id is not None:  # last run's per-segment state, on this run's rows
        with store.scanning(con):
            last = runinput.load_last_run(con, data.segment_id, data.content_hash)
        state = replace(state, previous=last[0], previous_type=last[1], previous_sentiment=last[2])
    mode, reason = choose_mode(state, data, settings, full)
    if mode == "full":  # every vector in one pass: into memory, or past vectors_in_memory a scratch file
        # last run's type and sentiment serve only an incremental run's unchanged rows: a full run rescores
        # every row, and their codes and scores were ~95 MB held to the end of a 10M run (2026-12-05)
        state = replace(state, previous_type={}, previous_sentiment={})
        n, dim = data.vectors.shape
        out = None if n <= settings.vectors_in_memory else FileVectors(n, dim)
        with store.scanning(con):  # plain scans: DuckDB's pool need not keep what they read
            data.vectors = runinput.read_vectors(con, data.content_hash, settings.embed_key, dim, out=out)
            if isinstance(data.text, StoredTexts):  # past vectors_in_memory: the texts too, in row order on disk
                data.text = runinput.read_texts(con, data.segment_id)
        return data, state, mode, reason
    data.vectors.keep = settings.vectors_in_memory  # type: ignore[attr-defined]  # rows read past it are not kept
    return data, state, mode, reason


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
    _, same = theme_and_same(state.previous, data.segment_id, data.content_hash)
    new = int((~same).sum())
    if len(data.segment_id) and new / len(data.segment_id) > settings.incremental_max_new:
        return "full", f"{new / len(data.segment_id):.0%} of segments are new (> incremental_max_new)"
    if settings.full_every_days and state.last_full is not None:
        age = (now or store.utc_now()) - state.last_full
        if age.days >= settings.full_every_days:
            return "full", f"last full run {age.days} days ago (full_every_days = {settings.full_every_days})"
    return "incremental", f"{new} new or changed segments"


def default_clusterer(settings: Settings) -> ClustererFactory:
    """``ThemeClusterer`` (UMAP + HDBSCAN) configured from ``settings``."""

    def make(min_cluster_size: int | None, leftovers: bool = False, min_items: int | None = None) -> ThemeClusterer:
        return ThemeClusterer(
            min_cluster_size=min_cluster_size,
            n_neighbors=settings.umap_neighbors,
            n_components=settings.umap_components,
            outlier_threshold=settings.outlier_threshold,
            random_state=settings.seed,
            max_fit=settings.fit_sample,
            allow_single_cluster=leftovers,
            min_items=min_items,
        )

    return make


def identify(data: RunInput, state: ThemeState, mode: str, settings: Settings, make: ClustererFactory) -> Found:
    """Stable theme ids for every segment (``themes.identify``), then the run's theme index: theme 0
    is the largest, ties by id."""
    # an incremental run clusters its leftovers at the granularity of the last full run
    last_size = state.stats.min_theme_size if state.stats and mode == "incremental" else None
    last_items = state.stats.min_theme_items if state.stats and mode == "incremental" else None
    ident = themes.identify(
        data.vectors,
        data.segment_id,
        data.content_hash,
        state.known,
        state.previous,
        state.curation,
        mode,
        make,
        settings.min_theme_size or last_size,
        settings.match_threshold,
        settings.outlier_threshold,
        settings.seed,
        min_items=last_items,
    )
    return index_themes(data, ident, state if mode == "incremental" else None)


def index_themes(data: RunInput, ident: Identity, state: ThemeState | None = None) -> Found:
    """The run's theme index for an assignment: theme 0 is the largest, ties by id. With ``state`` (an
    incremental run), steady themes (``themes.steady_themes``) keep last run's centroid and radius, so
    their members' vectors are not read; the others' centroids are computed from their members."""
    ids = ident.theme_of if isinstance(ident.theme_of, Coded) else Coded.of(ident.theme_of)
    counts = np.bincount(ids.codes, minlength=len(ids.values)).tolist()
    size = {t: c for t, c in zip(ids.values, counts, strict=True) if t and c}
    order = sorted(size, key=lambda t: (-size[t], t))
    index = {t: i for i, t in enumerate(order)}
    labels = np.array([index.get(t, -1) if t else -1 for t in ids.values], dtype=np.int32)[ids.codes]  # 4 B a row
    kept: dict[int, tuple[np.ndarray, float]] = {}
    if state is not None:
        steady = themes.steady_themes(order, labels, data.segment_id, data.content_hash, state.previous, state.curation)
        for t in sorted(steady):
            known = state.known.get(order[t])
            if known is not None and known.centroid is not None and known.radius is not None:
                kept[t] = (known.centroid, known.radius)
    centroid = centroids(data.vectors, labels, len(order), {t: c for t, (c, _) in kept.items()})
    return Found(ident, order, labels, centroid, kept)


def carve(
    data: RunInput, found: Found, scores: Scores, state: ThemeState, settings: Settings, mode: str = "full"
) -> Found:
    """The complaints inside praised or requested themes, moved to problem themes of their own
    (``discovery.carve``); at least the run's minimum theme size of them, and never fewer than 5."""
    assert scores.feedback_type is not None
    pain = pain_mask(scores.feedback_type, scores.sentiment, data.rating or None, data.source)
    theme_of = carve_pains(
        found.identity.theme_of,
        found.labels,
        found.order,
        data.vectors,
        pain,
        scores.feedback_type,
        scores.sentiment,
        state.known,
        state.curation,
        max(5, found.identity.min_cluster_size or 5),
        settings.match_threshold,
    )
    if theme_of is found.identity.theme_of:
        return found
    return index_themes(data, replace(found.identity, theme_of=theme_of), state if mode == "incremental" else None)


def score_themes(data: RunInput, found: Found, scores: Scores, settings: Settings) -> list[ThemeScore]:
    """The pain-point score of every theme index (``discovery.rank``)."""
    types = scores.feedback_type
    request = mask_of(types, "request") if types is not None else None
    return rank_themes(
        found.labels,
        scores.sentiment,
        scores.sentiment_score,
        data.source,
        data.feedback_id,
        data.created_at,
        settings.source_weights,
        settings.recent_days,
        rating=data.rating or None,
        request=request,
    )


def group_areas(
    data: RunInput, found: Found, naming: Naming, state: ThemeState, encoder: Encoder, run_id: str
) -> Areas:
    """Areas above the themes (``discovery.areas``): grouped by centroid, matched to last run's areas
    so ids and names stay, a PM's moves applied; the next ``areas`` table (unmatched ones dormant)."""
    from painpoints.discovery import areas as area

    sizes = np.bincount(found.labels[found.labels >= 0], minlength=len(found.order))
    index = area.find_areas(found.centroids, sizes)
    centroid = area.area_centroids(found.centroids, sizes, index)
    known = {aid: a.centroid for aid, a in state.areas.items() if a.centroid is not None}
    ids = area.identify_areas(centroid, known, AREA_MATCH, state.areas)
    label = {aid: state.areas[aid].label for aid in ids if aid in state.areas}  # a matched area keeps its name
    if len(label) < len(ids):  # naming reads every segment (c-TF-IDF): only when a new area needs a name
        names = area.name_areas(data.text, found.labels, index, [n.label for n in naming.names], data.vectors,
                                encode=encoder.encode, taken=[a.label for a in state.areas.values()])  # fmt: skip
        label |= {aid: names[a] for a, aid in enumerate(ids) if aid not in label}
    of_theme = area.apply_moves({t: ids[index[i]] for i, t in enumerate(found.order)}, state.curation.moves)
    used = Counter(of_theme.values())
    rows = [KnownArea(aid, label[aid], "active", centroid[a], used[aid],
                      state.areas[aid].first_run if aid in state.areas else run_id, run_id)
            for a, aid in enumerate(ids)]  # fmt: skip
    for aid, old in sorted(state.areas.items()):
        if aid not in label:  # last run's areas with no group this run: dormant, unless a PM moved a theme in
            label[aid] = old.label
            rows.append(replace(old, status="active" if used[aid] else "dormant", themes=used[aid],
                                last_run=run_id if used[aid] else old.last_run))  # fmt: skip
    return Areas([of_theme[t] for t in found.order], label, rows)


def offline_labeler() -> Labeler:
    """The default labeler; sklearn is imported only when a run names themes."""
    from painpoints.discovery.label import OfflineLabeler

    return OfflineLabeler()


def name(
    data: RunInput,
    found: Found,
    labeler: Labeler,
    encoder: Encoder,
    fixed: dict[int, str],
    reuse: dict[int, ThemeName] | None = None,
) -> Naming:
    """A name for every theme index; ``fixed`` labels stay as they are, themes in ``reuse`` keep last
    run's name (``naming.name_themes``). Candidate phrases are embedded by ``encoder`` (a nightly
    rerun sees mostly the same phrases: the cache serves them)."""
    names = name_themes(labeler, data.text, data.vectors, found.labels, found.centroids, encoder, fixed, reuse or {})
    return Naming(names, fixed)
