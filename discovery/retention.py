"""Retention (issue 22): keep the store's size in proportion to what a team needs, not to how many
nights it has run.

Runs log only the assignment rows they change (``assignments``; the latest state is
``current_assignments``), and any run's full assignment is replayed from the log
(``assignments_as_of``). History (``theme_history``, per-run counts, labels, events, stats) lives in
the small per-theme tables. So ``prune`` thins the log of successful runs beyond the newest
``keep_runs`` (and, with ``keep_days``, only of runs older than that): it deletes their rows that a
later run superseded, keeps the ones every kept run is replayed from, marks those runs ``pruned_at``
(no longer replayable), and checkpoints: DuckDB then reuses the freed blocks for the next writes.
``compact`` goes further and rewrites the database into a fresh file, so the file itself shrinks; it
needs the database to itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from painpoints.discovery import lake
from painpoints.discovery.store import StoreError, sql, transaction, utc_now


@dataclass(frozen=True)
class Pruned:
    runs: list[str]
    rows: int


def prune(con: duckdb.DuckDBPyConnection, keep_runs: int, keep_days: int | None = None) -> Pruned:
    """Thin the log of successful runs beyond the newest ``keep_runs`` (≥ 1: the latest always stays),
    optionally only of those older than ``keep_days``; one transaction, then a checkpoint."""
    params = {"keep_runs": keep_runs, "keep_days": keep_days, "now": utc_now()}
    runs = [r for (r,) in con.execute(sql("prunable_runs"), params).fetchall()]
    if not runs:
        return Pruned([], 0)
    with transaction(con):
        cutoff = con.execute(sql("prune_cutoff"), {"runs": runs}).fetchall()[0][0]
        rows = con.execute(sql("prune_assignments"), {"runs": runs, "cutoff": cutoff}).fetchall()[0][0]
        con.execute(sql("mark_pruned"), {"runs": runs, "now": params["now"]})
    con.execute("CHECKPOINT")
    return Pruned(runs, int(rows))


def compact(path: Path) -> tuple[int, int]:
    """Rewrite ``path`` into a fresh file (same tables, views and rows) and swap it in; returns the
    sizes before and after in bytes. The database must not be open anywhere else."""
    if lake.is_lake(path):
        raise StoreError(
            "--compact rewrites a DuckDB file; a DuckLake drops old snapshots and files with its own maintenance "
            "(CALL ducklake_expire_snapshots / ducklake_cleanup_old_files, docs/scale.md)"
        )
    tmp = path.with_name(path.name + ".compact")
    tmp.unlink(missing_ok=True)
    before = path.stat().st_size
    try:
        con = duckdb.connect()
        try:
            con.execute(f"ATTACH {lake.sql_literal(str(path))} AS src (READ_ONLY)")  # ATTACH takes no ? in 1.5
            con.execute(f"ATTACH {lake.sql_literal(str(tmp))} AS dst")
            con.execute("COPY FROM DATABASE src TO dst")
        finally:
            con.close()
    except duckdb.Error as err:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot compact {path} (is it open elsewhere?): {err}") from err
    os.replace(tmp, path)  # atomic: a crash leaves either the old file or the new one
    return before, path.stat().st_size
