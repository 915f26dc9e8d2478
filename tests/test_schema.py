"""Schema versions: ordered migrations applied once each, databases made before versioning upgraded
in place with their data, a database newer than the code refused, named SQL statements found."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from painpoints.discovery import store


def test_fresh_database_gets_every_migration_once(db: Path) -> None:
    with store.connect(db) as con:
        assert store.schema_version(con) == len(store.migrations())
    with store.connect(db) as con:  # a second writer applies nothing again
        assert store.migrate(con) == 0
        versions = con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
        assert [v for (v,) in versions] == list(range(1, len(store.migrations()) + 1))
        assert con.execute("SELECT count(*) FROM pain_points").fetchone() == (0,)


def test_database_from_before_versioning_is_upgraded_with_its_data(db: Path) -> None:
    old = duckdb.connect(str(db))  # what a writer of the previous release left: DDL 001-003, no versions
    for _, _, ddl in store.migrations()[:3]:
        old.execute(ddl)
    old.execute(
        "INSERT INTO assignments (run_id, segment_id, theme_id, how, sentiment, sentiment_score, x, y) "
        "VALUES ('r1', 's1', 'T001', 'cluster', 'negative', -0.5, 0.1, 0.2)"
    )
    old.close()
    with store.connect(db) as con:
        assert store.schema_version(con) == len(store.migrations())
        cols = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = 'assignments'"
            ).fetchall()
        ]
        assert "x" not in cols and "y" not in cols  # 004 dropped the never-written map columns
        assert con.execute("SELECT theme_id, sentiment_score FROM assignments").fetchall() == [("T001", -0.5)]


def test_a_reader_upgrades_an_older_database_once(db: Path) -> None:
    """A PM opens (read-only) a database the previous release wrote: it is migrated once, as a writer
    would, then read; while another process reads it (which blocks the upgrade), the reader says why."""
    import subprocess
    import sys

    old = duckdb.connect(str(db))
    for _, _, ddl in store.migrations()[:-1]:  # the release before the newest migration
        old.execute(ddl)
    old.execute(store.SCHEMA_VERSION_DDL)
    old.executemany("INSERT INTO schema_version VALUES (?, ?, now())", [(v, n) for v, n, _ in store.migrations()[:-1]])
    old.close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}, read_only=True); "
            "print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        with pytest.raises(store.StoreError, match="older painpoints"):
            store.connect(db, read_only=True, lock_wait=1).close()
    finally:
        holder.kill()
        holder.wait()
    with store.connect(db, read_only=True) as con:
        assert store.schema_version(con) == len(store.migrations())
        assert con.execute("SELECT count(*) FROM feedback_themes").fetchone() == (0,)  # the views are there


def test_newer_database_is_refused_by_writers_and_readers(db: Path) -> None:
    with store.connect(db) as con:
        con.execute("INSERT INTO schema_version VALUES (999, 'from_the_future', now())")
    for read_only in (False, True):
        with pytest.raises(store.StoreError, match="schema version 999, newer than this painpoints"):
            store.connect(db, read_only=read_only)


def test_failed_migration_leaves_the_version_unchanged(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with store.connect(db):
        pass
    broken = [*store.migrations(), (len(store.migrations()) + 1, "broken", "CREATE TABLE t5 (a INT); SELEC 1")]
    monkeypatch.setattr(store, "migrations", lambda: broken)
    with pytest.raises(duckdb.Error):
        store.connect(db)
    monkeypatch.undo()
    with store.connect(db) as con:  # all-or-nothing: neither the version row nor the table was kept
        assert store.schema_version(con) == len(store.migrations())
        assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 't5'").fetchone() == (0,)


def test_named_statements() -> None:
    assert "INSERT INTO rejected_rows" in store.sql("insert_rejected")
    with pytest.raises(store.StoreError, match="no query named"):
        store.sql("no_such_statement")


def _store_at(db: Path, version: int) -> duckdb.DuckDBPyConnection:
    """A database as a release at schema ``version`` left it."""
    old = duckdb.connect(str(db))
    for _, _, ddl in store.migrations()[:version]:
        old.execute(ddl)
    old.execute(store.SCHEMA_VERSION_DDL)
    old.executemany(
        "INSERT INTO schema_version VALUES (?, ?, now())", [(v, n) for v, n, _ in store.migrations()[:version]]
    )
    return old


def test_the_assignments_log_loses_its_key_and_keeps_its_rows(db: Path) -> None:
    """Migration 011 rebuilds `assignments` without its primary key (a 10M-segment write held an index
    entry per segment until COMMIT): rows, columns and the views over it stay."""
    old = _store_at(db, 10)
    old.execute(
        "INSERT INTO assignments (run_id, segment_id, theme_id, how, sentiment, sentiment_score, feedback_type) "
        "VALUES ('r1', 's1', 'T001', 'cluster', 'negative', -0.5, 'problem')"
    )
    before = old.execute("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                         "WHERE table_name = 'assignments' ORDER BY ordinal_position").fetchall()  # fmt: skip
    old.close()
    with store.connect(db) as con:
        assert store.schema_version(con) == len(store.migrations())
        after = con.execute("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                            "WHERE table_name = 'assignments' ORDER BY ordinal_position").fetchall()  # fmt: skip
        assert after == before
        keys = "SELECT constraint_type FROM duckdb_constraints() WHERE table_name = 'assignments'"
        assert "PRIMARY KEY" not in {k for (k,) in con.execute(keys).fetchall()}
        assert con.execute("SELECT run_id, feedback_type FROM assignments").fetchall() == [("r1", "problem")]
        assert con.execute("SELECT count(*) FROM feedback_themes").fetchone() == (0,)  # the views still bind


def test_the_embedding_cache_current_assignments_and_segments_lose_their_keys(db: Path) -> None:
    """Migrations 012 and 013: DuckDB loads a key's whole index into memory_limit at the first write to its table,
    and a run's write adds its label phrases' vectors to the cache — ~1 GB of index at 10M cached vectors,
    the whole default limit. Rows, columns and defaults stay; a write loads no index any more."""
    old = _store_at(db, 11)
    old.execute("INSERT INTO embeddings (content_hash, model, vector) VALUES ('h1', 'm', [0.5, 0.25])")
    old.execute("INSERT INTO segments (segment_id, feedback_id, segment, text, content_hash, pii_found) "
                "VALUES ('f0:000', 'f0', 0, 'app crashes', 'h1', ['email'])")  # fmt: skip
    old.execute(
        "INSERT INTO current_assignments (segment_id, run_id, theme_id, how, sentiment, sentiment_score) "
        "VALUES ('s1', 'r1', 'T001', 'cluster', 'negative', -0.5)"
    )
    columns = (
        "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_name IN ('embeddings', 'current_assignments', 'segments') ORDER BY table_name, ordinal_position"
    )
    before = old.execute(columns).fetchall()
    old.close()
    with store.connect(db) as con:
        assert store.schema_version(con) == len(store.migrations()) >= 12
        assert con.execute(columns).fetchall() == before
        keys = "SELECT DISTINCT table_name FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY'"
        assert not {"embeddings", "current_assignments", "segments"} & {t for (t,) in con.execute(keys).fetchall()}
        assert con.execute("SELECT segment_id, pii_found FROM segments").fetchall() == [("f0:000", ["email"])]
        assert con.execute("SELECT content_hash, vector, created_at IS NOT NULL FROM embeddings").fetchall() == [
            ("h1", [0.5, 0.25], True)
        ]
        assert con.execute("SELECT segment_id, theme_id FROM current_assignments").fetchall() == [("s1", "T001")]
    with store.connect(db) as con:  # a fresh connection, as a run's write has
        con.execute("INSERT INTO embeddings (content_hash, model, vector) VALUES ('h2', 'm', [1.0, 0.0])")
        con.execute("UPDATE current_assignments SET theme_id = 'T002' WHERE segment_id = 's1'")
        con.execute("INSERT INTO segments (segment_id, feedback_id, segment, text, content_hash) "
                    "VALUES ('f1:000', 'f1', 0, 'late delivery', 'h2')")  # fmt: skip
        loaded = con.execute("SELECT count(*) FROM duckdb_memory() WHERE tag = 'ART_INDEX' AND memory_usage_bytes > 0")
        assert loaded.fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM feedback_themes").fetchone() == (0,)  # the views still bind
