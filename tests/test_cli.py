"""The CLI layer: argument handling, output formats, clean errors, help for every command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from painpoints.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_ingest_prints_counts_and_reasons(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("id,text\n1,Search is broken\n2,\n3,Search is broken\n")
    result = runner.invoke(main, ["ingest", str(p), "--source", "s", "--kind", "review", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "read 3, stored 1, duplicates 1, rejected 1" in result.output
    assert "rejected 1: empty text" in result.output


def test_ingest_reports_a_bad_mapping_cleanly(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("id,text\n1,x y z\n")
    result = runner.invoke(main, ["ingest", str(p), "--source", "s", "--text", "body", "--db", str(db)])
    assert result.exit_code == 1 and "--text column 'body' not found" in result.output
    assert "Traceback" not in result.output


def test_db_from_environment(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "r.csv"
    p.write_text("text\nExport to PDF is missing\n")
    monkeypatch.setenv("PAINPOINTS_DB", str(tmp_path / "env.duckdb"))
    assert runner.invoke(main, ["ingest", str(p), "--source", "s"]).exit_code == 0
    assert (tmp_path / "env.duckdb").exists()


def test_query_formats(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("id,text\n1,Search is broken\n2,Dark mode please\n")
    runner.invoke(main, ["ingest", str(p), "--source", "s", "--db", str(db)])
    sql = "select external_id, text from feedback order by external_id"
    as_json = runner.invoke(main, ["query", sql, "--db", str(db), "--format", "json"])
    assert json.loads(as_json.output) == [
        {"external_id": "1", "text": "Search is broken"},
        {"external_id": "2", "text": "Dark mode please"},
    ]
    as_csv = runner.invoke(main, ["query", sql, "--db", str(db), "--format", "csv"])
    assert as_csv.output.splitlines() == ["external_id,text", "1,Search is broken", "2,Dark mode please"]
    table = runner.invoke(main, ["query", sql, "--db", str(db)])
    assert "Search is broken" in table.output and "external_id" in table.output


def test_query_is_read_only_and_errors_are_clean(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("text\nabc def\n")
    runner.invoke(main, ["ingest", str(p), "--source", "s", "--db", str(db)])
    dropped = runner.invoke(main, ["query", "drop table feedback", "--db", str(db)])
    assert dropped.exit_code == 1 and "read-only" in dropped.output.lower()
    copied = runner.invoke(main, ["query", f"copy feedback to '{tmp_path / 'out.csv'}'", "--db", str(db)])
    assert copied.exit_code == 1 and not (tmp_path / "out.csv").exists()
    bad = runner.invoke(main, ["query", "select nope from feedback", "--db", str(db)])
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    missing = runner.invoke(main, ["query", "select 1", "--db", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_run_without_a_database_says_what_to_do(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["run", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1 and "painpoints ingest" in result.output


@pytest.mark.parametrize("command", sorted(main.commands))  # every registered command, so a new one cannot slip by
def test_every_command_has_help_and_is_documented(runner: CliRunner, command: str) -> None:
    result = runner.invoke(main, [command, "--help"])
    assert result.exit_code == 0 and len(result.output) > 100
    assert f"painpoints {command}" in README


def test_query_from_a_file_and_sql_starting_with_a_comment(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("text\nabc def\n")
    runner.invoke(main, ["ingest", str(p), "--source", "s", "--db", str(db)])
    sql = "-- how many?\nselect count(*) as n from feedback"
    (tmp_path / "q.sql").write_text(sql)
    from_file = runner.invoke(main, ["query", "--file", str(tmp_path / "q.sql"), "--db", str(db), "--format", "json"])
    inline = runner.invoke(main, ["query", sql, "--db", str(db), "--format", "json"])
    assert json.loads(from_file.output) == json.loads(inline.output) == [{"n": 1}]
    assert runner.invoke(main, ["query", "--db", str(db)]).exit_code == 2


def test_console_entry_exits_promptly_after_a_full_run(golden_db: Path) -> None:
    """`painpoints` (``entry``) skips the interpreter's teardown but must still finish what shutdown
    finishes: joblib's worker threads (UMAP) and Prefect's temporary API. A full run uses both; a
    hang here would stall every cron job."""
    import subprocess
    import sys
    import time

    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "painpoints.cli", "run", "--db", str(golden_db), "--full"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(full: requested)" in done.stdout and time.perf_counter() - t0 < 300
    bad = subprocess.run(
        [sys.executable, "-m", "painpoints.cli", "query", "select nope", "--db", str(golden_db)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 1 and "nope" in bad.stderr  # exit codes and messages as click gives them
