"""A run's per-segment columns in Arrow (``discovery.columns``): read like the lists they replace, at a
fraction of the memory (issue 18: a full run's memory must not grow with every segment's objects)."""

from __future__ import annotations

import hashlib
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

from painpoints.discovery import lastrun
from painpoints.discovery.columns import (
    ArrowColumn,
    GroupCodes,
    MissingTexts,
    StoredTexts,
    aligned,
    as_datetime64,
    as_dictionary,
    as_float,
    coded,
    codes,
    columns_of,
    count_distinct,
    dictionary_codes,
    group_codes,
    present,
    same_values,
    take,
    to_arrow,
)
from painpoints.discovery.instants import Instants
from painpoints.discovery.lastrun import theme_and_same, theme_counts
from painpoints.discovery.rank import Windows, rank_themes
from painpoints.discovery.scratch import RowFile


def chunked(values: list, size: int) -> ArrowColumn:
    """``values`` in several Arrow chunks, as record batches from the store arrive."""
    return ArrowColumn(pa.chunked_array([pa.array(values[i : i + size]) for i in range(0, len(values), size)]))


def test_a_column_reads_like_its_list_across_chunks() -> None:
    values = [f"seg-{i}" for i in range(10)]
    col = chunked(values, 3)
    assert len(col) == 10 and col == values and list(col) == values and col != values[::-1]
    assert col[0] == "seg-0" and col[-1] == "seg-9" and col[4] == "seg-4"
    assert col[2:7] == values[2:7] and col[::3] == values[::3] and col[8:3] == []
    assert take(col, np.array([9, 0, 4])) == ["seg-9", "seg-0", "seg-4"] == take(values, [9, 0, 4])
    assert list(zip(col, values, strict=True)) == list(zip(values, values, strict=True))
    with pytest.raises(IndexError):
        col[10]
    dates = ArrowColumn.of([datetime(2026, 1, 2), None])
    assert dates[0] == datetime(2026, 1, 2) and dates[1] is None  # timestamps and nulls come back as Python


def test_a_spilled_column_reads_like_its_list_from_its_scratch_file(monkeypatch) -> None:
    """Past ``vectors_in_memory`` a full run keeps its segment ids and hashes in scratch files: the
    column holds nothing in memory and reads as the list did, a batch at a time."""
    monkeypatch.setattr(RowFile, "ROWS_PER_BATCH", 3)
    values = [f"seg-{i}" for i in range(10)] + [None]
    col = ArrowColumn.of_file(RowFile(chunked(values, 4).array))
    assert col.spilled and col._array is None and "spilled" in repr(col)
    assert len(col) == 11 and list(col) == values and col == values and col == ArrowColumn.of(values)
    assert col[0] == "seg-0" and col[-2] == "seg-9" and col[-1] is None and col[4] == "seg-4"
    assert col[2:7] == values[2:7] and col[::3] == values[::3] and col[8:3] == []
    assert take(col, np.array([9, 0, 4, 4, 10])) == ["seg-9", "seg-0", "seg-4", "seg-4", None]
    assert take(col, np.array([], dtype=np.int64)) == []
    assert to_arrow(col, pa.string(), 11).to_pylist() == values and col.array.num_chunks == 4
    with pytest.raises(IndexError):
        col[11]


def test_feedback_ids_as_group_codes_and_coded_sources_rank_alike() -> None:
    """What a spilled run keeps of feedback ids (codes of equal ids) and sources (dictionary codes)
    counts and groups as the ids and names did."""
    ids = [f"f{i % 7}" for i in range(30)]
    grouped = GroupCodes.of_ids(chunked(ids, 4))
    assert count_distinct(grouped) == count_distinct(ids) == 7
    g = group_codes(grouped)
    assert sorted(set(g.tolist())) == list(range(7))
    assert all((g[i] == g[j]) == (ids[i] == ids[j]) for i in range(30) for j in range(30))
    sources = ["zendesk", "app store", "calls"] * 10
    src = ArrowColumn(coded(chunked(sources, 4).array))
    assert codes(src)[1] == codes(sources)[1] and codes(src)[0].tolist() == codes(sources)[0].tolist()


def test_few_shared_values_are_coded_without_a_string_per_row() -> None:
    """Theme ids, tones and types per segment become dictionary columns straight from the list (or a
    column of last run's codes); theme stability compares codes. Same values as the Arrow way."""
    from painpoints.discovery.themes import same_theme_share

    now = ["t1", None, "t2", "t1", "t3", None]
    before = ["t1", "t2", "t2", None, "t9", None]
    idx, names = dictionary_codes(now)
    assert names == ["t1", "t2", "t3"] and idx.tolist() == [0, -1, 1, 0, 2, -1]
    for values in (
        now,
        np.array(now, dtype=object),
        ArrowColumn.of(now),
        ArrowColumn(pa.array(now).dictionary_encode()),
    ):
        got = as_dictionary(values, len(now))
        assert pa.types.is_dictionary(got.type) and got.to_pylist() == now
        assert got.cast(pa.string()).equals(pa.array(now, pa.string()))
    assert as_dictionary(None, 3).to_pylist() == [None] * 3
    # of the four segments assigned before, t1 and t2 stayed (t9 is gone, one is unassigned now)
    assert (
        same_theme_share(before, now) == same_theme_share(ArrowColumn(pa.array(before).dictionary_encode()), now) == 0.5
    )
    assert same_theme_share([None, None], ["t1", None]) is None


def test_codes_and_distinct_agree_with_the_list_versions() -> None:
    sources = ["zendesk", "app store", "zendesk", "calls", "app store"] * 3
    got, names = codes(chunked(sources, 4))
    want, want_names = codes(sources)
    assert names == want_names == ["app store", "calls", "zendesk"]
    assert got.tolist() == want.tolist() and [names[c] for c in got.tolist()] == sources
    assert count_distinct(chunked(sources, 4)) == count_distinct(sources) == 3


def test_numpy_views_of_columns_keep_nulls_and_groups() -> None:
    """Timestamps, numbers and ids as numpy arrays, from lists or columns alike: nulls as NaT / NaN,
    aware times in UTC; ``group_codes`` gives equal ids equal codes (order unspecified)."""
    times = [datetime(2026, 1, 2, 3), None, datetime(2026, 1, 1)]
    want = np.array(["2026-01-02T03", "NaT", "2026-01-01"], dtype="datetime64[us]")
    for got in (as_datetime64(times), as_datetime64(chunked(times, 2))):
        assert got.dtype == np.dtype("datetime64[us]") and np.array_equal(got, want, equal_nan=True)
    aware = datetime(2026, 1, 2, 5, tzinfo=UTC).astimezone(datetime.now().astimezone().tzinfo)
    assert as_datetime64([aware])[0] == np.datetime64("2026-01-02T05", "us")
    assert np.isnat(as_datetime64([None, None])).all()
    for got in (as_float([1, None, 2.5]), as_float(chunked([1.0, None, 2.5], 2))):
        assert np.array_equal(got, [1.0, np.nan, 2.5], equal_nan=True)
    ids = ["b", "a", "b", "c", "a"]
    for got in (group_codes(ids), group_codes(chunked(ids, 2))):
        assert len(set(got.tolist())) == 3 and [got[0], got[1]] == [got[2], got[4]] and got[3] not in got[:3]


def test_time_windows_are_each_sources_own() -> None:
    """``Windows.of`` (arrays) marks what the per-item rule marks: recent when within ``recent_days`` of
    the newest dated item of its own source, before when dated and older."""
    rng = np.random.default_rng(1)
    n, days = 500, 9
    source = [("app", "tickets", "calls", "undated")[i] for i in rng.integers(0, 4, n)]
    start = {"app": datetime(2026, 3, 1), "tickets": datetime(2019, 5, 1), "calls": datetime(2026, 1, 1)}
    created = [None if s == "undated" or rng.random() < 0.2 else start[s] + timedelta(hours=int(rng.integers(0, 2000)))
               for s in source]  # fmt: skip
    newest = {s: max(c for c, t in zip(created, source, strict=True) if t == s and c) for s in start}
    recent = [c is not None and c > newest[s] - timedelta(days=days) for s, c in zip(source, created, strict=True)]
    for w in (Windows.of(created, source, days), Windows.of(chunked(created, 64), chunked(source, 64), days)):
        assert w.recent.tolist() == recent and w.dated.tolist() == [c is not None for c in created]
        assert w.before.tolist() == [c is not None and not r for c, r in zip(created, recent, strict=True)]
        assert w.names == ["app", "calls", "tickets", "undated"] and w.recent_all[3] == w.before_all[3] == 0


def test_to_arrow_keeps_a_column_and_fills_a_missing_one() -> None:
    col = chunked(["a", "b", "c"], 2)
    assert to_arrow(col, pa.string(), 3) is col.array
    assert to_arrow(None, pa.string(), 3).null_count == 3
    assert to_arrow(np.array(["x", "y"], dtype=object), pa.string(), 2).to_pylist() == ["x", "y"]


def test_ranking_reads_columns_as_it_reads_lists() -> None:
    """rank_themes groups sources and feedback items by code: the same scores from Arrow columns."""
    n = 60
    rng = np.random.default_rng(0)
    labels = rng.integers(-1, 4, n)
    source = [("app", "tickets", "calls")[i % 3] for i in range(n)]
    item = [f"f{i // 2}" for i in range(n)]  # two segments per item
    created = [datetime(2026, 1, 1 + i % 28) for i in range(n)]
    rating = [float(1 + i % 5) for i in range(n)]
    sentiment = [("negative", "neutral", "positive")[i % 3] for i in range(n)]
    score = rng.uniform(-1, 1, n)
    args = (labels, sentiment, score)
    lists = rank_themes(*args, source, item, created, {"calls": 2.0}, 7, 3, rating)
    cols = rank_themes(*args, *(chunked(v, 7) for v in (source, item, created)), {"calls": 2.0}, 7, 3,
                       chunked(rating, 7))  # fmt: skip
    assert lists == cols and {r.feedback_items for r in lists} and lists[0].sources
    spilled = rank_themes(*args, ArrowColumn(coded(chunked(source, 7).array)), GroupCodes.of_ids(item),
                          chunked(created, 7), {"calls": 2.0}, 7, 3, chunked(rating, 7))  # fmt: skip
    assert spilled == lists


def test_a_column_holds_far_less_than_the_list() -> None:
    """The point of it: 20,000 segment texts take a fraction of the memory as one Arrow column."""
    texts = [f"the export button does nothing when I click it, attempt {i}" for i in range(20_000)]
    as_list = sys.getsizeof(texts) + sum(sys.getsizeof(t) for t in texts)
    batches = [pa.record_batch({"text": pa.array(texts[i : i + 5000])}) for i in range(0, len(texts), 5000)]
    col = columns_of(batches, batches[0].schema)["text"]
    assert col.array.nbytes < 0.6 * as_list and col == texts


def test_last_run_on_this_runs_rows_answers_like_the_dict_it_replaces() -> None:
    """ThemeState.previous (segment → (theme, hash)) and its views (type; sentiment and score) held on
    this run's rows as codes and a same-text flag (``lastrun``): theme and same-text per row, counts,
    aligned values and item access agree with dicts of the same rows; a segment new this run, or
    whose text changed, is not the same text; rows come in several batches, in any order."""
    ids = [f"s{i:03d}" for i in range(9)]
    theme = ["T1", "T2", None] * 3
    hashes = [f"h{i}" for i in range(9)]
    kinds = ["problem", "praise", "other"] * 3
    tone = [("negative", -0.5), ("positive", 0.75), ("neutral", 0.0)] * 3

    def text(h: str) -> tuple[int, int]:  # two 64-bit hashes of a content hash (the store uses DuckDB's)
        digest = hashlib.sha256(h.encode()).digest()
        return int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:16], "little")

    rows = {"key": ids, "theme_id": theme, "text_hash": [pa.scalar(text(h)[0], pa.uint64()) for h in hashes],
            "text_check": [pa.scalar(text(h)[1], pa.uint64()) for h in hashes], "feedback_type": kinds,
            "sentiment": [t for t, _ in tone], "sentiment_score": [v for _, v in tone]}  # fmt: skip
    table = pa.table(rows)
    run = ["s004", "new", "s000", "s008", "s001"]
    run_hashes = ["h4-edited", "h9", "h0", "h8", "h1"]
    where = {k: i for i, k in enumerate(run)}

    def placed(batch: pa.RecordBatch) -> tuple[pa.RecordBatch, np.ndarray, np.ndarray]:
        found = [(j, where[k]) for j, k in enumerate(batch.column("key").to_pylist()) if k in where]
        return batch, np.array([j for j, _ in found], int), np.array([r for _, r in found], int)

    batches = [placed(b) for b in table.slice(5).to_batches() + table.slice(0, 5).to_batches()]
    texts = np.array([text(h) for h in run_hashes], np.uint64)
    previous, previous_type, previous_sentiment = lastrun.read(
        ArrowColumn.of(run), ArrowColumn.of(run_hashes), texts, batches
    )
    as_dict = dict(zip(ids, zip(theme, hashes, strict=True), strict=True))
    expected_theme, expected_same = ["T2", None, "T1", None, "T2"], [False, False, True, True, True]
    for state in (previous, as_dict):
        got_theme, same = theme_and_same(state, previous.ids, ArrowColumn.of(run_hashes))
        assert list(got_theme) == expected_theme and same.tolist() == expected_same
        assert theme_counts(state) == {"T1": 3, "T2": 3}
        _, hash_part = aligned(state, previous.ids, 2)
        assert same_values(hash_part, run_hashes).tolist() == expected_same
    assert list(aligned(previous_type, previous.ids, 1)[0]) == ["praise", None, "problem", "other", "praise"]
    tones, scores = aligned(previous_sentiment, previous.ids, 2)
    assert list(tones) == ["positive", None, "negative", "neutral", "positive"]
    assert list(scores) == [0.75, None, -0.5, 0.0, 0.75]
    subset = ["s001", "zzz", "s004"]  # asked with other keys than the run's own column
    got_theme, same = theme_and_same(previous, subset, ["h1", "x", "h4"])
    assert list(got_theme) == ["T2", None, "T2"] and same.tolist() == [True, False, False]
    assert previous["s000"] == ("T1", "h0") and previous["s004"] == ("T2", None) and "new" not in previous
    assert len(previous) == 4 and previous_type["s001"] == "praise" and previous_sentiment["s008"] == ("neutral", 0.0)


def test_last_run_codes_widen_past_what_two_bytes_hold() -> None:
    """Last run's values are placed as 2-byte codes while they fit; 40,000 distinct theme ids (ids are
    never reused, so a long-lived store may hold many) widen them, in a batch after the first."""
    n = 40_000
    ids = [f"s{i:05d}" for i in range(n)]
    hashed = pa.array(np.arange(n), pa.uint64())
    table = pa.table({"key": ids, "theme_id": [f"T{i:05d}" for i in range(n)], "text_hash": hashed,
                      "text_check": hashed, "feedback_type": ["problem"] * n,
                      "sentiment": ["negative"] * n, "sentiment_score": [-0.5] * n})  # fmt: skip
    parts = [(0, table.slice(0, 30_000).to_batches()[0]), (30_000, table.slice(30_000).to_batches()[0])]
    batches = [(b, np.arange(b.num_rows), np.arange(start, start + b.num_rows)) for start, b in parts]
    texts = np.stack([np.arange(n), np.arange(n)], axis=1).astype(np.uint64)
    previous, _, _ = lastrun.read(ArrowColumn.of(ids), ArrowColumn.of(ids), texts, batches)
    got, same = theme_and_same(previous, previous.ids, ArrowColumn.of(ids))
    assert list(got)[29_999:30_001] == ["T29999", "T30000"] and list(got)[-1] == "T39999" and same.all()


def test_stored_texts_read_only_the_rows_a_step_takes_by_content_hash() -> None:
    """Past vectors_in_memory a run keeps hashes, not texts: ``take`` reads the asked rows' texts in
    one lookup (each distinct hash once), indexing and iteration work, and a hash the store no longer
    has is an error that names it, not a wrong text."""
    store = {"h1": "login fails", "h2": "great app", "h3": "add dark mode"}
    asked: list[list[str]] = []

    def lookup(hashes):
        asked.append(list(hashes))
        return {h: store[h] for h in hashes if h in store}

    texts = StoredTexts(ArrowColumn.of(["h2", "h1", "h2", "h3"]), lookup)
    assert len(texts) == 4 and not asked  # nothing read up front
    assert take(texts, [3, 0, 2]) == ["add dark mode", "great app", "great app"]
    assert asked == [["h2", "h3"]] and texts.rows_read == 3
    assert texts[1] == "login fails" and texts[-1] == "add dark mode" and texts[1:3] == ["login fails", "great app"]
    assert list(texts) == ["great app", "login fails", "great app", "add dark mode"]
    with pytest.raises(IndexError):
        texts[4]
    del store["h3"]
    with pytest.raises(MissingTexts, match="h3"):
        take(texts, [3])


@pytest.mark.parametrize("wrap", [list, lambda v: ArrowColumn.of(v, pa.string())])
def test_row_comparisons_match_the_python_loop(wrap) -> None:
    """Which rows keep last run's value (``scoring.kept_from``; ``theme_and_same`` on a dict), vectorised."""
    old_hash = wrap(["a", None, "c", "d", "e", None])
    new_hash = wrap(["a", "b", "x", "d", "e", None])
    theme = wrap(["T1", None, "T2", None, "T1", None])
    same = same_values(old_hash, new_hash)
    assert same.tolist() == [o == n and o is not None for o, n in zip(list(old_hash), list(new_hash), strict=True)]
    assert present(theme).tolist() == [True, False, True, False, True, False]


def test_instants_hold_timestamps_as_whole_seconds_in_four_bytes() -> None:
    """A run's dates as int32 seconds after the earliest: the same instants back (to the second), NaT
    and None for undated rows; spans past int32 seconds are refused (the caller keeps its column)."""
    times = [datetime(2026, 1, 2, 3, 4, 5, 678), None, datetime(1990, 6, 1), datetime(2026, 1, 1)]
    held = Instants.of(as_datetime64(times))
    assert held is not None and held.seconds.dtype == np.int32 and len(held) == 4
    want = np.array(["2026-01-02T03:04:05", "NaT", "1990-06-01", "2026-01-01"], dtype="datetime64[us]")
    assert np.array_equal(as_datetime64(held), want, equal_nan=True)  # sub-second parts dropped
    assert held[0] == datetime(2026, 1, 2, 3, 4, 5) and held[1] is None and held[2] == datetime(1990, 6, 1)
    assert [held[1:][i] for i in range(3)] == [None, datetime(1990, 6, 1), datetime(2026, 1, 1)]
    early = Instants.of(as_datetime64([datetime(1950, 1, 1), datetime(1940, 1, 1)]))  # before the epoch
    assert early is not None and early[0] == datetime(1950, 1, 1) and early[1] == datetime(1940, 1, 1)
    assert Instants.of(as_datetime64([datetime(1900, 1, 1), datetime(2026, 1, 1)])) is None  # 126 years
    undated = Instants.of(as_datetime64([None, None]))
    assert undated is not None and np.isnat(as_datetime64(undated)).all() and undated[0] is None
