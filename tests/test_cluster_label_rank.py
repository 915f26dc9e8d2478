"""Clustering, offline naming and ranking on synthetic data with known structure (no model needed)."""

from __future__ import annotations

import math
import sys
from datetime import datetime, timedelta

import numpy as np
import pytest

from painpoints.discovery.cluster import UNASSIGNED, ThemeClusterer, auto_min_cluster_size
from painpoints.discovery.label import OfflineLabeler, ctfidf, mmr, phrases, top_phrases
from painpoints.discovery.rank import rank_themes
from painpoints.discovery.records import ThemeScore


def blobs(
    n_per: int = 60, k: int = 3, dim: int = 32, noise: float = 0.08, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, dim))
    X = np.concatenate([c + noise * np.linalg.norm(c) * rng.normal(size=(n_per, dim)) for c in centers])
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X.astype(np.float32), np.repeat(np.arange(k), n_per)


@pytest.mark.slow
def test_clusterer_recovers_blobs_deterministically() -> None:
    X, y = blobs()
    a = ThemeClusterer(random_state=1).fit(X)
    b = ThemeClusterer(random_state=1).fit(X)
    assert np.array_equal(a.labels_, b.labels_)
    assert len(a.centroids_) == 3
    for k in range(3):  # each true blob lands (almost) entirely in one theme
        values, counts = np.unique(a.labels_[y == k], return_counts=True)
        assert counts.max() / counts.sum() >= 0.95
    assert (a.labels_ == UNASSIGNED).mean() <= 0.05


@pytest.mark.slow
def test_large_input_is_fit_on_a_sample_and_the_rest_assigned() -> None:
    X, y = blobs(n_per=300)
    c = ThemeClusterer(random_state=1, max_fit=250).fit(X)
    assert set(c.how_) <= {"cluster", "reassigned", "assigned", "outlier"}
    assert c.how_.is_("assigned").sum() == 650  # 900 rows, 250 fitted: the rest joined a theme or not
    assert c.how_.is_("outlier").sum() == (c.labels_ == UNASSIGNED).sum()
    assert c.how_.codes.dtype == np.int8  # a byte a row, not an object per row (57 B each at 10M)
    assert len(c.centroids_) == 3
    for k in range(3):
        values, counts = np.unique(c.labels_[y == k], return_counts=True)
        assert counts.max() / counts.sum() >= 0.95 and values[counts.argmax()] != UNASSIGNED
    assert np.array_equal(c.labels_, ThemeClusterer(random_state=1, max_fit=250).fit(X).labels_)
    assert c.min_cluster_size_ == 5 and c.min_items_ == round(5 * 900 / 250)  # the smallest theme, in rows of X


@pytest.mark.slow
def test_min_items_is_a_floor_in_rows_of_the_whole_input_scaled_to_the_sample() -> None:
    """An incremental run clusters its leftovers with the last full run's smallest theme in items: on a
    sample the floor is scaled down to the sample, so a theme found there is as big in items."""
    X, _ = blobs(n_per=300)
    c = ThemeClusterer(random_state=1, max_fit=250, min_items=180).fit(X)
    assert c.min_cluster_size_ == math.ceil(180 * 250 / 900)  # 50 sampled rows stand for 180 of X's
    assert c.min_items_ >= 180
    small = ThemeClusterer(random_state=1, min_items=40).fit(X[:200])  # no sample: the floor as it is
    assert small.min_cluster_size_ == 40 == small.min_items_
    assert ThemeClusterer(random_state=1, min_items=2).fit(X[:200]).min_cluster_size_ == auto_min_cluster_size(200)


def test_outliers_join_a_close_theme_and_far_ones_stay_unassigned() -> None:
    X = np.array([[1, 0, 0], [0.99, 0.1, 0], [0, 1, 0], [0.95, 0.2, 0.1], [0, 0, 1]], dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    c = ThemeClusterer(outlier_threshold=0.8)
    c._finish(X, np.array([0, 0, 1, -1, -1]))
    assert list(c.labels_) == [0, 0, 1, 0, UNASSIGNED]
    assert list(c.how_) == ["cluster", "cluster", "cluster", "reassigned", "outlier"]


def test_tiny_inputs_do_not_crash() -> None:
    assert ThemeClusterer().fit(np.zeros((0, 4), np.float32)).labels_.shape == (0,)
    c = ThemeClusterer().fit(blobs(n_per=2, k=2)[0])
    assert set(c.labels_) == {0}


def test_auto_min_cluster_size_grows_slowly() -> None:
    assert auto_min_cluster_size(100) == 5
    assert 10 <= auto_min_cluster_size(3000) <= 20
    assert auto_min_cluster_size(10_000_000) == 60


def test_ctfidf_prefers_distinctive_phrases() -> None:
    texts = [
        "refund never arrived",
        "my refund never arrived yet",
        "refund never arrived again",
        "app crashes on login",
        "the app crashes on login screen",
        "crashes on login daily",
    ]
    labels = np.array([0, 0, 0, 1, 1, 1])
    weights, vocab = ctfidf(texts, labels, 2)
    top0, top1 = (set(phrases) for phrases in top_phrases(weights, vocab, 3))
    assert "refund arrived" in " ".join(top0) or "refund" in top0
    assert any("crashes" in t or "login" in t for t in top1)
    assert not top0 & top1


def test_ctfidf_is_sparse_and_ranks_like_the_dense_formula() -> None:
    """The sparse matrix holds BERTopic's c-TF-IDF: tf per theme / words per theme × log(1 + A / tf per
    phrase); unassigned rows (−1) shape the vocabulary but no theme's row."""
    texts = ["late refund again", "refund late", "login crash", "crash on login again", "refund crash", "late"]
    labels = np.array([0, 0, 1, 1, -1, 0])
    weights, vocab = ctfidf(texts, labels, 3)
    assert weights.shape == (3, len(vocab)) and weights[2].nnz == 0  # theme 2 has no member
    dense = weights.toarray()
    col = {p: j for j, p in enumerate(vocab)}
    tf = np.zeros((3, len(vocab)))
    for text, t in zip(texts, labels, strict=True):
        for p in phrases(text):
            if t >= 0 and p in col:
                tf[t, col[p]] += 1
    words = tf.sum(axis=1, keepdims=True)
    expected = tf / np.maximum(words, 1) * np.log(1 + max(words.mean(), 1) / np.maximum(tf.sum(axis=0), 1))
    assert np.allclose(dense, expected)
    assert top_phrases(weights, vocab, 2)[2] == []
    assert top_phrases(weights, vocab, 1)[0] == [vocab[int(np.argmax(expected[0]))]]


def test_mmr_picks_relevant_then_diverse() -> None:
    cands = np.array([[1, 0], [0.99, 0.14], [0.7, 0.71]], dtype=np.float32)
    cands /= np.linalg.norm(cands, axis=1, keepdims=True)
    assert mmr(cands, np.array([1.0, 0.0]), 2, diversity=0.7) == [0, 2]


def test_offline_labeler_names_with_phrases_not_numbers() -> None:
    texts = [
        "refund never arrived",
        "my refund never arrived yet",
        "refund never arrived again",
        "app crashes on login",
        "the app crashes on login screen",
        "crashes on login daily",
    ]
    labels = np.array([0, 0, 0, 1, 1, 1])
    X = np.eye(6, 4, dtype=np.float32) + 0.01
    X[:3, 0], X[3:, 1] = 1, 1
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    centroids = np.stack([X[:3].mean(0), X[3:].mean(0)])

    def encode(phrases):  # stand-in encoder: refund-ish → axis 0, crash/login-ish → axis 1
        return np.array([[1.0, 0, 0, 0] if "refund" in p or "arrived" in p else [0, 1.0, 0, 0] for p in phrases])

    names = OfflineLabeler(n_quotes=2).name(texts, X, labels, centroids, encode=encode)
    assert "refund" in names[0].label.lower() or "arrived" in names[0].label.lower()
    assert "crash" in names[1].label.lower() or "login" in names[1].label.lower()
    assert not any(ch.isdigit() for ch in names[0].label)
    assert len(names[0].quotes) == 2 and set(names[0].quotes) <= set(texts[:3])


def test_rank_score_components() -> None:
    labels = np.array([0, 0, 0, 0, 1, 1, -1])
    sentiment = ["positive", "positive", "neutral", "positive", "negative", "negative", "negative"]
    scores = np.array([0.8, 0.7, 0.0, 0.9, -0.9, -0.8, -0.5])
    rows = rank_themes(labels, sentiment, scores, ["a"] * 7, [str(i) for i in range(7)], [None] * 7)
    assert [r.theme for r in rows] == [1, 0]  # small but all negative beats bigger praise
    top = rows[0]
    assert top.rank == 1 and top.items == 2 and top.negative_share == 1.0
    assert top.trend is None and top.trend_factor == 1.0
    assert top.score == pytest.approx(100 * 2 / 7 * 1.0)
    weighted = rank_themes(
        labels,
        sentiment,
        scores,
        ["a"] * 4 + ["b"] * 3,
        [str(i) for i in range(7)],
        [None] * 7,
        source_weights={"a": 10.0},
    )
    assert weighted[0].theme == 0


def _trends(labels: list[int], created: list, source: list[str], min_items: int = 10) -> dict[int, ThemeScore]:
    n = len(labels)
    rows = rank_themes(np.array(labels), ["negative"] * n, -np.ones(n), source, [str(i) for i in range(n)], created,
                       min_trend_items=min_items)  # fmt: skip
    return {r.theme: r for r in rows}


def test_rank_trend_from_timestamps() -> None:
    now = datetime(2024, 6, 1)
    days = [1, 2, 3, 4, 5, 6] * 2 + [100 + d for d in range(12)]
    labels = [0] * 9 + [1] * 3 + [0] * 4 + [1] * 8  # theme 0: 9 of 12 recent, 4 of 12 before
    t = _trends(labels, [now - timedelta(days=d) for d in days], ["a"] * 24)
    assert t[0].trend == pytest.approx(9 / 4 - 1) and (t[0].trend_recent, t[0].trend_expected) == (9, 4.0)
    assert t[1].trend == pytest.approx(3 / 8 - 1)
    assert t[0].trend_factor > 1 > t[1].trend_factor


def test_trend_compares_each_source_within_its_own_time_span() -> None:
    """Source b's export ended two years before source a's: its themes are not "shrinking" — within
    b's own span theme 1 is steady, so its trend is 0, not −100%."""
    now = datetime(2024, 6, 1)
    a = [now - timedelta(days=d) for d in [1, 2, 3, 4, 5, 100, 101, 102, 103, 104] * 2]
    b = [now - timedelta(days=800 + d) for d in [1, 2, 3, 4, 5, 100, 101, 102, 103, 104] * 2]
    t = _trends([0] * 20 + [1] * 20, a + b, ["a"] * 20 + ["b"] * 20)
    assert t[1].trend == pytest.approx(0.0) and t[0].trend == pytest.approx(0.0)


def test_request_trend_follows_the_asking_not_the_whole_theme() -> None:
    """A theme as big now as before, whose requests all came lately: the theme is steady, the
    request trend (feature_requests) grows; without request types there is none."""
    now = datetime(2024, 6, 1)
    created = [now - timedelta(days=d) for d in [1, 2, 3, 4, 5, 6] * 2 + [100 + d for d in range(12)]]
    request = np.array([True] * 10 + [False] * 2 + [True] * 2 + [False] * 10)  # 10 recent asks vs 2 before
    n = len(created)
    row = rank_themes(np.zeros(n, dtype=int), ["neutral"] * n, np.zeros(n), ["a"] * n, [str(i) for i in range(n)],
                      created, request=request)[0]  # fmt: skip
    assert row.trend == pytest.approx(0.0)
    assert (row.request_trend_recent, row.request_trend_expected) == (10, 2.0)
    assert row.request_trend == pytest.approx(10 / 2 - 1)
    plain = rank_themes(np.zeros(n, dtype=int), ["neutral"] * n, np.zeros(n), ["a"] * n, [str(i) for i in range(n)],
                        created)[0]  # fmt: skip
    assert plain.request_trend is None


def test_no_trend_from_a_handful_or_without_history() -> None:
    now = datetime(2024, 6, 1)
    few = _trends([0] * 4 + [1] * 20, [now - timedelta(days=d) for d in [1, 2, 3, 100] + list(range(100, 120))],
                  ["a"] * 24)  # fmt: skip
    assert few[0].trend is None and few[0].trend_factor == 1.0  # 4 items: noise, not a trend
    new = _trends([0] * 12 + [1] * 20, [now - timedelta(days=d) for d in [1] * 12 + list(range(100, 120))], ["a"] * 32)
    assert new[0].trend == 1.0 and new[0].trend_expected == 0.0  # only recent: new, capped at +100%
    undated = _trends([0] * 12, [None] * 12, ["a"] * 12)
    assert undated[0].trend is None and undated[0].trend_recent is None


def test_exact_knn_matches_brute_force_and_puts_self_first() -> None:
    from painpoints.discovery.vectors import exact_knn

    X, _ = blobs(n_per=100, k=3, dim=16)
    idx, dist = exact_knn(X, 6, block=64)
    sims = X @ X.T
    expected = np.argsort(-sims, axis=1, kind="stable")[:, :6]
    assert (idx[:, 0] == np.arange(len(X))).all()
    assert np.allclose(np.take_along_axis(sims, idx, 1), np.take_along_axis(sims, expected, 1), atol=1e-6)
    assert np.allclose(dist, 1 - np.take_along_axis(sims, idx, 1), atol=1e-5)


def test_exact_knn_selects_the_same_neighbours_with_torch_past_its_threshold(monkeypatch) -> None:
    """Wide blocks select their top k with torch (``vectors._top_k``): the same neighbours, same order."""
    import painpoints.discovery.vectors as vectors

    X, _ = blobs(n_per=100, k=3, dim=16)
    numpy_knn = vectors.exact_knn(X, 6, block=64)
    monkeypatch.setattr(vectors, "TOPK_TORCH_MIN", 10)
    torch_knn = vectors.exact_knn(X, 6, block=64)
    assert np.array_equal(numpy_knn[0], torch_knn[0]) and np.allclose(numpy_knn[1], torch_knn[1])
    assert "torch" in sys.modules


@pytest.mark.slow
def test_umap_kernels_are_cached_on_disk(tmp_path):
    """A new process must not recompile UMAP's numba kernels (≈5 s of every cold run)."""
    import subprocess
    import sys

    code = (
        "import numpy as np; from painpoints.discovery.cluster import ThemeClusterer; "
        "from painpoints.discovery.vectors import cache_numba_functions; "
        "X = np.random.default_rng(0).standard_normal((300, 16)).astype(np.float32); "
        "X /= np.linalg.norm(X, axis=1, keepdims=True); ThemeClusterer(random_state=0).fit(X); "
        "print(cache_numba_functions())"
    )
    env = {**__import__("os").environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert int(out.stdout.strip().splitlines()[-1]) > 50
    assert len(list(tmp_path.rglob("*.nbi"))) > 5  # compiled kernels written to the cache


def test_phrases_leave_out_filler_masks_handles_and_fragments() -> None:
    """A name is the thing, not a feeling, a masked number, an @handle or a sentence fragment."""
    from painpoints.discovery.label import phrases

    got = phrases("Works great, best reddit client I've used! @united lost my bag, XXXX XXXX told me #fail")
    assert "reddit client" in got and "lost my bag" in got
    assert not any(w in p.split() for p in got for w in ("great", "best", "xxxx", "united", "fail"))
    assert not any(p.endswith("i've") or p.startswith("i've") for p in got)
    # narrative words never start or end a name ("Luggage / went", "Bought this skirt"), inside they may
    got = phrases("My luggage went missing. Bought this skirt, no way")
    assert "luggage went missing" in got and "skirt" in got
    assert not any(p.split()[0] in ("went", "bought", "way") or p.split()[-1] in ("went", "way") for p in got)
    # nor do conversational fillers and bare auxiliaries ("Smooth / yeah", "Works / does")
    got = phrases("Smooth scrolling, yeah damn. It does what it says and gives the option to sync stuff")
    assert "smooth scrolling" in got and "option to sync" in got
    ends = {w for p in got for w in (p.split()[0], p.split()[-1])}
    assert not ends & {"yeah", "damn", "does", "gives", "stuff"}
    # a negated auxiliary starts a name but never ends one, with either apostrophe
    got = phrases("Search doesn't work. Images won’t load")
    assert "doesn't work" in got and "images won't load" in got
    assert not any(p.endswith(("doesn't", "won't")) or "won" in p.split() for p in got)


def test_impact_is_the_rise_of_the_average_rating_without_the_theme() -> None:
    """Theme 0: ten 1-star items; theme 1: ten 5-star items. All 20 average 3.0; without theme 0 the
    average is 5.0 (impact +2.0), without theme 1 it is 1.0 (−2.0). A theme with too few rated items,
    or unrated data, has no impact. An item cut into two segments counts once."""
    labels = [0] * 10 + [1] * 10 + [2, 2]
    ids = [str(i) for i in range(20)] + ["0", "21"]  # item "0" has a second segment, in theme 2
    rating = [1.0] * 10 + [5.0] * 10 + [1.0, None]
    rows = rank_themes(np.array(labels), ["negative"] * 22, -np.ones(22), ["a"] * 22, ids, [None] * 22, rating=rating)
    by = {r.theme: r for r in rows}
    assert by[0].impact == pytest.approx(2.0) and by[0].avg_rating == 1.0 and by[0].rated_items == 10
    assert by[1].impact == pytest.approx(-2.0)
    assert by[2].impact is None and by[2].rated_items == 1
    unrated = rank_themes(np.array(labels), ["negative"] * 22, -np.ones(22), ["a"] * 22, ids, [None] * 22)
    assert all(r.impact is None and r.rated_items == 0 for r in unrated)
