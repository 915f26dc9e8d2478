"""A run's assignments with their segment ids and hashes left in scratch files (``discovery.assigned``):
read back block by block they are the same rows, and the write streams them into the store with the
same log and current state as before (issue 18: the end of a 10M run held them whole, ~0.8 GB)."""

from __future__ import annotations

import gc
import pickle
import weakref
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from painpoints.discovery import runstore, store
from painpoints.discovery.assigned import Assignments
from painpoints.discovery.columns import ArrowColumn, as_dictionary
from painpoints.discovery.records import Assignment, assignment_rows
from painpoints.discovery.scratch import RowFile
from painpoints.discovery.store import transaction


def spilled(values: list[str]) -> ArrowColumn:
    return ArrowColumn.of_file(RowFile(pa.array(values)))


def run_rows(ids: list[str], themes: list[str | None], hashes: list[str]) -> Assignments:
    """Assignments as a run past ``vectors_in_memory`` makes them: ids and hashes spilled, the rest coded."""
    n = len(ids)
    schema = pa.schema(
        [
            ("segment_id", pa.string()),
            ("theme_id", pa.dictionary(pa.int8(), pa.string())),
            ("how", pa.dictionary(pa.int8(), pa.string())),
            ("content_hash", pa.string()),
            ("sentiment", pa.dictionary(pa.int8(), pa.string())),
            ("sentiment_score", pa.float64()),
            ("llm_sentiment", pa.dictionary(pa.int8(), pa.string())),
            ("feedback_type", pa.dictionary(pa.int8(), pa.string())),
        ]
    )
    columns = {
        "segment_id": spilled(ids),
        "theme_id": as_dictionary(themes, n),
        "how": as_dictionary(["assigned"] * n, n),
        "content_hash": spilled(hashes),
        "sentiment": as_dictionary(["negative"] * n, n),
        "sentiment_score": pa.array(np.full(n, -0.5)),
        "llm_sentiment": as_dictionary(None, n),
        "feedback_type": as_dictionary(["problem"] * n, n),
    }
    return Assignments(schema, columns)


def test_spilled_assignments_read_back_block_by_block(monkeypatch) -> None:
    monkeypatch.setattr(RowFile, "ROWS_PER_BATCH", 4)
    ids, hashes = [f"s{i:02}" for i in range(11)], [f"h{i}" for i in range(11)]
    themes = ["T1", None, "T2"] * 3 + ["T1", "T1"]
    rows = run_rows(ids, themes, hashes)
    batches = list(rows.batches())
    assert [b.num_rows for b in batches] == [4, 4, 3] and len(rows) == 11
    got = assignment_rows(rows)
    assert [a.segment_id for a in got] == ids and [a.content_hash for a in got] == hashes
    assert [a.theme_id for a in got] == themes and {a.llm_sentiment for a in got} == {None}
    assert pa.concat_arrays([b.column(0) for b in rows.batches(["segment_id"])]).to_pylist() == ids
    kept = pickle.loads(pickle.dumps(rows))  # a kept result: the scratch files do not travel
    assert kept.table().equals(rows.table()) and assignment_rows(kept) == got


def test_columns_of_different_lengths_are_refused() -> None:
    schema = pa.schema([("segment_id", pa.string()), ("sentiment_score", pa.float64())])
    with pytest.raises(ValueError, match="different lengths"):
        Assignments(schema, {"segment_id": spilled(["a", "b"]), "sentiment_score": pa.array([0.5])})


def current(db_con) -> list[tuple]:
    return db_con.execute("SELECT segment_id, theme_id, content_hash FROM current_assignments ORDER BY 1").fetchall()


@pytest.mark.parametrize("chunk", [1 << 20, 3, 4])
def test_the_write_streams_spilled_rows_into_log_and_state(tmp_path: Path, monkeypatch, chunk: int) -> None:
    """Two runs written from spilled columns over several blocks: the second logs only what changed
    (a new theme, a new text, a new segment) and a tombstone for the segment it dropped. The same in
    one chunk and in chunks of one or two blocks (``WRITE_CHUNK``), whose ranges meet at ids that
    a run has and the other lacks."""
    monkeypatch.setattr(RowFile, "ROWS_PER_BATCH", 3)
    monkeypatch.setattr(runstore, "WRITE_CHUNK", chunk)
    n = 10
    ids, hashes, themes = [f"s{i:02}" for i in range(n)], [f"h{i}" for i in range(n)], ["T1"] * 5 + ["T2"] * 5
    with store.connect(tmp_path / "a.duckdb", memory_limit="1GB") as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        with transaction(con):
            runstore.write_assignments(con, "r1", run_rows(ids, themes, hashes))
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == limit  # lowered, then back
        assert current(con) == list(zip(ids, themes, hashes, strict=True))
        ids2, hashes2, themes2 = ids[1:] + ["s99"], hashes[1:] + ["h99"], themes[1:] + ["T2"]
        themes2[0], hashes2[1] = "T2", "h2-edited"  # s01 moves, s02's text changed; s00 gone; s99 new
        del ids2[5], hashes2[5], themes2[5]  # s06 gone: the first id of r1's second chunk of 4
        ids2.insert(2, "s025")  # new between s02 and s03, in r2's first chunk of 3
        hashes2.insert(2, "h025")
        themes2.insert(2, None)
        with transaction(con):
            runstore.write_assignments(con, "r2", run_rows(ids2, themes2, hashes2))
        assert current(con) == list(zip(ids2, themes2, hashes2, strict=True))
        logged = con.execute("SELECT segment_id, how FROM assignments WHERE run_id = 'r2' ORDER BY 1").fetchall()
        changed = ["s01", "s02", "s025", "s99"]
        assert logged == sorted([("s00", "removed"), ("s06", "removed")] + [(i, "assigned") for i in changed])
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM assignments WHERE run_id = 'r1'").fetchone()[0] == n
        with pytest.raises(RuntimeError, match="crash"), transaction(con):  # a failed write leaves the state whole
            runstore.write_assignments(con, "r3", run_rows(ids2, themes2, hashes2))
            raise RuntimeError("crash before COMMIT")
        assert current(con) == list(zip(ids2, themes2, hashes2, strict=True))
    assert [f.name for f in run_rows(["a"], ["T"], ["h"]).schema] == [f.name for f in runstore.arrow_schema(Assignment)]


def test_a_chunked_write_refuses_rows_out_of_order_and_keeps_state(tmp_path: Path, monkeypatch) -> None:
    """Chunks stand for ranges of segment ids only when the rows come in id order: rows that do not
    are refused (the write in chunks would tombstone segments it has), and the transaction keeps the state."""
    monkeypatch.setattr(RowFile, "ROWS_PER_BATCH", 2)
    monkeypatch.setattr(runstore, "WRITE_CHUNK", 2)
    ids, hashes, themes = [f"s{i}" for i in range(6)], [f"h{i}" for i in range(6)], ["T1"] * 6
    with store.connect(tmp_path / "a.duckdb", memory_limit="1GB") as con:
        with transaction(con):
            runstore.write_assignments(con, "r1", run_rows(ids, themes, hashes))
        shuffled, shuffled_hashes = ids[:2] + ids[4:] + ids[2:4], hashes[:2] + hashes[4:] + hashes[2:4]
        with pytest.raises(ValueError, match="segment-id order"), transaction(con):
            runstore.write_assignments(con, "r2", run_rows(shuffled, ["T2"] * 6, shuffled_hashes))
        assert current(con) == list(zip(ids, themes, hashes, strict=True))
        with transaction(con):  # in one chunk the order does not matter
            monkeypatch.setattr(runstore, "WRITE_CHUNK", 6)
            runstore.write_assignments(con, "r2", run_rows(shuffled, ["T2"] * 6, shuffled_hashes))
        assert current(con) == list(zip(ids, ["T2"] * 6, hashes, strict=True))


def test_a_chunk_is_freed_inside_the_transaction(tmp_path: Path, monkeypatch) -> None:
    """Each chunk is gone once written, before the transaction ends: a chunk ``register``ed and
    ``unregister``ed inside a transaction stays alive until COMMIT (duckdb-python issue 469), and the
    write then held every chunk, as much memory as the whole store's rows."""
    monkeypatch.setattr(RowFile, "ROWS_PER_BATCH", 2)
    monkeypatch.setattr(runstore, "WRITE_CHUNK", 2)
    chunks: list[weakref.ref] = []
    ranges = Assignments.ranges

    def watched(self: Assignments, rows: int):
        for part in ranges(self, rows):
            chunks.append(weakref.ref(part.rows))
            yield part

    monkeypatch.setattr(Assignments, "ranges", watched)
    ids, hashes, themes = [f"s{i}" for i in range(6)], [f"h{i}" for i in range(6)], ["T1"] * 6
    with store.connect(tmp_path / "a.duckdb", memory_limit="1GB") as con:
        with transaction(con):
            runstore.write_assignments(con, "r1", run_rows(ids, themes, hashes))
            gc.collect()
            assert len(chunks) == 3 and [c() for c in chunks] == [None] * 3
        assert current(con) == list(zip(ids, themes, hashes, strict=True))


def test_a_write_that_fails_midway_reports_its_error_and_keeps_state_and_limit(tmp_path: Path, monkeypatch) -> None:
    """A scratch file that fails while a statement streams it: the error says so (not "transaction
    aborted" from setting the memory limit back), the state stays whole, the limit comes back."""
    monkeypatch.setattr(RowFile, "ROWS_PER_BATCH", 3)
    ids, hashes, themes = [f"s{i}" for i in range(8)], [f"h{i}" for i in range(8)], ["T1"] * 8
    with store.connect(tmp_path / "a.duckdb", memory_limit="1GB") as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        with transaction(con):
            runstore.write_assignments(con, "r1", run_rows(ids, themes, hashes))
        readable = ArrowColumn.blocks

        def failing(self: ArrowColumn):
            blocks = readable(self)
            yield next(blocks)
            raise OSError("scratch file unreadable")

        monkeypatch.setattr(ArrowColumn, "blocks", failing)
        with pytest.raises(Exception, match="scratch file unreadable"), transaction(con):
            runstore.write_assignments(con, "r2", run_rows(ids, ["T2"] * 8, hashes))
        assert current(con) == list(zip(ids, themes, hashes, strict=True))
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == limit
        assert con.execute("SELECT count(*) FROM assignments WHERE run_id = 'r2'").fetchone()[0] == 0
