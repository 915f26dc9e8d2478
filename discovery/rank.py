"""The pain-point score, with every component kept as a column so a PM can re-rank in SQL.

    score = 100 · weighted_share · (0.25 + 0.75 · negative_share) · trend_factor

* ``weighted_share`` — the theme's share of all segments, each segment weighted by its source's
  weight (``source_weights``, default 1): how big the problem is.
* ``negative_share`` — share of the theme's segments classified negative: how much it hurts. Praise
  themes keep a quarter of their volume so a huge neutral theme can still outrank a tiny angry one.
* ``trend_factor`` — 1 + ½·clip(trend, −1, 1), where ``trend`` is the relative growth of the theme's
  share in the last ``recent_days`` against the time before (NULL, factor 1, without timestamps).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from discovery.records import ThemeScore

MIN_DATED = 0.5  # share of a theme's segments that need a timestamp before trend is computed


def trend(theme_mask: np.ndarray, created: Sequence[datetime | None], recent_days: int) -> float | None:
    dated = np.array([c is not None for c in created])
    if not dated.any() or dated[theme_mask].mean() < MIN_DATED:
        return None
    stamps = [c for c in created if c is not None]
    cut = max(stamps) - timedelta(days=recent_days)
    recent = np.array([c is not None and c > cut for c in created])
    before = dated & ~recent
    if recent.sum() == 0 or before.sum() == 0:
        return None
    share_recent = (theme_mask & recent).sum() / recent.sum()
    share_before = (theme_mask & before).sum() / before.sum()
    if share_before == 0:
        return 1.0 if share_recent > 0 else None
    return float(share_recent / share_before - 1)


def rank_themes(
    labels: np.ndarray,
    sentiment: Sequence[str],
    sentiment_score: np.ndarray,
    source: Sequence[str],
    feedback_id: Sequence[str],
    created: Sequence[datetime | None],
    source_weights: dict[str, float] | None = None,
    recent_days: int = 30,
) -> list[ThemeScore]:
    """One score per theme with its components, ``rank`` 1 = most painful; ties broken by size."""
    n = len(labels)
    if n == 0:
        return []
    weights = np.array([(source_weights or {}).get(s, 1.0) for s in source], dtype=float)
    negative = np.array([s == "negative" for s in sentiment])
    rows = []
    for t in sorted(set(int(x) for x in labels if x >= 0)):
        mask = labels == t
        share = mask.sum() / n
        weighted_share = weights[mask].sum() / weights.sum()
        neg_share = negative[mask].mean()
        tr = trend(mask, created, recent_days)
        factor = 1 + 0.5 * float(np.clip(tr, -1, 1)) if tr is not None else 1.0
        rows.append(
            ThemeScore(
                theme=t,
                items=int(mask.sum()),
                feedback_items=len({feedback_id[i] for i in np.flatnonzero(mask).tolist()}),
                share=float(share),
                weighted_share=float(weighted_share),
                negative_share=float(neg_share),
                avg_sentiment=float(sentiment_score[mask].mean()),
                trend=tr,
                trend_factor=factor,
                score=float(100 * weighted_share * (0.25 + 0.75 * neg_share) * factor),
                sources=sorted({source[i] for i in np.flatnonzero(mask).tolist()}),
            )
        )
    rows.sort(key=lambda r: (-r.score, -r.items, r.theme))
    for i, r in enumerate(rows, start=1):
        r.rank = i
    return rows
