"""The store under concurrent use: a connection held by another process (a PM's notebook, the duckdb
CLI) makes a writer wait with a clear message, then fail cleanly; nothing is corrupted."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from painpoints.discovery import runinput, segmentstore, store
from painpoints.discovery.columns import FileTexts, StoredTexts, count_distinct
from painpoints.discovery.lazy_vectors import FileVectors
from tests.helpers import rows


def hold(db: Path, seconds: float) -> subprocess.Popen:
    """Another process holding a read-only connection, like an open notebook."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; "
            f"c = duckdb.connect({str(db)!r}, read_only=True); print('held', flush=True); "
            f"time.sleep({seconds})",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture
def seeded(db: Path) -> Path:
    con = store.connect(db)
    con.execute("INSERT INTO rejected_rows (source, reason) VALUES ('s', 'seed')")
    con.close()
    return db


@pytest.mark.slow
def test_writer_waits_for_a_reader_in_another_process(seeded: Path, caplog: pytest.LogCaptureFixture) -> None:
    holder = hold(seeded, 2.0)
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="painpoints.discovery.store"):
        con = store.connect(seeded, lock_wait=30)
    waited = time.monotonic() - start
    con.execute("INSERT INTO rejected_rows (source, reason) VALUES ('s', 'after wait')")
    con.close()
    holder.wait()
    assert 0.5 < waited < 30
    assert "locked by another process (PID" in caplog.text and "read-only" in caplog.text
    assert rows(seeded, "select reason from rejected_rows order by reason") == [("after wait",), ("seed",)]


def test_writer_gives_up_with_a_clear_error_and_the_db_is_intact(seeded: Path) -> None:
    holder = hold(seeded, 8.0)
    try:
        with pytest.raises(store.StoreError, match=r"waited 1 s for another process"):
            store.connect(seeded, lock_wait=1)
    finally:
        holder.kill()
        holder.wait()
    assert rows(seeded, "select reason from rejected_rows") == [("seed",)]


def test_readers_do_not_block_each_other(seeded: Path) -> None:
    holder = hold(seeded, 5.0)
    try:
        assert rows(seeded, "select count(*) from rejected_rows") == [(1,)]
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("store_original", [True, False])
def test_store_original_setting_controls_whether_unredacted_text_is_kept(db: Path, store_original: bool) -> None:
    from painpoints.connectors.base import FeedbackRecord
    from painpoints.discovery.ingest import ingest_items
    from painpoints.discovery.pipeline import prepare_segments
    from painpoints.discovery.settings import load_settings

    con = store.connect(db)
    ingest_items(
        con,
        [
            FeedbackRecord(
                source="s",
                kind="ticket",
                text="Please call me at +1 415 555 0134 or mail jane.doe@example.com, the refund never came.",
            )
        ],
        keep_original=store_original,
    )
    prepare_segments(con, load_settings(db=db, store_original=store_original))
    text, original = con.execute("SELECT text, original_text FROM segments").fetchone()
    (stored,) = con.execute("SELECT text FROM feedback").fetchone()
    con.execute("CHECKPOINT")
    con.close()
    assert "jane.doe@example.com" not in text and "555 0134" not in text and "[EMAIL]" in text
    if store_original:
        assert "jane.doe@example.com" in original and "jane.doe@example.com" in stored
    else:
        assert original is None and "jane.doe" not in stored and "[EMAIL]" in stored
        assert b"jane.doe" not in db.read_bytes()  # not in any table, nor left in the file


def test_run_input_streams_in_batches_and_keeps_rows_aligned_with_their_vectors(db: Path, monkeypatch) -> None:
    """load_run_input copies record batches into one preallocated array (1M segments must not be held
    twice): any batch size gives the same rows, each with its own vector, in segment_id order."""
    import numpy as np

    from painpoints.connectors.base import FeedbackRecord
    from painpoints.discovery.ingest import ingest_items
    from painpoints.discovery.pipeline import prepare_segments
    from painpoints.discovery.settings import load_settings

    con = store.connect(db)
    texts = [f"complaint number {i} about the {w} page" for i, w in enumerate(["login", "billing", "search"] * 7)]
    ingest_items(con, [FeedbackRecord(source="s", kind="review", text=t) for t in texts], keep_original=True)
    prepare_segments(con, load_settings(db=db))
    hashes = [h for h, _ in segmentstore.texts_to_embed(con, "m")]
    own = {h: np.full(4, i, np.float32) for i, h in enumerate(hashes)}  # vector i belongs to hash i
    segmentstore.insert_embeddings(con, "m", hashes, np.stack([own[h] for h in hashes]))
    whole = runinput.load_run_input(con, "m")
    for batch_rows in (1, 5, 64):
        part = runinput.load_run_input(con, "m", batch_rows=batch_rows)
        assert part.segment_id == whole.segment_id and part.text == whole.text
        assert np.array_equal(part.vectors, whole.vectors)
    assert len(whole.segment_id) == len(texts) and whole.segment_id == sorted(whole.segment_id)
    assert all(np.array_equal(v, own[h]) for v, h in zip(whole.vectors, whole.content_hash, strict=True))
    assert runinput.load_run_input(con, "other model").vectors.shape[0] == 0
    lazy = runinput.load_run_input(con, "m", vectors=False)  # an incremental run: rows now, vectors on use
    assert lazy.segment_id == whole.segment_id and lazy.vectors.shape == whole.vectors.shape
    assert lazy.vectors.rows_read == 0  # type: ignore[attr-defined]
    assert np.array_equal(lazy.vectors[[3, 1]], whole.vectors[[3, 1]]) and lazy.vectors.rows_read == 2  # type: ignore[attr-defined]
    assert np.array_equal(np.asarray(lazy.vectors), whole.vectors)
    # past texts_in_memory segments the texts stay in the store, read by content hash as a step takes them
    few = runinput.load_run_input(con, "m", vectors=False, texts_in_memory=len(texts) - 1)
    assert isinstance(few.text, StoredTexts) and few.text.rows_read == 0
    assert few.segment_id == whole.segment_id and few.content_hash == whole.content_hash
    assert few.text.take([5, 0]) == [whole.text[5], whole.text[0]] and list(few.text) == list(whole.text)
    # … and the ids and hashes wait in scratch files, feedback ids as codes of equal ids
    assert few.segment_id.spilled and few.content_hash.spilled  # type: ignore[attr-defined]
    assert count_distinct(few.feedback_id) == count_distinct(whole.feedback_id)
    assert list(few.source) == list(whole.source)
    assert not isinstance(runinput.load_run_input(con, "m", texts_in_memory=len(texts)).text, StoredTexts)
    # vectors are read in one unordered scan of the cache and placed by content hash: any order of rows,
    # a subset, rows that share a text, never a row without its vector
    ids, hashes = whole.segment_id, whole.content_hash
    assert np.array_equal(runinput.read_vectors(con, hashes[::-1], "m", 4), whole.vectors[::-1])
    assert np.array_equal(runinput.read_vectors(con, hashes[:3], "m", 4, batch_rows=2), whole.vectors[:3])
    twice = runinput.read_vectors(con, [hashes[1], hashes[0], hashes[1]], "m", 4, batch_rows=2)
    assert np.array_equal(twice, whole.vectors[[1, 0, 1]])
    with pytest.raises(store.StoreError, match="1 of 22 segments lost their vector"):
        runinput.read_vectors(con, [*hashes, "no-such-hash"], "m", 4)
    # a full run past vectors_in_memory: the same rows into a scratch file, read back in any order
    spilled = runinput.read_vectors(con, hashes[::-1], "m", 4, batch_rows=5, out=FileVectors(len(ids), 4))
    assert isinstance(spilled, FileVectors) and np.array_equal(np.asarray(spilled), whole.vectors[::-1])
    assert np.array_equal(spilled[[2, 0, 2]], whole.vectors[::-1][[2, 0, 2]])
    assert np.array_equal(spilled[-1], whole.vectors[0])
    texts = runinput.read_texts(con, ids[::-1], batch_rows=4)
    assert isinstance(texts, FileTexts) and list(texts) == list(whole.text)[::-1]
    assert texts.take([5, 0, 5]) == [whole.text[-6], whole.text[-1], whole.text[-6]] and texts[-1] == whole.text[0]
    with pytest.raises(store.StoreError, match="1 of 22 segments lost their text"):
        runinput.read_texts(con, [*ids, "no-such-segment"])
    # keys whose 64-bit hashes collide (forced here: every key hashes alike) still find only their own rows
    monkeypatch.setattr(np, "searchsorted", lambda a, v, side="left": np.full(len(v), 0 if side == "left" else len(a)))
    assert np.array_equal(runinput.read_vectors(con, hashes[:3], "m", 4, batch_rows=2), whole.vectors[:3])
    con.close()


def test_file_texts_find_each_row_across_uneven_and_empty_batches() -> None:
    """Batches of any size as the store hands them (an empty one too), rows placed out of order: each
    row reads its own text, and rows never placed are reported."""
    texts = FileTexts(7)
    texts[np.array([6, 2, 4])] = pa.array(["g", "c", "e"])
    texts[np.array([], np.int64)] = pa.array([], pa.string())
    texts[np.array([0])] = pa.array(["a"])
    texts[np.array([5, 1])] = pa.array(["f", "b"])
    assert texts.placed().tolist() == [True, True, True, False, True, True, True]
    assert texts.take([0, 1, 2, 4, 5, 6]) == ["a", "b", "c", "e", "f", "g"]
    assert texts.take([6, 0, 6, 1]) == ["g", "a", "g", "b"]


def test_streamed_rows_come_in_batches_while_the_connection_writes(db: Path) -> None:
    """The prepare and embed steps stream their input (a fetchall of 1M texts held ~1.6 GB) and write
    on the same connection meanwhile, inside a transaction: every row comes once, in order, and rows
    written during the stream are not read back (the cursor reads the snapshot of its start)."""
    con = store.connect(db)
    con.execute("CREATE TABLE t (i INTEGER)")
    con.execute("INSERT INTO t SELECT range FROM range(23)")
    seen = []
    with store.transaction(con):
        for (i,) in store.streamed(con, "SELECT i FROM t ORDER BY i", batch_rows=5):
            seen.append(i)
            con.execute("INSERT INTO t VALUES (?)", [100 + i])
    assert seen == list(range(23))
    assert store.scalar(con, "SELECT count(*) FROM t") == 46
    con.close()


def test_embed_step_streams_its_texts_in_the_chunks_of_a_list(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """embed_missing reads texts as a stream; chunk boundaries (int8 quantizes per chunk) are those of
    the whole list, every text is embedded once and a rerun has nothing to do."""
    import numpy as np

    from painpoints.discovery import embed
    from painpoints.discovery.embed_cache import embed_missing

    monkeypatch.setattr(embed, "ENCODE_CHUNK", 4)
    con = store.connect(db)
    con.execute("INSERT INTO feedback (feedback_id, source, kind, external_id, text, content_hash) "
                "SELECT 'f' || range, 's', 'review', 'e' || range, 't', 'x' FROM range(11)")  # fmt: skip
    segments = "'f' || range || ':000', 'f' || range, 0, 'text ' || range, 'h' || (range % 10)"
    columns = "segment_id, feedback_id, segment, text, content_hash"
    con.execute(f"INSERT INTO segments ({columns}) SELECT {segments} FROM range(11)")
    chunks: list[list[str]] = []

    class Counting:
        key = "m"

        def encode(self, texts: list[str]) -> np.ndarray:
            chunks.append(texts)
            return np.ones((len(texts), 3), np.float32)

    expected = [t for _, t in segmentstore.texts_to_embed(con, "m")]
    assert embed_missing(con, Counting()) == 10  # 11 segments, 10 distinct texts
    assert chunks == [expected[:4], expected[4:8], expected[8:]]
    assert embed_missing(con, Counting()) == 0 and len(chunks) == 3
    con.close()


@pytest.mark.slow
def test_run_connections_bound_duckdb_memory(tmp_path: Path) -> None:
    from painpoints.discovery.settings import load_settings
    from painpoints.flows.discovery import _connect

    con = _connect(load_settings(db=tmp_path / "m.duckdb", db_memory_limit="300MB"))
    limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit.replace(" ", "") in {"286.1MiB", "300.0MB"}, limit
    # a full run evicts what the load left in DuckDB's pool, and keeps its limit
    con.execute("CREATE TABLE t AS SELECT random() AS f, md5(range::VARCHAR) AS s FROM range(3000000)")
    con.execute("CHECKPOINT")
    con.execute("SELECT sum(f), max(s) FROM t").fetchall()  # its blocks stay cached
    used = "SELECT sum(memory_usage_bytes) FROM duckdb_memory()"
    before = con.execute(used).fetchone()[0]
    store.release_cache(con)
    after = con.execute(used).fetchone()[0]
    assert before > 32 << 20 and after <= 16 << 20, (before, after)
    again = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert again == limit  # set back exactly, however often it is lowered
    # the load's scans run under a lower limit (never a higher one), so the pool keeps less of what they read
    with store.memory_at_most(con, "64MB"):
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0].split()[1] == "MiB"
        assert float(con.execute("SELECT current_setting('memory_limit')").fetchone()[0].split()[0]) < 62
        con.execute("SELECT sum(f), max(s) FROM t").fetchall()
        assert con.execute(used).fetchone()[0] <= 64 << 20
    with store.memory_at_most(con, "2GB"):
        assert float(con.execute("SELECT current_setting('memory_limit')").fetchone()[0].split()[0]) < 300
    back = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert back == limit
    con.close()


@pytest.mark.parametrize("read", ["lookup", "gather"])
def test_a_read_of_the_cache_leaves_no_blocks_in_duckdbs_pool(db: Path, read: str) -> None:
    """A lookup (a few hashes) or an incremental run's gather (``runinput.scanned_vectors``: the rows its
    stages index) scans every cached vector: it must not leave the cache's blocks held in DuckDB's buffer
    pool for the rest of the run (at 10M segments +850 MB from naming on; the nightly's leftovers to
    cluster, up to the 1 GB limit)."""
    con = store.connect(db, memory_limit="1GB")
    rng = np.random.default_rng(0)
    hashes = [f"h{i:06d}" for i in range(200_000)]
    vectors = rng.standard_normal((len(hashes), 96)).astype(np.float32)
    segmentstore.insert_embeddings(con, "m", hashes, vectors)
    con.execute("CHECKPOINT")
    store.release_cache(con)
    if read == "lookup":
        got = segmentstore.cached_vectors(con, "m", ["h000007", "h199999", "nope"])
        assert sorted(got) == ["h000007", "h199999"] and got["h000007"].shape == (96,)
    else:
        got = runinput.scanned_vectors(con, ["h199999", "h000007"], "m", 96, batch_rows=16_384)
        assert np.allclose(got, vectors[[199_999, 7]])
    used = con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0]
    assert used <= 16 << 20, used  # the ~80 MB of vectors it read are not kept
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0].replace(" ", "") == "953.6MiB"
    con.close()


def test_prepare_commits_in_batches_of_whole_items_and_a_crash_loses_nothing(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prepare_segments commits every PREPARE_COMMIT_ROWS segments, after a whole item: a crash keeps
    the committed batches, no item is half-segmented, and the rerun ends where one run would have."""
    from painpoints.connectors.base import FeedbackRecord
    from painpoints.discovery import prepare
    from painpoints.discovery.ingest import ingest_items
    from painpoints.discovery.settings import load_settings

    monkeypatch.setattr(prepare, "INSERT_ROWS", 2)
    monkeypatch.setattr(prepare, "PREPARE_COMMIT_ROWS", 4)
    texts = [f"The export of report {i} fails every time. The login page {i} is very slow." for i in range(12)]
    con = store.connect(db)
    ingest_items(con, [FeedbackRecord(source="s", kind="ticket", text=t) for t in texts], keep_original=False)
    settings = load_settings(db=db, max_segment_chars=40)  # two segments per item
    real, seen = prepare.segment_feedback, []

    def crash_on_the_seventh(kind: str, text: str, *args: object) -> list:
        seen.append(text)
        if len(seen) == 7:
            raise RuntimeError("killed mid-prepare")
        return real(kind, text, *args)

    monkeypatch.setattr(prepare, "segment_feedback", crash_on_the_seventh)
    with pytest.raises(RuntimeError):
        prepare.prepare_segments(con, settings)
    per_item = con.execute("SELECT feedback_id, count(*) FROM segments GROUP BY ALL").fetchall()
    assert len(per_item) == 6 and {n for _, n in per_item} == {2}  # three batches of two whole items
    monkeypatch.setattr(prepare, "segment_feedback", real)
    assert prepare.prepare_segments(con, settings) == 12  # the 6 items left, once each
    assert con.execute("SELECT count(*), count(DISTINCT feedback_id) FROM segments").fetchone() == (24, 12)
    assert prepare.prepare_segments(con, settings) == 0
    con.close()


def test_long_writing_steps_checkpoint_every_so_many_rows(db: Path) -> None:
    """Checkpoints runs CHECKPOINT once ``every`` committed rows add up (and at the step's end), even
    while a cursor streams the step's input: the new rows' index entries then leave memory."""
    con = store.connect(db)
    con.execute("CREATE TABLE t (k VARCHAR PRIMARY KEY)")
    wal = Path(f"{db}.wal")
    rows = store.streamed(con, "SELECT range::VARCHAR FROM range(20000)")
    next(rows)  # a read held open, as prepare's and embed's input is
    checkpoints = store.Checkpoints(con, every=3)
    for i, then_wal_is_empty in ((0, False), (1, True), (2, False)):
        with store.transaction(con):
            con.execute("INSERT INTO t SELECT ? || range FROM range(1000)", [str(i)])
        checkpoints.wrote(2)  # 2, then 4 ≥ 3: checkpoint, then 2 again
        assert (not wal.exists() or wal.stat().st_size == 0) == then_wal_is_empty, i
    checkpoints.now()
    assert not wal.exists() or wal.stat().st_size == 0
    rows.close()
    con.close()


def test_run_input_is_put_in_segment_order_by_the_driver_column_by_column(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run_input_rows comes unordered (DuckDB's ORDER BY over the window ran out of its memory_limit);
    load_run_input sorts by segment_id in slices of SORT_SLICE rows, every column the same way."""
    import numpy as np

    from painpoints.connectors.base import FeedbackRecord
    from painpoints.discovery.ingest import ingest_items
    from painpoints.discovery.pipeline import prepare_segments
    from painpoints.discovery.settings import load_settings

    monkeypatch.setattr(runinput, "SORT_SLICE", 3)
    con = store.connect(db)
    texts = [f"ticket {i} says the {w} page breaks" for i, w in enumerate(["login", "billing", "search", "export"] * 5)]
    ingest_items(con, [FeedbackRecord(source="s", kind="review", text=t) for t in texts], keep_original=True)
    prepare_segments(con, load_settings(db=db))
    hashes = [h for h, _ in segmentstore.texts_to_embed(con, "m")]
    segmentstore.insert_embeddings(con, "m", hashes, np.ones((len(hashes), 4), np.float32))
    got = runinput.load_run_input(con, "m", batch_rows=4)
    ids = list(got.segment_id)
    assert ids == sorted(ids) and len(ids) == 20 and len(got.segment_id.array.chunks) == 7  # ceil(20 / 3)
    truth = dict(con.execute("SELECT segment_id, text FROM segments").fetchall())
    feedback_of = dict(con.execute("SELECT segment_id, feedback_id FROM segments").fetchall())
    assert list(got.text) == [truth[i] for i in ids] and list(got.feedback_id) == [feedback_of[i] for i in ids]
    con.close()


def test_run_input_past_texts_in_memory_is_sorted_through_scratch_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past texts_in_memory the unsorted columns wait in scratch files while the ids are sorted, then
    come back in segment order a slice at a time: the same rows as the in-memory sort, kept as such a
    run keeps them (ids and hashes spilled, feedback ids as codes, sources coded)."""
    from datetime import datetime

    import numpy as np
    import pyarrow as pa

    from painpoints.discovery.columns import GroupCodes, count_distinct, group_codes
    from painpoints.discovery.scratch import RowFile

    monkeypatch.setattr(runinput, "SORT_SLICE", 3)
    monkeypatch.setattr(RowFile, "ROWS_PER_BATCH", 4)
    rng = np.random.default_rng(0)
    n = 23
    rows = {
        "segment_id": [f"s{i:03d}:000" for i in rng.permutation(n)],
        "feedback_id": [f"f{i % 9}" for i in range(n)],
        "source": [["play", "zendesk", "calls"][i % 3] for i in range(n)],
        "created_at": [None if i % 5 == 0 else datetime(2026, 1, 1 + i) for i in range(n)],
        "content_hash": [f"h{i % 17:04d}" for i in range(n)],
        "rating": [None if i % 4 == 0 else float(i % 5) for i in range(n)],
    }
    table = pa.table(rows)
    batches = table.to_batches(max_chunksize=5)
    memory = runinput.by_segment_id(batches, table.schema)
    sorter = duckdb.connect()  # DuckDB sorts the ids of a big run (spilling past its limit)
    disk = runinput.by_segment_id(batches, table.schema, small=True, con=sorter)
    assert list(memory["segment_id"]) == sorted(rows["segment_id"])
    assert disk["segment_id"].spilled and disk["content_hash"].spilled
    for name in ("segment_id", "content_hash", "source", "created_at", "rating"):
        assert list(disk[name]) == list(memory[name]), name
    assert isinstance(disk["feedback_id"], GroupCodes) and count_distinct(disk["feedback_id"]) == 9
    same_item = group_codes(disk["feedback_id"])[:, None] == group_codes(disk["feedback_id"])[None, :]
    truth = np.array(list(memory["feedback_id"]), dtype=object)
    assert np.array_equal(same_item, truth[:, None] == truth[None, :])
    assert disk["content_hash"].take([22, 0]) == [memory["content_hash"][22], memory["content_hash"][0]]
    real = {**rows, "segment_id": [f"{f}:{i:03d}" for i, f in enumerate(rows["feedback_id"])]}  # as prepare cuts
    table = pa.table(real)
    coded = runinput.by_segment_id(table.to_batches(max_chunksize=5), table.schema, small=True, con=sorter)
    same_item = group_codes(coded["feedback_id"])[:, None] == group_codes(coded["feedback_id"])[None, :]
    truth = np.array([f for _, f in sorted(zip(real["segment_id"], real["feedback_id"], strict=True))], dtype=object)
    assert count_distinct(coded["feedback_id"]) == 9 and np.array_equal(same_item, truth[:, None] == truth[None, :])
    empty = runinput.by_segment_id([], table.schema, small=True, con=sorter)
    assert all(len(c) == 0 for c in empty.values())
    sorter.close()


def test_items_are_coded_from_adjacent_segment_ids(monkeypatch) -> None:
    """Past ``vectors_in_memory`` a run codes its feedback items by walking the segment ids in order
    (``runinput.item_codes``), across batch edges; where an id breaks the item:position form, it says
    so (None) and the load codes the ids by value."""
    import pyarrow as pa

    from painpoints.discovery.scratch import RowFile

    monkeypatch.setattr(RowFile, "ROWS_PER_BATCH", 3)
    items = ["a1", "a1", "a1", "b2", "c3", "c3", "c3", "c3", "d4", "e5"]  # "a1" fills one batch: the next starts anew
    ids = [f"{item}:{i:03d}" for i, item in enumerate(items)]
    codes = runinput.item_codes(RowFile(pa.array(ids)), RowFile(pa.array(items)))
    assert codes is not None and codes.tolist() == [0, 0, 0, 1, 2, 2, 2, 2, 3, 4]
    assert runinput.item_codes(RowFile(pa.array(["x:y:000", "x:y:001"])), RowFile(pa.array(["x:y", "x:y"]))) is None
    assert runinput.item_codes(RowFile(pa.array(["a:000", "b:001"])), RowFile(pa.array(["a", "a"]))) is None
    assert runinput.item_codes(RowFile.writer(pa.string()), RowFile.writer(pa.string())) is not None


def test_named_statements_include_shared_fragments() -> None:
    """A statement includes a shared FROM … WHERE as {{name}}: the run input's reads select one window."""
    window = store.sql("run_window")
    for name in ("run_input_size", "run_input_rows", "run_input_keys"):
        assert window in store.sql(name) and "{{" not in store.sql(name)
