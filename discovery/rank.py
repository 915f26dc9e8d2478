"""The pain-point score, with every component kept as a column so a PM can re-rank in SQL.

    score = 100 · weighted_share · (0.25 + 0.75 · negative_share) · trend_factor

* ``weighted_share`` — the theme's share of all segments, each segment weighted by its source's
  weight (``source_weights``, default 1): how big the problem is.
* ``negative_share`` — share of the theme's segments classified negative: how much it hurts. Praise
  themes keep a quarter of their volume so a huge neutral theme can still outrank a tiny angry one.
* ``trend_factor`` — 1 + ½·clip(trend, −1, 1), where ``trend`` is the theme's growth in the last
  ``recent_days`` of each source against what its earlier share of that source predicts (``trend``,
  with the counts behind it; NULL, factor 1, without timestamps or with fewer than 10 dated items).

Beside the score, for ``feature_requests``: ``request_trend`` — the same trend over the theme's request
segments alone (a request is usually a facet of a topic, and it is the asking that grows or fades).

Beside the score, where feedback carries a rating: ``impact`` — how much the average rating of all
rated items would rise if the theme's items were removed (Thematic's impact), with ``avg_rating``
and ``rated_items``; re-rank by it in SQL (``order by impact desc``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from painpoints.discovery.coded import mask_of
from painpoints.discovery.columns import as_datetime64, as_float, codes, group_codes
from painpoints.discovery.records import ThemeScore

MIN_DATED = 0.5  # share of a theme's segments that need a timestamp before trend is computed
MIN_TREND_ITEMS = 10  # fewer dated segments in a theme: no trend (a handful of items is noise, not a trend)
MIN_NEW_ITEMS = 5  # recent items needed to call a theme with no history growing (trend +100%)


@dataclass(frozen=True)
class Windows:
    """Each segment's place in time, per source: ``recent`` when within ``recent_days`` of the newest
    item *of its own source*, ``before`` when dated and older. Sources are compared with themselves:
    a source whose export ended years ago is not "shrinking" against one that is still live."""

    source: np.ndarray  # source index per segment
    dated: np.ndarray
    recent: np.ndarray
    before: np.ndarray
    n_sources: int
    recent_all: np.ndarray  # per source: segments in its recent window …
    before_all: np.ndarray  # … and before it (the same for every theme: counted once)
    names: list[str]  # the sources, sorted: ``source`` indexes this

    @classmethod
    def of(cls, created: Sequence[datetime | None], source: Sequence[str], recent_days: int) -> Windows:
        idx, names = codes(source)
        n = len(names)
        at = as_datetime64(created).view(np.int64)  # µs; NaT is the smallest int64
        dated = at != np.iinfo(np.int64).min
        newest = np.full(n, np.iinfo(np.int64).min // 2)  # far from the edge: the subtraction below cannot wrap
        np.maximum.at(newest, idx[dated], at[dated])  # the newest dated item of each source
        recent = dated & (at > newest[idx] - recent_days * 86_400_000_000)
        before = dated & ~recent
        return cls(idx, dated, recent, before, n, np.bincount(idx[recent], minlength=n),
                   np.bincount(idx[before], minlength=n), names)  # fmt: skip

    def count(self, mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.source[mask], minlength=self.n_sources)


@dataclass(frozen=True)
class Trend:
    """A theme's trend and the counts behind it: ``recent`` segments in the recent windows against
    ``expected`` there had its earlier share of each source held (None when not comparable)."""

    value: float | None
    recent: int | None
    expected: float | None


def trend(theme_mask: np.ndarray, w: Windows, min_items: int = MIN_TREND_ITEMS) -> Trend:
    """Growth of a theme within each source's own time span: recent segments against the number its
    share of each source's earlier segments predicts (sources without earlier segments are left out).
    None without enough dated segments, and when nothing comparable is recent."""
    dated = w.dated[theme_mask]
    if dated.sum() < min_items or dated.mean() < MIN_DATED:
        return Trend(None, None, None)
    before_all, recent_all = w.before_all, w.recent_all
    comparable = before_all > 0
    expected = float(
        (w.count(theme_mask & w.before)[comparable] / before_all[comparable] * recent_all[comparable]).sum()
    )
    recent = int(w.count(theme_mask & w.recent)[comparable].sum())
    if not recent_all[comparable].sum():
        return Trend(None, None, None)
    if expected < 1:  # no history to speak of: growing only when clearly present now
        return Trend(1.0 if recent >= MIN_NEW_ITEMS else None, recent, round(expected, 2))
    return Trend(recent / expected - 1, recent, round(expected, 2))


MIN_RATED = 5  # rated feedback items needed inside and outside a theme before its impact is computed


@dataclass(frozen=True)
class Ratings:
    """Scores (star ratings; NPS or CSAT when mapped as ``--rating``) per feedback item, with each
    segment's item: impact is about items, and an item cut into three segments counts once."""

    item: np.ndarray  # item index per segment
    score: np.ndarray  # per item, NaN where unrated

    @classmethod
    def of(cls, item: np.ndarray, rating: Sequence[float | None]) -> Ratings | None:
        """``item``: each segment's feedback item as a code (``columns.codes``)."""
        per_segment = as_float(rating)
        if np.isnan(per_segment).all():
            return None
        score = np.full(int(item.max()) + 1 if len(item) else 0, np.nan)
        score[item] = per_segment
        return cls(item, score)

    def impact(self, theme_mask: np.ndarray) -> tuple[float | None, float | None, int]:
        """``(impact, avg_rating, rated_items)``: Thematic-style impact, how much the average score of
        all rated items would rise without the theme's items (positive: the theme drags it down)."""
        inside = np.zeros(len(self.score), dtype=bool)
        inside[self.item[theme_mask]] = True
        rated = ~np.isnan(self.score)
        n_in, n_out = int((inside & rated).sum()), int((~inside & rated).sum())
        if n_in < MIN_RATED or n_out < MIN_RATED:
            return None, (float(self.score[inside & rated].mean()) if n_in else None), n_in
        without = float(self.score[~inside & rated].mean())
        return without - float(self.score[rated].mean()), float(self.score[inside & rated].mean()), n_in


def rank_themes(
    labels: np.ndarray,
    sentiment: Sequence[str],
    sentiment_score: np.ndarray,
    source: Sequence[str],
    feedback_id: Sequence[str],
    created: Sequence[datetime | None],
    source_weights: dict[str, float] | None = None,
    recent_days: int = 30,
    min_trend_items: int = MIN_TREND_ITEMS,
    rating: Sequence[float | None] | None = None,
    request: np.ndarray | None = None,
) -> list[ThemeScore]:
    """One score per theme with its components, ``rank`` 1 = most painful; ties broken by size.
    ``request`` (per segment: typed request) adds each theme's ``request_trend``."""
    if len(labels) == 0:
        return []
    windows = Windows.of(created, source, recent_days)
    item = group_codes(feedback_id)
    weight_of = np.array([(source_weights or {}).get(s, 1.0) for s in windows.names], dtype=float)
    segments = _Segments(
        weights=weight_of,
        total_weight=float(np.bincount(windows.source, minlength=windows.n_sources) @ weight_of),
        negative=mask_of(sentiment, "negative"),
        sentiment_score=np.asarray(sentiment_score),
        item=item,
        windows=windows,
        ratings=Ratings.of(item, rating) if rating is not None else None,
        min_trend_items=min_trend_items,
        request=request,
    )
    rows = [segments.score(int(t), labels == t) for t in np.unique(labels[labels >= 0])]
    rows.sort(key=lambda r: (-r.score, -r.items, r.theme))
    for i, r in enumerate(rows, start=1):
        r.rank = i
    return rows


@dataclass(frozen=True)
class _Segments:
    """The run's segments as the score reads them, computed once for all themes."""

    weights: np.ndarray  # per source (a per-segment copy was 8 bytes a row)
    total_weight: float  # of every segment
    negative: np.ndarray
    sentiment_score: np.ndarray
    item: np.ndarray  # feedback item code per segment (``columns.codes``)
    windows: Windows
    ratings: Ratings | None
    min_trend_items: int
    request: np.ndarray | None = None

    def score(self, theme: int, mask: np.ndarray) -> ThemeScore:
        """The score of the theme whose segments are ``mask``, with every component."""
        weighted_share = float(self.windows.count(mask) @ self.weights) / self.total_weight
        neg_share = float(self.negative[mask].mean())
        tr = trend(mask, self.windows, self.min_trend_items)
        factor = 1 + 0.5 * float(np.clip(tr.value, -1, 1)) if tr.value is not None else 1.0
        impact, avg_rating, rated = self.ratings.impact(mask) if self.ratings is not None else (None, None, 0)
        asked = trend(mask & self.request, self.windows, self.min_trend_items) if self.request is not None else None
        return ThemeScore(
            theme=theme,
            items=int(mask.sum()),
            feedback_items=len(np.unique(self.item[mask])),
            share=float(mask.sum() / len(mask)),
            weighted_share=float(weighted_share),
            negative_share=neg_share,
            avg_sentiment=float(self.sentiment_score[mask].mean(dtype=np.float64)),
            trend=tr.value,
            trend_factor=factor,
            trend_recent=tr.recent,
            trend_expected=tr.expected,
            impact=impact,
            avg_rating=avg_rating,
            rated_items=rated,
            score=float(100 * weighted_share * (0.25 + 0.75 * neg_share) * factor),
            sources=[self.windows.names[i] for i in np.unique(self.windows.source[mask]).tolist()],
            request_trend=asked.value if asked else None,
            request_trend_recent=asked.recent if asked else None,
            request_trend_expected=asked.expected if asked else None,
        )
