"""Retention (issue 22): `painpoints prune` thins old runs' assignment log and keeps everything the views
and history show; `--compact` shrinks the file; the next run works on a pruned store. (Exact replay of
the kept runs after a prune: tests/test_delta.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from painpoints.cli import main
from painpoints.discovery import store
from tests.helpers import rows as q

VIEWS = ("pain_points", "feature_requests", "praise", "feedback_themes", "theme_areas", "theme_history", "theme_trends")


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def state(db: Path) -> dict[str, list]:
    return {v: q(db, f"select * from {v} order by all") for v in VIEWS}


def test_prune_keeps_views_and_history_and_compact_shrinks(golden_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = golden_db
    for n in (6, 7, 8):  # three more real runs (a changed setting each time; nothing else changes)
        monkeypatch.setenv("PAINPOINTS_ALERT_MIN_ITEMS", str(n))
        assert "skipped" not in invoke("run", "--db", str(db))
    runs = [r for (r,) in q(db, "select run_id from runs where status = 'success' order by finished_at")]
    assert len(runs) == 4
    log = q(db, "select count(*) from assignments")[0][0]
    before = state(db)
    assert "pruned 0 run(s)" in invoke("prune", "--db", str(db), "--keep-runs", "1", "--keep-days", "365")
    out = invoke("prune", "--db", str(db), "--keep-runs", "2")
    assert "pruned 2 run(s)" in out
    assert q(db, "select count(*) from assignments")[0][0] <= log
    assert {r for (r,) in q(db, "select run_id from runs where pruned_at is not null")} == set(runs[:2])
    assert state(db) == before  # views, per-run theme history and trends answer as before
    size = db.stat().st_size
    out = invoke("prune", "--db", str(db), "--keep-runs", "1", "--compact")
    assert "pruned 1 run(s)" in out and "compacted" in out
    assert db.stat().st_size < size and state(db) == before
    assert q(db, "select max(version) from schema_version") == [(len(store.migrations()),)]  # schema state kept
    monkeypatch.setenv("PAINPOINTS_ALERT_MIN_ITEMS", "9")  # the next run builds on the pruned, compacted store
    out = invoke("run", "--db", str(db))
    assert "incremental" in out and "skipped" not in out
    assert q(db, "select count(*) from feedback_themes") == q(db, "select count(*) from current_assignments")
