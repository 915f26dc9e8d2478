"""A full run over more vectors than ``vectors_in_memory`` reads them in blocks (issue 18, item 4: the
driver must not hold every vector) and finds what a run with every vector in memory finds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from painpoints.discovery import lazy_vectors, runinput, store
from painpoints.discovery.columns import FileTexts, GroupCodes, StoredTexts
from painpoints.discovery.lazy_vectors import FileVectors
from painpoints.discovery.pipeline import discover
from painpoints.discovery.records import DiscoveryResult, assignment_rows
from painpoints.discovery.sentiment import SentimentModel
from painpoints.discovery.settings import load_settings

pytestmark = pytest.mark.slow
BUDGET = 50
NEW = 12  # new items of the incremental test


def full_run(db: Path, embedder, vectors_in_memory: int) -> DiscoveryResult:
    """A full discovery run (read only) that fits on a 200-segment sample and assigns the rest."""
    settings = load_settings(db=db, fit_sample=200, vectors_in_memory=vectors_in_memory)
    with store.connect(db, read_only=True) as con:
        return discover(con, settings, embedder, SentimentModel(), run_id="r", full=True)


def test_full_run_over_more_vectors_than_memory_holds_finds_the_same(golden_db: Path, embedder, monkeypatch) -> None:
    whole = full_run(golden_db, embedder, 10**6)
    files: list[FileVectors] = []
    made = FileVectors.__init__

    def spy(self: FileVectors, n: int, dim: int, directory: str | None = None) -> None:
        made(self, n, dim, directory)
        files.append(self)

    monkeypatch.setattr(FileVectors, "__init__", spy)
    texts_read: list[int] = []
    take_texts = FileTexts.take

    def texts_spy(self: FileTexts, rows):
        texts_read.append(len(rows))
        return take_texts(self, rows)

    monkeypatch.setattr(FileTexts, "take", texts_spy)
    loaded = []
    load = runinput.load_run_input
    monkeypatch.setattr(runinput, "load_run_input", lambda *a, **k: loaded.append(load(*a, **k)) or loaded[-1])
    bounded = full_run(golden_db, embedder, BUDGET)
    assert texts_read  # the texts went to a scratch file too and were read as the steps took them
    # ids and hashes waited in scratch files from load to write; feedback ids became codes
    data = loaded[0]
    assert data.segment_id.spilled and data.content_hash.spilled and isinstance(data.feedback_id, GroupCodes)
    assert bounded.stats.feedback_items == whole.stats.feedback_items
    n = whole.stats.segments
    assert n > 4 * BUDGET and whole.stats.vectors_read == n
    assert len(files) == 1 and files[0].shape[0] == n  # the vectors went to a scratch file, not memory
    assert bounded.stats.vectors_read > n  # read in passes instead: the clustering, centroids, radii, scores
    same = ("segment_id", "theme_id", "how", "sentiment", "feedback_type")
    assert [tuple(getattr(a, f) for f in same) for a in assignment_rows(bounded.assignments)] == [
        tuple(getattr(a, f) for f in same) for a in assignment_rows(whole.assignments)
    ]
    assert np.allclose(
        [a.sentiment_score for a in assignment_rows(bounded.assignments)],
        [a.sentiment_score for a in assignment_rows(whole.assignments)],
    )
    assert [(t.theme_id, t.label, t.example_quotes, t.rank) for t in bounded.themes] == [
        (t.theme_id, t.label, t.example_quotes, t.rank) for t in whole.themes
    ]
    assert bounded.theme_state is not None and whole.theme_state is not None
    for b, w in zip(bounded.theme_state, whole.theme_state, strict=True):
        assert b.theme_id == w.theme_id and np.allclose(b.centroid, w.centroid, atol=1e-5)
        assert b.radius == pytest.approx(w.radius, abs=1e-5)


def test_incremental_run_with_texts_left_in_the_store_finds_the_same(
    golden_db: Path, embedder, tmp_path: Path, monkeypatch
) -> None:
    """Past vectors_in_memory an incremental run reads texts (new segments' typing, renamed themes,
    leftovers) from the store as well as vectors: same result as the run that holds them all."""
    from painpoints.connectors.base import ColumnMap
    from painpoints.discovery import runstore
    from painpoints.discovery.embed_cache import embed_missing
    from painpoints.discovery.ingest import ingest_paths
    from painpoints.discovery.pipeline import prepare_segments

    with store.connect(golden_db) as con:
        run_id = runstore.start_run(con, {})
        result = discover(con, load_settings(db=golden_db, fit_sample=200), embedder, SentimentModel(), run_id=run_id)
        runstore.finish_run(con, run_id, result)
    new = tmp_path / "new.csv"
    # enough new text to be clustered as leftovers on its own (two themes' worth of the minimum size,
    # ``themes.identify``), whatever last run's outliers were
    rows = "".join(f'x{i},"Please add a dark mode to the reader, idea {i}"\n' for i in range(NEW))
    new.write_text("id,review\n" + rows)
    ingest_paths(load_settings(db=golden_db), [new], "play", "review", ColumnMap(text="review", id="id"))
    with store.connect(golden_db) as con:
        prepare_segments(con, load_settings(db=golden_db))
        embed_missing(con, embedder)

    def rerun(vectors_in_memory: int) -> DiscoveryResult:
        settings = load_settings(db=golden_db, fit_sample=200, vectors_in_memory=vectors_in_memory)
        with store.connect(golden_db, read_only=True) as con:
            return discover(con, settings, embedder, SentimentModel(), run_id="r2")

    held = rerun(10**6)
    read: list[int] = []
    take_texts = StoredTexts.take
    monkeypatch.setattr(StoredTexts, "take", lambda self, rows: read.append(len(rows)) or take_texts(self, rows))
    stored = rerun(BUDGET)
    assert read[:2] == [NEW, NEW]  # sentiment and typing read only the new segments
    assert 0 < read[2] < stored.stats.segments  # naming: the changed themes, a sample of the kept ones
    assert sum(read[3:]) <= stored.stats.segments  # a new area's name: at most one sample of the window
    assert held.stats.mode == stored.stats.mode == "incremental"
    same = ("segment_id", "theme_id", "how", "sentiment", "feedback_type")
    assert [tuple(getattr(a, f) for f in same) for a in assignment_rows(stored.assignments)] == [
        tuple(getattr(a, f) for f in same) for a in assignment_rows(held.assignments)
    ]
    assert [(t.theme_id, t.label, t.example_quotes) for t in stored.themes] == [
        (t.theme_id, t.label, t.example_quotes) for t in held.themes
    ]
    # past GATHER_MIN rows a stage gathers what it reads in one pass over the store (here every read
    # does), and past vectors_in_memory holds them in a scratch file: the same run again
    monkeypatch.setattr(lazy_vectors, "GATHER_MIN", 1)
    passes: list[int] = []
    gather = lazy_vectors.StoredVectors.gather
    monkeypatch.setattr(
        lazy_vectors.StoredVectors, "gather", lambda self, rows: gather(self, rows) or passes.append(self.passes)
    )
    spilled: list[FileVectors] = []
    made = FileVectors.__init__
    monkeypatch.setattr(FileVectors, "__init__", lambda self, *a, **k: made(self, *a, **k) or spilled.append(self))
    gathered = rerun(BUDGET)
    assert passes and max(passes) >= 2 and spilled  # several stages gathered, past the budget into a file
    assert [tuple(getattr(a, f) for f in same) for a in assignment_rows(gathered.assignments)] == [
        tuple(getattr(a, f) for f in same) for a in assignment_rows(held.assignments)
    ]
    assert [(t.theme_id, t.label, t.example_quotes) for t in gathered.themes] == [
        (t.theme_id, t.label, t.example_quotes) for t in held.themes
    ]
