"""Naming decisions around the labelers: which labels a run keeps, and LLM names that must prove
they fit their theme (grounding) before they replace the offline ones.

A PM follows a theme by its label, so a label once given stays (curated renames win); an offline
label is upgraded when an LLM is in use. An LLM label is kept only when its embedding is closer to
its own theme's centroid than to any other theme's (``grounding`` ≥ ``llm_min_grounding``).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from painpoints.discovery.components import CacheGet, Encoder, LLMNamer
from painpoints.discovery.llm import ThemeRequest
from painpoints.discovery.records import KnownTheme, LLMNaming, ThemeName
from painpoints.discovery.settings import Settings
from painpoints.discovery.themes import Curation

log = logging.getLogger(__name__)


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
