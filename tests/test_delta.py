"""Delta writes (issue 22): a run logs only the assignment rows it changes, yet every view and every
run's full assignment answer exactly as when each run stored a full copy. Compared here with what a
full-copy store held: the run's own result (``DiscoveryResult.assignments``, what was written in
full before), run by run, on the same data."""

from __future__ import annotations

from pathlib import Path

from painpoints.discovery import runstore, store
from painpoints.discovery.embed_cache import embed_missing
from painpoints.discovery.ingest import ingest_paths
from painpoints.discovery.pipeline import discover, prepare_segments
from painpoints.discovery.records import assignment_rows
from painpoints.discovery.sentiment import SentimentModel
from painpoints.discovery.settings import load_settings
from tests.helpers import rows as q

COLS = "segment_id, theme_id, sentiment, round(sentiment_score, 9), llm_sentiment, feedback_type, content_hash"


def run(db: Path, embedder, **overrides) -> tuple[str, set[tuple], int]:
    """One discovery run as the flow makes it; its id, its full result as rows, log rows it wrote."""
    settings = load_settings(db=db, **overrides)
    with store.connect(db) as con:
        prepare_segments(con, settings)
        embed_missing(con, embedder)
        logged = con.execute("select count(*) from assignments").fetchone()[0]
        run_id = runstore.start_run(con, {})
        result = discover(con, settings, embedder, SentimentModel(), run_id=run_id, full=overrides.get("full", False))
        runstore.finish_run(con, run_id, result)
        logged = con.execute("select count(*) from assignments").fetchone()[0] - logged
    full = {
        (
            a.segment_id,
            a.theme_id,
            a.sentiment,
            round(a.sentiment_score, 9),
            a.llm_sentiment,
            a.feedback_type,
            a.content_hash,
        )
        for a in assignment_rows(result.assignments)
    }
    return run_id, full, logged


def test_delta_log_replays_every_run_exactly(golden_db: Path, embedder, tmp_path: Path) -> None:
    db = golden_db
    history: list[tuple[str, set[tuple]]] = []
    first, full, logged = run(db, embedder, full=True)  # same data, full recluster: few rows change
    history.append((first, full))
    assert logged < len(full) / 5
    new = tmp_path / "new.csv"
    new.write_text(
        "id,review\n" + "".join(f'x{i},"The app crashes when I open settings, attempt {i}"\n' for i in range(8))
    )
    from painpoints.connectors.base import ColumnMap

    ingest_paths(load_settings(db=db), [new], "play", "review", ColumnMap(text="review", id="id"))
    second, full, logged = run(db, embedder)  # incremental: the new segments, and little else
    history.append((second, full))
    assert 8 <= logged < len(full) / 5
    third, full, logged = run(db, embedder, window_days=30)  # most of the data leaves the window
    history.append((third, full))
    removed = q(db, "select count(*) from assignments where run_id = ? and how = 'removed'", [third])[0][0]
    assert removed > 0 and len(full) < len(history[-2][1])
    # the latest state is the latest run's full result, and the views read it
    assert set(q(db, f"select {COLS} from current_assignments")) == full
    assert q(db, "select count(*) from feedback_themes")[0][0] == len(full)
    # every run replays to exactly what it would have stored in full
    for run_id, expected in history:
        assert set(q(db, f"select {COLS} from assignments_as_of(?)", [run_id])) == expected, run_id


def test_prune_keeps_kept_runs_replayable(golden_db: Path, embedder, tmp_path: Path) -> None:
    from painpoints.discovery import retention

    db = golden_db
    history = [run(db, embedder, full=True)[:2], run(db, embedder, outlier_threshold=0.3)[:2]]
    history.append(run(db, embedder, outlier_threshold=0.4)[:2])
    with store.connect(db) as con:
        done = retention.prune(con, keep_runs=2)
    assert len(done.runs) == 2  # the golden run and the first one here
    for run_id, expected in history[1:]:  # the kept runs still replay exactly
        assert set(q(db, f"select {COLS} from assignments_as_of(?)", [run_id])) == expected
    assert q(db, "select count(*) from assignments_as_of(?)", [history[0][0]]) == [(0,)]  # pruned: no replay
