"""Is a theme emerging? Its items in the latest period against a baseline of earlier periods.

The reference time is the newest feedback timestamp, not the wall clock, so a backfill of old data
or a late nightly run gives the same answer. Periods are ``period_days`` long (default a week); the
baseline is the ``baseline_periods`` periods before the latest one.

    z = (recent − mean) / sqrt(max(var, mean, 1))

Counts are roughly Poisson, so the variance is floored at the mean: a theme that went from 0, 0, 1 to
3 items is not a 3-sigma event. A theme is **emerging** when it is new this run (and not the first
run ever) with at least ``min_items`` recent items, or when ``z ≥ z_threshold`` with at least
``min_items`` recent items ("spike").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from painpoints.discovery.columns import as_datetime64
from painpoints.discovery.records import ThemeTrend

NAT = np.iinfo(np.int64).min  # NaT as int64
BLOCK = 1 << 20


@dataclass
class TrendRule:
    period_days: int = 7
    baseline_periods: int = 8
    z_threshold: float = 2.0
    min_items: int = 5


def theme_trends(
    labels: np.ndarray,
    created: Sequence[datetime | None],
    n_themes: int,
    is_new: Sequence[bool],
    rule: TrendRule = TrendRule(),
) -> list[ThemeTrend]:
    """Per theme index: recent_items, baseline_mean, growth, zscore, emerging, emerging_reason.

    Array operations on the timestamps (``columns.as_datetime64``): a loop over ``created`` made a
    ``datetime`` and an ``int`` object per segment, ~1 GB held at once at 10M segments (issue 18)."""
    labels = np.asarray(labels)
    at = as_datetime64(created).view(np.int64)  # µs; NaT (undated) is the smallest int64
    end = int(at.max()) if len(at) else NAT
    if end == NAT:
        return [
            ThemeTrend(None, None, None, None, emerging=bool(is_new[t]), emerging_reason="new" if is_new[t] else None)
            for t in range(n_themes)
        ]
    period = round(rule.period_days * 86_400_000_000)  # µs
    periods = rule.baseline_periods + 1  # period index 0 = the latest period, 1 = the one before, …
    flat = np.zeros(n_themes * periods, np.int64)
    for start in range(0, len(at), BLOCK):  # block by block: a few MB at a time, not 10M-row temporaries
        us, lab = at[start : start + BLOCK], labels[start : start + BLOCK]
        counted = (us != NAT) & (lab >= 0) & (lab < n_themes)
        idx = (end - us[counted]) // period
        recent = idx < periods  # older rows, undated and unassigned ones count nowhere
        flat += np.bincount(lab[counted][recent] * periods + idx[recent], minlength=n_themes * periods)
    per_theme = flat.reshape(n_themes, periods)
    out = []
    for t in range(n_themes):
        counts = per_theme[t]
        recent, base = int(counts[0]), counts[1 : rule.baseline_periods + 1].astype(float)
        mean = float(base.mean())
        z = (recent - mean) / float(np.sqrt(max(base.var(), mean, 1.0)))
        growth = recent / mean - 1 if mean > 0 else None
        reason = None
        if recent >= rule.min_items:
            reason = "new" if is_new[t] else "spike" if z >= rule.z_threshold else None
        out.append(
            ThemeTrend(
                recent_items=recent,
                baseline_mean=mean,
                growth=growth,
                zscore=float(z),
                emerging=reason is not None,
                emerging_reason=reason,
            )
        )
    return out
