"""``StoredVectors``: the run's vectors read from the cache when a stage first indexes them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from painpoints.discovery import lazy_vectors
from painpoints.discovery.lazy_vectors import FileVectors, MaskedRows, MissingVectors, RowView, StoredVectors, prefetch
from painpoints.discovery.vectors import centroids, radii


class Cache:
    """A lookup over a dict that records every request."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors, self.asked = vectors, []

    def __call__(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        assert model == "m"
        self.asked.append(list(hashes))
        return {h: self.vectors[h] for h in hashes if h in self.vectors}


@pytest.fixture
def data() -> tuple[np.ndarray, list[str], Cache]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 5)).astype(np.float32)
    hashes = [f"h{i}" for i in range(10)] + ["h0", "h1"]  # rows 10 and 11 repeat the texts of 0 and 1
    X[10], X[11] = X[0], X[1]
    return X, hashes, Cache({h: X[i] for i, h in enumerate(hashes)})


def test_every_kind_of_index_gives_the_array_rows(data) -> None:
    X, hashes, cache = data
    lazy = StoredVectors(hashes, 5, "m", cache)
    mask = np.arange(12) % 3 == 0
    for key in (4, -1, np.int64(7), slice(2, 9, 3), [5, 2, 5], np.array([11, 0]), mask, np.array([], int)):
        assert np.array_equal(lazy[key], X[key]), key
    assert lazy.shape == X.shape and len(lazy) == 12 and lazy.ndim == 2
    assert np.array_equal(np.asarray(lazy), X)


def test_rows_are_read_once_and_a_repeated_text_once(data) -> None:
    X, hashes, cache = data
    lazy = StoredVectors(hashes, 5, "m", cache)
    lazy[[0, 10, 3]]
    assert cache.asked == [["h0", "h3"]] and lazy.rows_read == 3  # row 10 shares row 0's text
    lazy[[3, 0]]
    lazy[3]
    assert len(cache.asked) == 1  # nothing new to read
    lazy[np.arange(12) < 5]
    assert cache.asked[1] == ["h1", "h2", "h4"] and lazy.rows_read == 6


def test_the_stages_geometry_reads_only_the_themes_it_computes(data) -> None:
    X, hashes, cache = data
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    cache.vectors = {h: X[i] for i, h in enumerate(hashes)}
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, -1, 0, 0])
    lazy = StoredVectors(hashes, 5, "m", cache)
    kept = {1: np.full(5, 1 / np.sqrt(5), np.float32)}
    c = centroids(lazy, labels, 3, kept)
    assert np.allclose(c[[0, 2]], centroids(X, labels, 3)[[0, 2]]) and np.array_equal(c[1], kept[1])
    r = radii(lazy, labels, c, known={1: 0.5})
    assert r[1] == 0.5 and np.isclose(r[0], radii(X, labels, c)[0])
    assert sorted(h for asked in cache.asked for h in asked) == ["h0", "h1", "h2", "h6", "h7", "h8"]


def test_a_vector_gone_from_the_cache_is_a_clear_error(data) -> None:
    X, hashes, cache = data
    del cache.vectors["h4"]
    lazy = StoredVectors(hashes, 5, "m", cache)
    assert np.array_equal(lazy[[1, 2]], X[[1, 2]])
    with pytest.raises(MissingVectors, match="1 segment texts have no cached m vector"):
        lazy[[3, 4]]
    with pytest.raises(TypeError):
        lazy[1, 2]


def test_a_budget_bounds_the_rows_kept_and_rereads_the_rest(data) -> None:
    X, hashes, cache = data
    lazy = StoredVectors(hashes, 5, "m", cache, keep=4)
    assert np.array_equal(lazy[np.arange(10)], X[:10])
    assert lazy.rows_kept == 4 and lazy.rows_read == 10
    assert np.array_equal(lazy[[1, 8, 3]], X[[1, 8, 3]])  # 1 and 3 kept, 8 read again
    assert lazy.rows_read == 11 and lazy.rows_kept == 4


def test_row_views_read_only_what_is_indexed(data) -> None:
    """An incremental run's leftovers (RowView) and naming context (MaskedRows: rows of kept themes read
    as zeros) give the rows of a copy, reading from the cache only the rows indexed."""
    X, hashes, cache = data
    rows = np.array([9, 2, 4, 7])
    view = RowView(StoredVectors(hashes, 5, "m", cache), rows)
    assert len(view) == 4 and view.shape == (4, 5) and not cache.asked
    assert np.array_equal(view[np.array([1, 3])], X[[2, 7]]) and cache.asked == [["h2", "h7"]]
    keep = np.array([True, False, True, False])
    masked = MaskedRows(StoredVectors(hashes, 5, "m", cache), rows, keep)
    want = np.where(keep[:, None], X[rows], 0)
    assert np.array_equal(masked[np.array([1, 2])], want[[1, 2]]) and cache.asked[-1] == ["h4"]
    assert np.array_equal(masked[0], want[0]) and np.array_equal(np.asarray(masked), want)
    assert all("h2" not in asked and "h7" not in asked for asked in cache.asked[2:])  # masked rows never read


class Scan:
    """A one-pass read (``runinput.read_vectors``' contract) that records each pass."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors, self.passes = vectors, []

    def __call__(self, hashes: Sequence[str], model: str, dim: int, out=None):
        assert model == "m"
        hashes = list(hashes)
        self.passes.append(hashes)
        out = np.empty((len(hashes), dim), np.float32) if out is None else out
        out[np.arange(len(hashes))] = np.stack([self.vectors[h] for h in hashes])
        return out


def test_a_stage_reading_block_by_block_gathers_its_rows_in_one_pass(data, monkeypatch) -> None:
    """Each lookup of rows not held scans the whole cache (15 GB at 10M segments): a stage reading a
    theme's members block by block gathers them first, in one pass, and past ``keep`` holds them in a
    scratch file instead of reading them again."""
    import painpoints.discovery.vectors as vectors

    monkeypatch.setattr(vectors, "BLOCK_ROWS", 3)
    monkeypatch.setattr(
        vectors, "blocks", lambda n, size=3: iter([np.arange(i, min(n, i + 3)) for i in range(0, n, 3)])
    )
    X, hashes, cache = data
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    cache.vectors = {h: X[i] for i, h in enumerate(hashes)}
    scan = Scan(cache.vectors)
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, -1, 0, 0])
    lazy = StoredVectors(hashes, 5, "m", cache, keep=4, scan=scan, gather_min=2)
    c = centroids(lazy, labels, 3, {1: X[3]})
    assert np.allclose(c[[0, 2]], centroids(X, labels, 3)[[0, 2]])
    assert len(scan.passes) == 1 and sorted(scan.passes[0]) == sorted(hashes[i] for i in (0, 1, 2, 6, 7, 8, 10, 11))
    assert lazy.passes == 1 and lazy.rows_kept == 0 and not cache.asked  # 8 rows > keep 4: all in the file
    r = radii(lazy, labels, c, known={1: 0.5})
    assert np.isclose(r[0], radii(X, labels, c)[0]) and len(scan.passes) == 1 and not cache.asked
    assert np.array_equal(lazy[np.arange(12)], X)  # held rows from the file, the rest by lookup
    assert cache.asked == [["h3", "h4", "h5", "h9"]]


def test_gathering_fits_in_memory_within_the_budget_and_skips_small_reads(data) -> None:
    X, hashes, cache = data
    scan = Scan(cache.vectors)
    lazy = StoredVectors(hashes, 5, "m", cache, keep=6, scan=scan, gather_min=3)
    lazy.gather(np.array([1, 1]))  # fewer than gather_min: left to a lookup when read
    assert not scan.passes
    lazy.gather(np.array([5, 2, 7, 2]))
    assert scan.passes == [["h2", "h5", "h7"]] and lazy.rows_kept == 3 and lazy.rows_read == 3
    lazy.gather(np.array([2, 5, 7]))  # held already: no pass
    assert len(scan.passes) == 1
    assert np.array_equal(lazy[[7, 2, 5]], X[[7, 2, 5]]) and not cache.asked
    view = RowView(lazy, np.array([0, 3, 4, 8]))
    prefetch(view, np.arange(4))
    assert scan.passes[-1] == ["h0", "h3", "h4", "h8"] and lazy.rows_kept == 3  # 4 > room 3: to the file
    assert np.array_equal(np.asarray(view), X[[0, 3, 4, 8]]) and not cache.asked


@pytest.mark.parametrize("window_rows", [1, 3, 1000])
def test_the_scratch_file_maps_a_window_at_a_time_and_reads_what_was_written(window_rows, monkeypatch) -> None:
    """``FileVectors`` maps one window of the file per step (a sparse read through one mapping of the
    whole file held most of it resident): rows written and read across windows, in any order, with
    every kind of index, are the array's rows."""
    monkeypatch.setattr(lazy_vectors, "WINDOW_BYTES", window_rows * 5 * 4)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(23, 5)).astype(np.float32)
    scratch = FileVectors(23, 5)
    order = rng.permutation(23)
    scratch[order[:11]] = X[order[:11]]
    scratch[order[11:]] = X[order[11:]]
    mask = np.arange(23) % 4 == 1
    for key in (4, -1, np.int64(22), slice(2, 19, 3), slice(None), [5, 2, 5, 22], np.array([20, 0, 7]), mask):
        assert np.array_equal(scratch[key], X[key]), key
    assert scratch[np.array([], int)].shape == (0, 5)
    assert np.array_equal(np.asarray(scratch), X)
    with pytest.raises(IndexError):
        scratch[[23]]
