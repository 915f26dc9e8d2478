"""Ingest into DuckDB: counts add up, idempotency, dedupe, rejected rows, atomicity."""

from __future__ import annotations

from pathlib import Path

import pytest

from painpoints.connectors.base import FeedbackRecord, Rejected
from painpoints.discovery import ingest, store
from painpoints.discovery.ingest import ingest_items, ingest_paths
from painpoints.discovery.settings import load_settings
from tests.helpers import rows

DATA = Path(__file__).resolve().parent / "data"


def test_counts_add_up_and_rerun_is_idempotent(db: Path, tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text(
        "id,text,stars\n1,The app crashes on start,1\n2,Love it,5\n3,,3\n1,same id other text,2\n"
        "4,The app crashes on start,1\n5,bad,row,extra\n"
    )
    first = ingest_paths(load_settings(db=db), [p], "play", "review")
    assert (first.read, first.stored, first.duplicates, first.rejected) == (6, 2, 2, 2)
    again = ingest_paths(load_settings(db=db), [p], "play", "review")
    assert (again.read, again.stored, again.duplicates, again.rejected) == (6, 0, 4, 2)
    assert rows(db, "select count(*) from feedback") == [(2,)]
    assert rows(db, "select count(*) from rejected_rows") == [(2,)]  # not recorded twice
    assert sorted(r[0] for r in rows(db, "select reason from rejected_rows")) == [
        "empty text",
        "expected 3 fields, got 4",
    ]


def test_duplicates_are_told_across_batches_within_a_batch_and_against_the_store(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Duplicates are decided when a batch is written (``_NewOnly``): with batches of 3 rows, a
    repeated id or text is caught in its own batch, in a later batch and in a later ingest."""
    monkeypatch.setattr(ingest, "CHUNK", 3)
    first = tmp_path / "first.csv"
    first.write_text(
        "id,text\n1,Sync is slow\n2,Login fails\n1,Same id again\n"  # batch 1: id 1 twice
        "3,login FAILS\n4,Export breaks\n2,Other text and old id\n"  # batch 2: 2's text, then 2's id
        "5,Search is broken\n"
    )
    counts = ingest_paths(load_settings(db=db), [first], "app", "review")
    assert (counts.read, counts.stored, counts.duplicates) == (7, 4, 3)
    second = tmp_path / "second.csv"
    second.write_text("id,text\n9,export breaks\n5,New text\n6,Dark mode please\n7,Dark  mode please\n")
    counts = ingest_paths(load_settings(db=db), [second], "app", "review")
    assert (counts.read, counts.stored, counts.duplicates) == (4, 1, 3)
    assert rows(db, "select external_id from feedback order by external_id") == [("1",), ("2",), ("4",), ("5",), ("6",)]


def test_same_content_in_another_source_is_kept(db: Path, tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("text\nSync is slow\n")
    ingest_paths(load_settings(db=db), [p], "a", "review")
    ingest_paths(load_settings(db=db), [p], "b", "review")
    assert rows(db, "select source from feedback order by source") == [("a",), ("b",)]


def test_metadata_and_mapped_fields_are_stored(db: Path) -> None:
    counts = ingest_paths(load_settings(db=db), [DATA / "complaints.csv"], "cfpb", "ticket")
    assert counts.stored == 40 and counts.rejected == 0
    ((meta, created, ext),) = rows(db, "select metadata->>'Product', created_at, external_id from feedback limit 1")
    assert meta and created is not None and ext.isdigit()


def test_a_crash_mid_stream_leaves_nothing_half_written(db: Path) -> None:
    def stream():
        yield FeedbackRecord(source="s", kind="review", text="first item is fine")
        yield Rejected(source="s", reason="empty text", raw="{}")
        raise RuntimeError("disk on fire")

    con = store.connect(db)
    with pytest.raises(RuntimeError):
        ingest_items(con, stream(), keep_original=True)
    con.close()
    assert rows(db, "select count(*) from feedback") == [(0,)]
    assert rows(db, "select count(*) from rejected_rows") == [(0,)]


def test_transcripts_are_stored_as_customer_turns(db: Path) -> None:
    counts = ingest_paths(load_settings(db=db), [DATA / "chats_labelled.csv"], "chat", "transcript")
    assert counts.stored == 90
    texts = [r[0] for r in rows(db, "select text from feedback")]
    assert not any("SYS:" in t or "USR:" in t for t in texts)
    assert rows(db, "select count(*) from feedback where metadata->>'subflow' is not null") == [(90,)]
