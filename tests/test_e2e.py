"""End to end on small real samples: ingest → Prefect discovery flow → views. Real model, real
UMAP/HDBSCAN, real Prefect (temporary local API). The ingest and the first run are the session's
golden DB (tests/conftest.py); each test reads or writes its own copy."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from painpoints.cli import main
from tests.helpers import Golden
from tests.helpers import rows as q

DATA = Path(__file__).resolve().parent / "data"
pytestmark = pytest.mark.slow


@pytest.fixture
def db(golden_db: Path) -> Path:
    """Each test's own copy of the golden DB (one full run on the bundled test files)."""
    return golden_db


def test_ingest_and_the_first_run_report_what_they_did(golden: Golden) -> None:
    """The golden DB (tests/conftest.py) is built by `painpoints ingest` of each bundled file and one
    `painpoints run`: their output adds up and shows the ranked table."""
    for output in golden.ingest_output:
        read, stored, dup, rej = (int(x.split()[-1]) for x in output.splitlines()[0].split(", "))
        assert read == stored + dup + rej and stored > 0
    assert "rank" in golden.run_output and "label" in golden.run_output


def stored(golden: Golden) -> int:
    return sum(int(out.splitlines()[0].split(", ")[1].split()[-1]) for out in golden.ingest_output)


def test_views_are_consistent(golden: Golden, db: Path) -> None:
    ((n_feedback,),) = q(db, "select count(*) from feedback")
    assert n_feedback == stored(golden) >= 240
    ((n_segments,),) = q(db, "select count(*) from segments")
    assert q(db, "select count(*) from feedback_themes") == [(n_segments,)]
    ranks = q(db, "select rank, score from pain_points")
    assert len(ranks) >= 3 and [r[0] for r in ranks] == list(range(1, len(ranks) + 1))
    assert [r[1] for r in ranks] == sorted((r[1] for r in ranks), reverse=True)
    assert (
        q(db, "select distinct sentiment from feedback_themes where sentiment not in ('negative','neutral','positive')")
        == []
    )
    ((unassigned,),) = q(db, "select avg((theme_id is null)::int) from feedback_themes")
    assert unassigned <= 0.15
    labels = [r[0] for r in q(db, "select label from pain_points")]
    assert all(label and not label[0].isdigit() and "_" not in label for label in labels)
    quotes = q(db, "select example_quotes from pain_points where rank = 1")[0][0]
    assert 1 <= len(quotes) <= 5


def test_chats_about_one_problem_land_in_one_theme(db: Path) -> None:
    rows = q(
        db,
        "select f.metadata->>'subflow', ft.theme_id from feedback_themes ft "
        "join feedback f using (feedback_id) where ft.kind = 'transcript' and ft.segment = 0",
    )
    majority = {}
    for subflow in ("recover_password", "slow_speed", "refund_status"):
        themes = Counter(t for s, t in rows if s == subflow)
        theme, count = themes.most_common(1)[0]
        assert theme is not None and count / sum(themes.values()) >= 0.6, (subflow, themes)
        majority[subflow] = theme
    assert len(set(majority.values())) == 3, majority


def test_complaints_are_mostly_negative(db: Path) -> None:
    ((neg,),) = q(db, "select avg((sentiment = 'negative')::int) from feedback_themes where source = 'cfpb'")
    assert neg >= 0.6


def test_rerun_embeds_nothing_new_and_gives_the_same_themes(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = q(db, "select segment_id, theme_id from current_assignments order by 1")
    skipped = CliRunner().invoke(main, ["run", "--db", str(db)])  # nothing changed: nothing to do
    assert skipped.exit_code == 0 and "skipped" in skipped.output, skipped.output
    monkeypatch.setenv("PAINPOINTS_ALERT_MIN_ITEMS", "6")  # a changed setting: a real incremental run
    result = CliRunner().invoke(main, ["run", "--db", str(db)])
    assert result.exit_code == 0 and "skipped" not in result.output, result.output
    stats = json.loads(q(db, "select stats from latest_run")[0][0])
    assert stats["new_embeddings"] == 0 and stats["new_segments"] == 0
    after = q(db, "select segment_id, theme_id from current_assignments order by 1")
    assert before == after
    assert q(db, "select count(*) from runs where status = 'success'") == [(2,)]
    # nothing changed, so nothing is logged: the scores a run holds (float32) match the stored ones exactly
    assert q(db, "select count(*) from assignments where run_id = (select run_id from latest_run)") == [(0,)]
    full = CliRunner().invoke(main, ["run", "--db", str(db), "--full"])  # every segment scored again
    assert full.exit_code == 0, full.output
    changed = q(db, "select count(*) from assignments where run_id = (select run_id from latest_run)")[0][0]
    assert changed == 0 and q(db, "select segment_id, theme_id from current_assignments order by 1") == before


def test_a_failed_run_is_recorded_and_leaves_the_last_good_results(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from painpoints.discovery import pipeline

    good_run = q(db, "select run_id from latest_run")[0][0]
    good_rows = q(db, "select count(*) from pain_points")

    def boom(*args, **kwargs):
        raise RuntimeError("clustering exploded")

    monkeypatch.setattr(pipeline, "discover", boom)
    result = CliRunner().invoke(main, ["run", "--db", str(db), "--full"])  # --full: never skipped
    assert result.exit_code != 0
    status, error = q(db, "select status, error from runs order by started_at desc limit 1")[0]
    assert status == "failed" and "clustering exploded" in error
    assert q(db, "select run_id from latest_run")[0][0] == good_run
    assert q(db, "select count(*) from pain_points") == good_rows


def test_drill_down_views_are_consistent(db: Path) -> None:
    sums = q(db, "select theme_id, sum(share_of_theme) from theme_sources group by 1")
    assert sums and all(abs(s - 1) < 1e-9 for _, s in sums)
    reps = q(db, "select theme_id, count(*) filter (where representative) from theme_examples group by 1")
    assert all(1 <= n <= 5 for _, n in reps)
    assert q(
        db,
        "select distinct source from theme_trends join feedback_themes using (theme_id) "
        "where period = 'week' and created_at is not null",
    ) == [("cfpb",)]
    fields = {f for (f,) in q(db, "select distinct field from theme_segments")}
    assert {"Product", "subflow"} <= fields


def test_theme_segments_break_themes_down_by_the_handles_items_address(golden_db: Path) -> None:
    """Segments leave @handles out (the theme is the problem); the brand stays a facet of the theme."""
    import duckdb

    with duckdb.connect(str(golden_db)) as con:
        fid, theme = con.execute(
            "select feedback_id, theme_id from feedback_themes where theme_id is not null order by feedback_id limit 1"
        ).fetchone()
        con.execute(
            "update feedback set text = '@United ' || text || ' cc .@Delta @united, mail jane@example.com' "
            "where feedback_id = ?",
            [fid],
        )
        got = con.execute(
            "select value, items from theme_segments where field = 'mention' and theme_id = ? order by value", [theme]
        ).fetchall()
        segments = con.execute("select count(*) from feedback_themes where feedback_id = ?", [fid]).fetchone()[0]
        own = con.execute("select mention, items from theme_mentions where theme_id = ? order by 1", [theme]).fetchall()
    assert got == own == [("@delta", segments), ("@united", segments)]
    from painpoints.discovery.report import write_report

    html = write_report(golden_db, golden_db.with_suffix(".html"), with_map=False).read_text()
    assert "Addressed to: @delta" in html or "Addressed to: @united" in html
    from painpoints.discovery.settings import load_settings
    from painpoints.workspace import Workspace

    mix = Workspace(load_settings(db=golden_db)).theme(theme)["mix"]  # the web app, MCP get_theme
    assert mix["mention"] == {"@delta": segments, "@united": segments}


def test_the_database_opens_without_painpoints(db: Path) -> None:
    import subprocess
    import sys

    code = (
        f"import duckdb; c = duckdb.connect({str(db)!r}, read_only=True); "
        "print(c.execute('select count(*) from pain_points').fetchone()[0], "
        "c.execute('select count(*) from feedback_themes').fetchone()[0])"
    )
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True).stdout
    themes, segments = map(int, out.split())
    assert themes == q(db, "select count(*) from pain_points")[0][0] and segments > 0


def test_ingest_flow_runs_under_prefect(prefect_harness, tmp_path: Path) -> None:
    from painpoints.flows.ingest import ingest_flow

    db = tmp_path / "flow.duckdb"
    counts = ingest_flow(
        db=str(db), paths=[str(DATA / "complaints.csv"), str(DATA / "reviews.jsonl")], source="mixed", kind="ticket"
    )
    assert counts["read"] == counts["stored"] + counts["duplicates"] + counts["rejected"]
    assert q(db, "select count(*) from feedback")[0][0] == counts["stored"] >= 150
    again = ingest_flow(db=str(db), paths=[str(DATA / "complaints.csv")], source="mixed", kind="ticket")
    assert again["stored"] == 0 and again["duplicates"] == 40
