"""What a discovery run reads from and writes to DuckDB: its input, the run log, theme state, curation,
and the latest run for readers (report, CLI).

Split from ``discovery.store`` (connection, schema, queries), whose helpers it uses; its
SQL is in ``sql/queries/run.sql``. Records (``discovery.records``) become Arrow tables here, at the
store boundary, with types taken from the records' own fields. ``finish_run`` writes a run's whole
result in one transaction, so the views show either the previous run or this one, never a mix.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from painpoints.discovery import lake, segmentstore
from painpoints.discovery.assigned import Assignments
from painpoints.discovery.records import (
    DiscoveryResult,
    KnownArea,
    KnownTheme,
    LatestRun,
    NewEmbeddings,
    RunStats,
    ThemeEvent,
    ThemeName,
    ThemeSnapshot,
)
from painpoints.discovery.store import StoreError, memory_at_most, registered, sql, transaction, utc_now
from painpoints.discovery.store import arrow_reader as store_arrow_reader
from painpoints.discovery.themes import Curation


def start_run(con: duckdb.DuckDBPyConnection, params: dict[str, Any], flow_run_id: str | None = None) -> str:
    """Record a new run as 'running' (with this process's pid and host), after closing out runs whose
    process died without finishing."""
    abandon_dead_runs(con)
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    params = {**params, "pid": os.getpid(), "host": socket.gethostname()}
    con.execute(sql("insert_run"), [run_id, utc_now(), flow_run_id, json.dumps(params, default=str)])
    return run_id


def run_fingerprint(con: duckdb.DuckDBPyConnection, settings_fingerprint: str, params: dict[str, Any]) -> str:
    """What a run's result depends on, hashed: the stored feedback (count, last ingest), the merges and
    splits to apply, the settings and the run's parameters (``full`` aside)."""
    n, last, structural = con.execute(sql("data_fingerprint")).fetchall()[0]
    keyed = {k: v for k, v in params.items() if k != "full"}
    raw = json.dumps([n, str(last), structural, settings_fingerprint, keyed], sort_keys=True, default=str)
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


def skip_if_unchanged(con: duckdb.DuckDBPyConnection, params: dict[str, Any], fingerprint: str) -> str | None:
    """When the latest successful run worked on exactly this (same fingerprint) and no full recluster
    is asked for, record a 'skipped' run that says so and return its id; else None. A skipped run
    changes no view: they read the latest *successful* run."""
    if params.get("full"):
        return None
    latest = _first(con, "latest_run_params")
    if latest is None or json.loads(latest[1] or "{}").get("fingerprint") != fingerprint:
        return None
    run_id = start_run(con, {**params, "fingerprint": fingerprint})
    stats = {"skipped": True, "same_as": latest[0], "reason": "no new or changed feedback, settings or merges"}
    con.execute(sql("skip_run"), [utc_now(), json.dumps(stats), run_id])
    return run_id


def skipped_reason(con: duckdb.DuckDBPyConnection, run_id: str) -> str | None:
    """Why ``run_id`` was skipped, in words (None when it was not a skipped run)."""
    row = _first(con, "run_status", [run_id])
    if row is None or row[0] != "skipped":
        return None
    stats = json.loads(row[1] or "{}")
    return f"{stats.get('reason', 'nothing changed')} since run {stats.get('same_as')}; its results stand"


def abandon_dead_runs(con: duckdb.DuckDBPyConnection) -> int:
    """Mark 'running' runs of this host whose process no longer exists as 'abandoned' (killed, power
    cut): they never wrote anything visible, but the run log should say they ended. Runs of other
    hosts, or of a live process, are left alone."""
    dead = []
    for run_id, params in con.execute("SELECT run_id, params FROM runs WHERE status = 'running'").fetchall():
        p = json.loads(params or "{}")
        if p.get("host") == socket.gethostname() and isinstance(p.get("pid"), int) and not _alive(p["pid"]):
            dead.append((run_id, p["pid"]))
    for run_id, pid in dead:
        error = f"process {pid} ended without finishing the run (killed or crashed)"
        con.execute(sql("abandon_run"), [utc_now(), error, run_id])
    return len(dead)


def _first(con: duckdb.DuckDBPyConnection, query: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
    """The first row of the named query, reading the result to its end: DuckDB refuses to register
    an Arrow table on a connection whose last result is only half read."""
    rows = con.execute(sql(query), params or []).fetchall()
    return rows[0] if rows else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def llm_cached(con: duckdb.DuckDBPyConnection, key: str) -> dict[str, Any] | None:
    """The parsed reply of the latest successful LLM call with this cache key."""
    row = _first(con, "llm_cached", [key])
    return json.loads(row[0]) if row else None


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, result: DiscoveryResult) -> None:
    """Write the run's themes, assignments, LLM calls, the new theme state and its events, the
    vectors it computed for the embedding cache, and mark the run successful, atomically: a crash
    before COMMIT leaves the previous state whole.

    It writes on a cursor of its own (``con`` must not be inside a transaction): a half-read result
    on ``con`` would stop DuckDB from registering the tables, and registering them outside the
    transaction lets a failed statement be rolled back before they are unregistered. The assignments
    are the exception: written a chunk at a time inside the transaction, each chunk read by name, not
    registered (``write_assignments``; the memory limit is set on a cursor of its own,
    ``store.memory_at_most``).

    The whole transaction runs under ``WRITE_MEMORY``, its COMMIT included: the COMMIT may checkpoint
    (DuckDB's automatic checkpoint past a WAL of 16 MB), and the state's rows are as many as the store's
    segments; at the connection's own limit (1 GB) DuckDB's pool could keep up to that of what they
    needed."""
    tables = {
        "snapshots": arrow_rows(ThemeSnapshot, result.themes, run_id),
        "events": arrow_rows(ThemeEvent, result.events, run_id),
        "state": arrow_rows(KnownTheme, result.theme_state or []),
        "area_state": arrow_rows(KnownArea, result.area_state or []),
        "calls": pa.Table.from_pylist([{**c, "run_id": run_id} for c in result.llm_calls]),
    }
    tables = {name: table for name, table in tables.items() if table.num_columns}
    with memory_at_most(con, WRITE_MEMORY), lake.cursor(con) as cur, registered(cur, **tables), transaction(cur):
        _write_run(cur, run_id, result)


def _write_run(con: duckdb.DuckDBPyConnection, run_id: str, result: DiscoveryResult) -> None:
    """``finish_run``'s statements, inside its transaction with its tables registered."""
    overtaken = con.execute(sql("run_overtaken"), [run_id]).fetchall()
    if overtaken:  # its result was computed from a state another run has since replaced: storing it would undo that run
        raise StoreError(
            f"run {run_id} is not stored: run {overtaken[0][0]} finished while it ran, so its themes were computed "
            "from an older state; run again"
        )
    cache_embeddings(con, result.embeddings)
    if result.llm_calls:
        con.execute(sql("insert_llm_calls"))
    if result.themes:
        con.execute(sql("insert_theme_snapshots"))
    if result.assignments.num_rows:  # the log gets what changed; current_assignments becomes this run's state
        write_assignments(con, run_id, result.assignments)
    if result.theme_state is not None:
        con.execute("DELETE FROM themes")
        if result.theme_state:
            con.execute(sql("insert_themes"))
    if result.area_state is not None:
        con.execute("DELETE FROM areas")
        if result.area_state:
            con.execute(sql("insert_areas"))
    if result.events:
        con.execute(sql("insert_theme_events"))
    for cid in result.applied_curation:
        con.execute(sql("mark_curation_applied"), [run_id, cid])
    con.execute(sql("finish_run"), [utc_now(), json.dumps(result.stats.as_dict(), default=str), run_id])


WRITE_MEMORY = "256MB"  # DuckDB's memory limit while a run's assignments are written (``write_assignments``)
WRITE_CHUNK = 1 << 20  # rows of a run's assignments written at a time (``write_assignments``)


def write_assignments(con: duckdb.DuckDBPyConnection, run_id: str, assigned: Assignments) -> None:
    """Log the run's assignment rows that changed (and tombstones for segments it no longer covers),
    then make ``current_assignments`` this run's state.

    The rows go ``WRITE_CHUNK`` at a time (``Assignments.ranges``), each chunk joined with the stored
    rows of its range of segment ids only: its changed rows into a temporary table, from there into
    the log and the state; the stored rows of its range it lacks become tombstones and leave the state.
    The statements run under ``WRITE_MEMORY`` and in the caller's transaction: a failure in any chunk
    rolls every chunk back.

    The statements read the chunk by its name here, ``write_chunk`` (DuckDB's replacement scan of this
    frame's locals), not through ``store.registered``: ``register`` makes a view that depends on the
    Python object, and ``unregister`` inside a transaction leaves that dependency until the transaction
    ends (duckdb-python issue 469), so every chunk stayed in memory until COMMIT, and the write's memory
    grew with the store: at 10M segments 2,140 MB against 1,157 MB at 1M, the run's peak (2026-12-05)."""
    with memory_at_most(con, WRITE_MEMORY):
        try:
            for part in assigned.ranges(WRITE_CHUNK):
                write_chunk = part.rows  # read by name in the statements below (a name no table of ours has)
                span = {"lo": part.lo, "hi": part.hi}
                con.execute(sql("changed_assignments"), span)
                con.execute(sql("log_changed_assignments"), {"run": run_id})
                con.execute(sql("log_removed_assignments"), {**span, "run": run_id})
                con.execute(sql("apply_removed_assignments"), span)
                con.execute(sql("apply_changed_assignments"), {"run": run_id})
                del write_chunk, part
        finally:
            with suppress(duckdb.Error):  # in an aborted transaction the rollback drops it
                con.execute("DROP TABLE IF EXISTS temp.changed_assignments")


def cache_embeddings(con: duckdb.DuckDBPyConnection, embeddings: Sequence[NewEmbeddings]) -> int:
    """Write vectors a run computed (``DiscoveryResult.embeddings``) into the embedding cache; vectors
    already cached are kept. ``finish_run`` does this with the run; scripts that discover without
    writing a run can call it to warm the cache. Returns how many vectors were offered."""
    for new in embeddings:
        segmentstore.insert_embeddings(con, new.model, new.hashes, new.vectors)
    return sum(len(new.hashes) for new in embeddings)


ARROW_TYPES = {
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "list[str]": pa.list_(pa.string()),
    "datetime": pa.timestamp("us"),
    "np.ndarray": pa.list_(pa.float32()),  # KnownTheme.centroid
}


def arrow_schema(record: type) -> pa.Schema:
    """The Arrow schema of a record's rows, from its field annotations (``float | None`` → float64)."""
    return pa.schema([(f.name, ARROW_TYPES[str(f.type).removesuffix(" | None")]) for f in dataclasses.fields(record)])


def arrow_rows(record: type, rows: list[Any], run_id: str | None = None) -> pa.Table:
    """Records as an Arrow table (column by column: a million assignments stay cheap), with a
    ``run_id`` column when given."""
    schema = arrow_schema(record)
    columns = {name: [getattr(r, name) for r in rows] for name in schema.names}
    if "centroid" in columns:
        columns["centroid"] = [None if c is None else np.asarray(c, np.float32) for c in columns["centroid"]]
    table = pa.table({name: pa.array(columns[name], schema.field(name).type) for name in schema.names})
    return table.append_column("run_id", pa.array([run_id] * len(rows), pa.string())) if run_id else table


@dataclass
class ThemeState:
    """What the next run builds on: the themes table, last successful run's assignment, curation."""

    known: dict[str, KnownTheme]
    # segment_id → (theme_id, content_hash) last run; a ``lastrun.LastRun`` on the run's rows when loaded
    # (``runinput.load_last_run``; ``load_theme_state`` leaves it empty)
    previous: Mapping[str, tuple[str | None, str | None]]
    run_id: str | None
    stats: RunStats | None  # of the last successful run
    last_full: datetime | None
    curation: Curation
    areas: dict[str, KnownArea] = field(default_factory=dict)
    # segment_id → its feedback type last run: an incremental run types only new or changed text
    previous_type: Mapping[str, str | None] = field(default_factory=dict)
    # segment_id → (sentiment, score) last run: per segment too, so kept for unchanged text
    previous_sentiment: Mapping[str, tuple[str, float]] = field(default_factory=dict)
    # theme_id → its name last run (keywords, quotes, description): kept for themes that barely changed
    names: dict[str, ThemeName] = field(default_factory=dict)


def load_theme_state(con: duckdb.DuckDBPyConnection) -> ThemeState:
    """The themes table, the latest successful run's stats and theme names, the last full run's end and
    the effective curation. Last run's per-segment assignment is read onto a run's own rows once they are
    loaded (``runinput.load_last_run``)."""
    known = {}
    for row in con.execute(sql("known_themes")).fetchall():
        centroid = np.asarray(row[4], np.float32) if row[4] is not None else None
        known[row[0]] = KnownTheme(row[0], row[1], row[2], row[3], centroid, *row[5:])
    last = latest_run(con)
    names = {}
    if last is not None:
        named = con.execute(sql("previous_names"), [last.run_id]).fetchall()
        names = {tid: ThemeName(lab, desc or "", list(kw or []), list(qs or [])) for tid, lab, desc, kw, qs in named}
    full = _first(con, "last_full_run")
    return ThemeState(
        known=known,
        previous={},
        run_id=last.run_id if last else None,
        stats=last.stats if last else None,
        last_full=full[0] if full else None,
        curation=Curation.from_rows(con.execute(sql("curation_rows")).fetchall()),
        areas={
            row[0]: KnownArea(
                row[0], row[1], row[2], None if row[3] is None else np.asarray(row[3], np.float32), *row[4:]
            )
            for row in con.execute(sql("known_areas")).fetchall()
        },
        names=names,
    )


def latest_run(con: duckdb.DuckDBPyConnection) -> LatestRun | None:
    """The latest successful run (what the views show) with its parsed stats; None before any."""
    row = _first(con, "latest_run")
    if row is None:
        return None
    return LatestRun(row[0], row[1], row[2], RunStats.from_dict(json.loads(row[3] or "{}")))


def run_stats(con: duckdb.DuckDBPyConnection, run_id: str) -> RunStats | None:
    """``runs.stats`` of one run, parsed; None when the run is unknown or wrote no stats (not finished)."""
    row = _first(con, "run_stats", [run_id])
    return RunStats.from_dict(json.loads(row[0])) if row and row[0] else None


def latest_vectors(con: duckdb.DuckDBPyConnection) -> tuple[list[str], np.ndarray]:
    """Theme id and vector (the one the run clustered) of each assigned segment of the latest
    successful run, in segment order; for maps of the themes."""
    table = store_arrow_reader(con, sql("latest_run_vectors")).read_all()
    n = table.num_rows
    if not n:
        return [], np.zeros((0, 0), np.float32)
    flat = table.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return table.column("theme_id").to_pylist(), np.asarray(flat, np.float32).reshape(n, -1)


def check_curation(
    con: duckdb.DuckDBPyConnection,
    action: str,
    theme_id: str,
    target_theme_id: str | None = None,
    value: str | None = None,
) -> None:
    """Refuse (``StoreError``) a curation action on unknown themes or areas, or a merge cycle."""
    known = dict(con.execute("SELECT theme_id, status FROM themes").fetchall())
    for t in (theme_id, target_theme_id):
        if t is not None and t not in known:
            raise StoreError(f'unknown theme {t!r}; see `painpoints query "select theme_id, label from themes"`')
    if action == "move" and not con.execute("SELECT 1 FROM areas WHERE area_id = ?", [value]).fetchall():
        raise StoreError(
            f'unknown area {value!r}; see `painpoints query "select area_id, area_label from theme_areas"`'
        )
    if action == "merge":
        if target_theme_id == theme_id:
            raise StoreError("a theme cannot be merged into itself")
        cur = Curation.from_rows(con.execute(sql("curation_rows")).fetchall())
        if cur.resolve(target_theme_id) == theme_id:
            raise StoreError(f"{target_theme_id} is already merged into {theme_id}")


def add_curation(
    con: duckdb.DuckDBPyConnection,
    action: str,
    theme_id: str,
    target_theme_id: str | None = None,
    value: str | None = None,
    note: str | None = None,
) -> str:
    """Record one curation action (every later run applies it); returns its id. Checked first."""
    check_curation(con, action, theme_id, target_theme_id, value)
    cid = uuid.uuid4().hex[:12]
    con.execute(sql("insert_curation"), [cid, action, theme_id, target_theme_id, value, note, utc_now()])
    return cid


def fail_run(con: duckdb.DuckDBPyConnection, run_id: str, error: str) -> None:
    con.execute(sql("fail_run"), [utc_now(), error[:4000], run_id])
