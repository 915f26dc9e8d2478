"""Carving complaints out of praised themes (``discovery.carve``) on synthetic vectors: no model, no store."""

from __future__ import annotations

import numpy as np

from painpoints.discovery.carve import carve_pains, pain_mask
from painpoints.discovery.records import KnownTheme
from painpoints.discovery.themes import Curation


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_pain_mask_leaves_out_happy_customers_and_positive_tone() -> None:
    types = ["problem", "problem", "problem", "praise", "problem", "problem"]
    tone = ["negative", "positive", "neutral", "negative", "negative", "negative"]
    rating = [1.0, 1.0, 5.0, 1.0, 4.0, None]
    source = ["shop", "shop", "shop", "shop", "shop", "tickets"]
    # 5 stars of 1..5 is the customer's happy verdict, and so is 4 (top quarter); unrated sources always count
    assert pain_mask(types, tone, rating, source).tolist() == [True, False, False, False, False, True]
    # the scale is read from the source's own ratings: 1..2 makes 2 its happy end; no ratings at all: tone alone
    assert pain_mask(types, tone, [1.0, 1.0, 1.0, 1.0, 2.0, None], source).tolist() == [
        True,
        False,
        True,
        False,
        False,
        True,
    ]
    unrated = [True, False, True, False, True, True]
    assert (
        pain_mask(types, tone, None, source).tolist() == pain_mask(types, tone, [None] * 6, source).tolist() == unrated
    )


def _praised_topic_with_complaints(n_praise: int = 20, n_pain: int = 8):
    """Theme P (index 0): praise around one direction with complaints a little apart; theme Q (index 1):
    a problem theme elsewhere."""
    rng = np.random.default_rng(0)
    praise = [unit(1, 0.05 * rng.standard_normal(), 0, 0) for _ in range(n_praise)]
    pains = [unit(1, 0.6, 0.05 * rng.standard_normal(), 0) for _ in range(n_pain)]
    other = [unit(0, 0, 0, 1) for _ in range(6)]
    X = np.stack(praise + pains + other)
    theme_of: list[str | None] = ["T001"] * (n_praise + n_pain) + ["T002"] * 6
    labels = np.array([0] * (n_praise + n_pain) + [1] * 6)
    types = ["praise"] * n_praise + ["problem"] * n_pain + ["problem"] * 6
    tone = ["positive"] * n_praise + ["negative"] * n_pain + ["negative"] * 6
    return X, theme_of, labels, types, tone


def _known(X: np.ndarray, **extra: np.ndarray) -> dict[str, KnownTheme]:
    known = {
        "T001": KnownTheme("T001", "Dress / love", "offline", "active", unit(1, 0, 0, 0)),
        "T002": KnownTheme("T002", "Refund late", "offline", "active", unit(0, 0, 0, 1)),
    }
    for tid, c in extra.items():
        known[tid] = KnownTheme(tid, "carved before", "offline", "dormant", c)
    return known


def test_complaints_of_a_praised_theme_become_a_theme_of_their_own() -> None:
    X, theme_of, labels, types, tone = _praised_topic_with_complaints()
    pain = pain_mask(types, tone, [None] * len(X), ["s"] * len(X))
    out = carve_pains(theme_of, labels, ["T001", "T002"], X, pain, types, tone, _known(X), Curation(), 5, 0.8)
    assert out[:20] == ["T001"] * 20  # the praise stays
    assert set(out[20:28]) == {"T003"}  # a fresh id after the highest known
    assert out[28:] == ["T002"] * 6  # a problem theme is never carved


def test_a_carved_theme_keeps_its_id_across_runs() -> None:
    X, theme_of, labels, types, tone = _praised_topic_with_complaints()
    pain = pain_mask(types, tone, [None] * len(X), ["s"] * len(X))
    before = X[20:28].mean(axis=0)
    known = _known(X, T007=before / np.linalg.norm(before))
    out = carve_pains(theme_of, labels, ["T001", "T002"], X, pain, types, tone, known, Curation(), 5, 0.8)
    assert set(out[20:28]) == {"T007"}


def test_too_few_complaints_or_a_merge_back_carve_nothing() -> None:
    X, theme_of, labels, types, tone = _praised_topic_with_complaints(n_pain=4)
    pain = pain_mask(types, tone, [None] * len(X), ["s"] * len(X))
    out = carve_pains(theme_of, labels, ["T001", "T002"], X, pain, types, tone, _known(X), Curation(), 5, 0.8)
    assert out is theme_of

    X, theme_of, labels, types, tone = _praised_topic_with_complaints()
    pain = pain_mask(types, tone, [None] * len(X), ["s"] * len(X))
    before = X[20:28].mean(axis=0)
    known = _known(X, T007=before / np.linalg.norm(before))
    merged_back = Curation(merges={"T007": "T001"})
    out = carve_pains(theme_of, labels, ["T001", "T002"], X, pain, types, tone, known, merged_back, 5, 0.8)
    assert out == theme_of


def test_complaints_from_happy_customers_are_not_carved() -> None:
    X, theme_of, labels, types, tone = _praised_topic_with_complaints()
    rating = [5.0] * 28 + [1.0] * 6  # the complaints come from 5-star reviews ("runs a bit small")
    pain = pain_mask(types, tone, rating, ["s"] * len(X))
    out = carve_pains(theme_of, labels, ["T001", "T002"], X, pain, types, tone, _known(X), Curation(), 5, 0.8)
    assert out is theme_of


def test_a_carved_theme_merged_elsewhere_sends_its_complaints_to_the_target() -> None:
    X, theme_of, labels, types, tone = _praised_topic_with_complaints()
    pain = pain_mask(types, tone, [None] * len(X), ["s"] * len(X))
    before = X[20:28].mean(axis=0)
    known = _known(X, T007=before / np.linalg.norm(before))
    out = carve_pains(
        theme_of, labels, ["T001", "T002"], X, pain, types, tone, known, Curation(merges={"T007": "T002"}), 5, 0.8
    )
    assert set(out[20:28]) == {"T002"}
