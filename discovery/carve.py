"""Carve the complaints out of praised topics, so they become problem themes of their own (issue 17).

Clustering groups by topic, not by verdict: on a mostly happy feed ("love this dress", "the dress runs
small", "fabric is thin") every topic cluster is mostly praise, so ``pain_points`` — problem themes
only — came out empty and the complaints sat as facets of praise themes. A PM reading a ranked table
of pain points needs "Dress runs small" as a row, not a footnote of "Dress / love".

So, after identity and per-segment typing: in each theme that is not a problem theme (praise or
request by its segment mix), the *complaints* — typed ``problem``, not positive in tone, not from an
item its customer rated in the top quarter of its source's scale (``pain_mask``) — move to a theme of
their own when there are at least ``min_items`` of them (the run's minimum theme size: fewer is not a
theme here either). The bar is lower than the ``pain_segments`` view's, which leaves out the middle of
the scale too: a 3-star "runs small" is a complaint about fit, so it leaves the praise topic with the
others, but a mixed verdict is not counted as pain (on 4,000 held-out clothing reviews, 45% of the
top-10 pain items were 3-star reviews while 3-star complaints counted; ``benchmarks/RESULTS.md``).

Identity stays stable across runs: the carved group's centroid is matched one-to-one (``themes.match``,
``match_threshold``) to a known theme that is not its parent — one of the earlier runs' carved themes,
typically — and takes its id; otherwise it gets a fresh id. Incremental runs keep carved members where
they are (carry-over) and send new complaints to the nearest centroid, which for a complaint is the carved
theme's. Curation wins: a carved theme a PM merged back into its parent is not carved again, one merged
elsewhere sends its complaints to the merge target, a hidden one stays hidden.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from painpoints.discovery.coded import Coded, mask_of
from painpoints.discovery.columns import codes, floats
from painpoints.discovery.feedback_type import theme_types
from painpoints.discovery.records import KnownTheme
from painpoints.discovery.themes import Curation, fresh_ids, match
from painpoints.discovery.vectors import centroids

TOP_QUARTER = 0.75  # ratings at or above lo + 0.75 (hi - lo) of their source's scale are the customer's "happy"


def pain_mask(
    types: Sequence[str], sentiment: Sequence[str], rating: Sequence[float | None] | None, source: Sequence[str]
) -> np.ndarray:
    """Per segment: is it a complaint the carve moves (typed problem, not positive, its customer not
    happy: below the top quarter of the source's scale)? The rating scale of each source is read from
    the ratings it holds, so 1–5 stars and NPS 0–10 work alike and unrated sources are never excluded
    (``rating`` None: nothing is rated). Array operations throughout (10M segments)."""
    out = mask_of(types, "problem") & ~mask_of(sentiment, "positive")
    if rating is None:
        return out
    r = floats(rating, np.nan)
    src, names = codes(source)
    rated = ~np.isnan(r)
    lo, hi = np.full(len(names), np.inf), np.full(len(names), -np.inf)
    np.minimum.at(lo, src[rated], r[rated])
    np.maximum.at(hi, src[rated], r[rated])
    with np.errstate(invalid="ignore"):  # unrated sources: inf − inf, never "happy"
        cut = np.where(hi > lo, lo + TOP_QUARTER * (hi - lo), np.inf)  # per source, not per segment
    happy = r >= cut[src]  # NaN (unrated) compares False
    return out & ~happy


def carve_pains(
    theme_of: Sequence[str | None],
    labels: np.ndarray,
    order: list[str],
    X: np.ndarray,
    pain: np.ndarray,
    types: Sequence[str],
    sentiment: Sequence[str],
    known: dict[str, KnownTheme],
    curation: Curation,
    min_items: int,
    match_threshold: float,
) -> Sequence[str | None]:
    """The run's assignment with each non-problem theme's pain segments moved to a carved theme.

    ``labels``/``order`` are the run's theme index (``order[i]`` is index i's id); ``pain`` is
    ``pain_mask``. Returns a new ``theme_of``; nothing changes when no theme qualifies."""
    kinds = theme_types(labels, types, sentiment, len(order))
    groups: dict[str, np.ndarray] = {}
    for t, kind in enumerate(kinds):
        if kind.theme_type == "problem":
            continue
        members = np.flatnonzero((labels == t) & pain)
        if len(members) >= min_items and len(members) < (labels == t).sum():
            groups[order[t]] = members
    if not groups:
        return theme_of
    parents = sorted(groups)
    carved = centroids(X, _group_labels(len(X), [groups[p] for p in parents]), len(parents))
    problem_now = {order[t] for t, k in enumerate(kinds) if k.theme_type == "problem"}
    candidates = [
        tid
        for tid, theme in sorted(known.items())
        if theme.centroid is not None
        and theme.status != "split"
        and tid not in groups
        and (tid not in order or tid in problem_now)
    ]
    old = np.zeros((len(candidates), X.shape[1]), np.float32)
    for j, c in enumerate(candidates):
        old[j] = known[c].centroid
    matched = {i: candidates[j] for i, j, _ in match(carved, old, match_threshold)}
    # the ids in use, from the codes: not a walk over every row (10M at scale)
    held = theme_of.used() if isinstance(theme_of, Coded) else theme_of
    new_id = fresh_ids(set(known) | {t for t in held if t})
    out = Coded.of(theme_of)
    for i, parent in enumerate(parents):
        child = curation.resolve(matched.get(i) or next(new_id))
        if child is None or child == parent:  # a PM merged the carved theme back: respect it
            continue
        out[groups[parent]] = child
    return out


def _group_labels(n: int, groups: list[np.ndarray]) -> np.ndarray:
    labels = np.full(n, -1, dtype=np.int32)
    for g, rows in enumerate(groups):
        labels[rows] = g
    return labels
