"""End to end on small real samples: ingest → Prefect discovery flow → views. Real model, real
UMAP/HDBSCAN, real Prefect (temporary local API)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from painpoints.cli import main
from tests.helpers import rows as q

DATA = Path(__file__).resolve().parent / "data"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ran(prefect_harness, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("e2e") / "e2e.duckdb"
    runner = CliRunner()
    stored = 0
    for path, source, kind in [("chats_labelled.csv", "chat", "transcript"), ("reviews.jsonl", "play", "review"),
                               ("complaints.csv", "cfpb", "ticket")]:
        result = runner.invoke(main, ["ingest", str(DATA / path), "--source", source, "--kind", kind, "--db", str(db)])
        assert result.exit_code == 0, result.output
        read, stored_now, dup, rej = (int(x.split()[-1]) for x in result.output.splitlines()[0].split(", "))
        assert read == stored_now + dup + rej
        stored += stored_now
    (db.parent / "stored").write_text(str(stored))
    result = runner.invoke(main, ["run", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "rank" in result.output and "label" in result.output
    return db


def test_views_are_consistent(ran: Path) -> None:
    (n_feedback,), = q(ran, "select count(*) from feedback")
    assert n_feedback == int((ran.parent / "stored").read_text()) >= 240
    (n_segments,), = q(ran, "select count(*) from segments")
    assert q(ran, "select count(*) from feedback_themes") == [(n_segments,)]
    ranks = q(ran, "select rank, score from pain_points")
    assert len(ranks) >= 3 and [r[0] for r in ranks] == list(range(1, len(ranks) + 1))
    assert [r[1] for r in ranks] == sorted((r[1] for r in ranks), reverse=True)
    assert q(ran, "select distinct sentiment from feedback_themes where sentiment not in "
                  "('negative','neutral','positive')") == []
    (unassigned,), = q(ran, "select avg((theme_id is null)::int) from feedback_themes")
    assert unassigned <= 0.15
    labels = [r[0] for r in q(ran, "select label from pain_points")]
    assert all(label and not label[0].isdigit() and "_" not in label for label in labels)
    quotes = q(ran, "select example_quotes from pain_points where rank = 1")[0][0]
    assert 1 <= len(quotes) <= 5


def test_chats_about_one_problem_land_in_one_theme(ran: Path) -> None:
    rows = q(ran, "select f.metadata->>'subflow', ft.theme_id from feedback_themes ft "
                  "join feedback f using (feedback_id) where ft.kind = 'transcript' and ft.segment = 0")
    majority = {}
    for subflow in ("recover_password", "slow_speed", "refund_status"):
        themes = Counter(t for s, t in rows if s == subflow)
        theme, count = themes.most_common(1)[0]
        assert theme is not None and count / sum(themes.values()) >= 0.6, (subflow, themes)
        majority[subflow] = theme
    assert len(set(majority.values())) == 3, majority


def test_complaints_are_mostly_negative(ran: Path) -> None:
    (neg,), = q(ran, "select avg((sentiment = 'negative')::int) from feedback_themes where source = 'cfpb'")
    assert neg >= 0.6


def test_rerun_embeds_nothing_new_and_gives_the_same_themes(ran: Path) -> None:
    before = q(ran, "select segment_id, theme_id from assignments a join latest_run r using (run_id) order by 1")
    result = CliRunner().invoke(main, ["run", "--db", str(ran)])
    assert result.exit_code == 0, result.output
    stats = json.loads(q(ran, "select stats from latest_run")[0][0])
    assert stats["new_embeddings"] == 0 and stats["new_segments"] == 0
    after = q(ran, "select segment_id, theme_id from assignments a join latest_run r using (run_id) order by 1")
    assert before == after
    assert q(ran, "select count(*) from runs where status = 'success'") == [(2,)]


def test_a_failed_run_is_recorded_and_leaves_the_last_good_results(ran: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from discovery import pipeline

    good_run = q(ran, "select run_id from latest_run")[0][0]
    good_rows = q(ran, "select count(*) from pain_points")

    def boom(*args, **kwargs):
        raise RuntimeError("clustering exploded")

    monkeypatch.setattr(pipeline, "discover", boom)
    result = CliRunner().invoke(main, ["run", "--db", str(ran)])
    assert result.exit_code != 0
    status, error = q(ran, "select status, error from runs order by started_at desc limit 1")[0]
    assert status == "failed" and "clustering exploded" in error
    assert q(ran, "select run_id from latest_run")[0][0] == good_run
    assert q(ran, "select count(*) from pain_points") == good_rows


def test_drill_down_views_are_consistent(ran: Path) -> None:
    sums = q(ran, "select theme_id, sum(share_of_theme) from theme_sources group by 1")
    assert sums and all(abs(s - 1) < 1e-9 for _, s in sums)
    reps = q(ran, "select theme_id, count(*) filter (where representative) from theme_examples group by 1")
    assert all(1 <= n <= 5 for _, n in reps)
    assert q(ran, "select distinct source from theme_trends join feedback_themes using (theme_id) "
                  "where period = 'week' and created_at is not null") == [("cfpb",)]
    fields = {f for (f,) in q(ran, "select distinct field from theme_segments")}
    assert {"Product", "subflow"} <= fields


def test_the_database_opens_without_painpoints(ran: Path) -> None:
    import subprocess
    import sys

    code = ("import duckdb; c = duckdb.connect(%r, read_only=True); "
            "print(c.execute('select count(*) from pain_points').fetchone()[0], "
            "c.execute('select count(*) from feedback_themes').fetchone()[0])" % str(ran))
    out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True).stdout
    themes, segments = map(int, out.split())
    assert themes == q(ran, "select count(*) from pain_points")[0][0] and segments > 0


def test_ingest_flow_runs_under_prefect(prefect_harness, tmp_path: Path) -> None:
    from flows.ingest import ingest_flow

    db = tmp_path / "flow.duckdb"
    counts = ingest_flow(db=str(db), paths=[str(DATA / "complaints.csv"), str(DATA / "reviews.jsonl")],
                         source="mixed", kind="ticket")
    assert counts["read"] == counts["stored"] + counts["duplicates"] + counts["rejected"]
    assert q(db, "select count(*) from feedback")[0][0] == counts["stored"] >= 150
    again = ingest_flow(db=str(db), paths=[str(DATA / "complaints.csv")], source="mixed", kind="ticket")
    assert again["stored"] == 0 and again["duplicates"] == 40
