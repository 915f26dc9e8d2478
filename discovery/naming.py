"""Naming decisions around the labelers: which labels a run keeps, and LLM names that must prove
they fit their theme (grounding) before they replace the offline ones.

A PM follows a theme by its label, so a label once given stays (curated renames win); an offline
label is upgraded when an LLM is in use. An incremental run also keeps the keywords, quotes and
description of every kept theme whose members barely changed (``reusable_names``), so naming costs what
changed, not the whole corpus again; the weekly full run re-derives them all. An LLM label is kept only
when its embedding is closer to its own theme's centroid than to any other theme's (``grounding`` ≥
``llm_min_grounding``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from painpoints.discovery.columns import take
from painpoints.discovery.components import CacheGet, Encoder, Labeler, LLMNamer
from painpoints.discovery.lazy_vectors import MaskedRows
from painpoints.discovery.llm import ThemeRequest
from painpoints.discovery.records import KnownTheme, LLMNaming, ThemeName
from painpoints.discovery.settings import Settings
from painpoints.discovery.themes import Curation, steady_themes

log = logging.getLogger(__name__)

# A kept theme whose members changed by at most STEADY_SHARE since the last run (``themes.steady_themes``)
# keeps last run's keywords, quotes and description: a 5% change does not move a theme's top phrases or
# its most central quotes, and the weekly full run re-derives every name anyway.
CONTEXT_TEXTS = 50  # members read per theme whose name is kept: the phrases' spread over themes, not their detail


def fixed_labels(order: list[str], known: dict[str, KnownTheme], curation: Curation, use_llm: bool) -> dict[int, str]:
    """Theme index → the label it keeps: a PM's rename, else the known theme's label (an offline one
    only when no LLM is in use, so the LLM can upgrade it)."""
    return {
        i: curation.renames.get(t) or known[t].label
        for i, t in enumerate(order)
        if t in curation.renames or (t in known and (not use_llm or known[t].label_method != "offline"))
    }


def grounding(vectors: Any, centroids: Any, themes: list[int]) -> np.ndarray:
    """How well each label fits its theme: cosine similarity of the embedded label+description
    (row i, naming theme ``themes[i]``) to that theme's centroid, minus the best similarity to any
    other theme's centroid. Positive: the label describes its own members better than anyone else's."""
    sims = np.asarray(vectors) @ np.asarray(centroids).T
    rows = np.arange(len(themes))
    own = sims[rows, themes].copy()
    if sims.shape[1] == 1:
        return own
    sims[rows, themes] = -np.inf
    return own - sims.max(axis=1)


def name_with_llm(
    llm: LLMNamer,
    names: list[ThemeName],
    centroids: np.ndarray,
    embedder: Encoder,
    settings: Settings,
    cache_get: CacheGet,
    todo: list[int] | None = None,
) -> LLMNaming:
    """Ask the LLM for the themes in ``todo`` (default all), keep only grounded labels; the rest keep
    their offline names. ``cache_get`` looks up earlier replies (an unchanged theme costs no tokens)."""
    todo = list(range(len(names))) if todo is None else todo
    requests = [ThemeRequest(theme=t, phrases=names[t].keywords, quotes=names[t].quotes) for t in todo]
    report = llm.name(requests, cache_get)
    if not todo:
        return LLMNaming(themes={}, report=report, ungrounded=0)
    offline_ground = grounding(
        embedder.encode([f"{names[t].label}. {names[t].description}" for t in todo]), centroids, todo
    )
    out: dict[int, dict[str, Any]] = {t: {"grounding": float(g)} for t, g in zip(todo, offline_ground, strict=True)}
    got = sorted(report.results)
    ungrounded = 0
    if got:
        vectors = embedder.encode([f"{report.results[t].label}. {report.results[t].description}" for t in got])
        for t, score in zip(got, grounding(vectors, centroids, got), strict=True):
            res = report.results[t]
            out[t].update({"llm_sentiment": res.sentiment, "severity": res.severity, "category": res.category})
            if score < settings.llm_min_grounding:
                ungrounded += 1
                continue
            out[t].update(
                {"label": res.label, "description": res.description, "label_method": "llm", "grounding": float(score)}
            )
    return LLMNaming(themes=out, report=report, ungrounded=ungrounded)


def wants_llm_sentiment(settings: Settings, segments: int) -> bool:
    """Per-segment LLM sentiment is opt-in, and skipped (with a warning) above
    ``llm_segment_sentiment_max`` segments: one request per 25 segments adds up."""
    if not settings.llm_segment_sentiment:
        return False
    if segments > settings.llm_segment_sentiment_max:
        log.warning(
            "per-segment LLM sentiment skipped: %d segments > llm_segment_sentiment_max %d",
            segments,
            settings.llm_segment_sentiment_max,
        )
        return False
    return True


def reusable_names(
    order: list[str],
    labels: np.ndarray,
    segment_ids: Sequence[str],
    hashes: Sequence[str],
    previous: Mapping[str, tuple[str | None, str | None]],
    names: dict[str, ThemeName],
    fixed: dict[int, str],
    curation: Curation,
) -> dict[int, ThemeName]:
    """Theme index → last run's name (with the label it keeps) for each kept theme that barely changed.

    ``previous`` is last run's segment → (theme, content hash), ``names`` last run's name per theme id.
    A segment counts as unchanged for its theme when last run it sat, with the same text, on the theme
    it sits on now (merges followed). Only themes with a fixed label qualify (new themes need a name)."""
    if not names:
        return {}
    steady = steady_themes(order, labels, segment_ids, hashes, previous, curation)
    return {t: replace(names[order[t]], label=fixed[t]) for t in sorted(steady) if t in fixed and order[t] in names}


def name_themes(
    labeler: Labeler,
    texts: Sequence[str],
    X: np.ndarray,
    labels: np.ndarray,
    centroids: np.ndarray,
    encoder: Encoder,
    fixed: dict[int, str],
    reuse: dict[int, ThemeName],
) -> list[ThemeName]:
    """A name per theme index from ``labeler``, except the themes in ``reuse``, which keep theirs.

    With names to keep, the labeler reads every member of the other themes but only a seeded
    ``CONTEXT_TEXTS`` of each kept theme's (their phrases still count against the named themes', as
    c-TF-IDF needs), so an incremental run's naming costs in proportion to the themes that changed;
    when none did, the labeler is not called at all."""
    n = len(centroids)
    if n and len(reuse) == n:
        return [reuse[t] for t in range(n)]
    if reuse:
        rows = context_rows(labels, set(reuse), CONTEXT_TEXTS)
        texts, labels = take(texts, rows), labels[rows]
        # the labeler reads vectors only to pick a theme's quotes, and kept themes keep theirs: their
        # context rows (and unassigned ones) stay zero, so an incremental run reads no vector of theirs
        named = (labels >= 0) & ~np.isin(labels, list(reuse))
        X = MaskedRows(X, rows, named)  # type: ignore[assignment]  # read as indexed (a quote pool at most)
    names = labeler.name(texts, X, labels, centroids, encode=encoder.encode, fixed=fixed)
    return [reuse.get(t, nm) for t, nm in enumerate(names)]


def context_rows(labels: np.ndarray, kept: set[int], per_theme: int, seed: int = 0) -> np.ndarray:
    """Row indices: every member of the themes not in ``kept``; a seeded sample of ``per_theme`` of each
    kept theme's members and of the unassigned rows."""
    rng = np.random.default_rng(seed)
    parts = []
    for t in np.unique(labels).tolist():
        members = np.flatnonzero(labels == t)
        if (t in kept or t < 0) and len(members) > per_theme:
            members = np.sort(rng.choice(members, per_theme, replace=False))
        parts.append(members)
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=int)
