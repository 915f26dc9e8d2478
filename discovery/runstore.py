"""What a discovery run reads from and writes to DuckDB: its input, the run log, theme state, curation.

Split from ``discovery.store`` (connection, ingest, embeddings, queries), whose helpers it uses.
``finish_run`` writes a run's whole result in one transaction, so the views show either the previous
run or this one, never a mix.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from discovery.store import StoreError, transaction, utc_now
from discovery.themes import Curation, KnownTheme


RUN_COLUMNS = ("s.segment_id", "s.feedback_id", "f.source", "f.created_at", "s.text", "s.content_hash")


@dataclass
class RunInput:
    """Everything a discovery run works on, aligned by position."""

    segment_id: list[str]
    feedback_id: list[str]
    source: list[str]
    created_at: list[datetime | None]
    text: list[str]
    vectors: np.ndarray
    content_hash: list[str] = field(default_factory=list)


def load_run_input(con: duckdb.DuckDBPyConnection, model: str, window_days: int | None = None,
                   batch_rows: int = 65_536) -> RunInput:
    """Segments with their vectors for ``model``, in a stable order (segment_id). With
    ``window_days``, only feedback created (else ingested) within that many days of the newest item.

    Vectors are the bulk (1.5 GB for 1M segments): they stream from DuckDB in record batches into one
    preallocated float32 array, so they are never held twice (whole Arrow table + NumPy copy peaked at
    9.6 GB on 1M segments). Count and rows come from one snapshot (one transaction).
    """
    window = ("" if not window_days else
              "WHERE coalesce(f.created_at, f.ingested_at) >= (SELECT max(coalesce(created_at, ingested_at)) "
              "FROM feedback) - to_days(CAST(? AS INTEGER)) ")
    source = ("FROM segments s JOIN feedback f USING (feedback_id) "
              "JOIN embeddings e ON e.content_hash = s.content_hash AND e.model = ? " + window)
    params = [model] + ([window_days] if window_days else [])
    columns: dict[str, list[Any]] = {c.split(".")[1]: [] for c in RUN_COLUMNS}
    with transaction(con):
        (n, dim), = con.execute(f"SELECT count(*), max(len(e.vector)) {source}", params).fetchall()
        vectors = np.empty((n, dim or 0), np.float32)
        # a relation streams; an execute() result would be materialised first (DuckDB warns of the copy)
        reader = con.sql(f"SELECT {', '.join(RUN_COLUMNS)}, e.vector {source}ORDER BY s.segment_id",
                         params=params).to_arrow_reader(batch_rows)
        row = 0
        for batch in reader:
            k = batch.num_rows
            flat = batch.column("vector").flatten().to_numpy(zero_copy_only=False)
            vectors[row:row + k] = flat.reshape(k, -1)
            for i, values in enumerate(columns.values()):
                values += batch.column(i).to_pylist()
            row += k
    if row != n:  # cannot happen within one transaction; a silent misalignment would be far worse
        raise StoreError(f"run input changed while loading: counted {n} segments, read {row}")
    return RunInput(**columns, vectors=vectors)


def start_run(con: duckdb.DuckDBPyConnection, params: dict[str, Any], flow_run_id: str | None = None) -> str:
    """Record a new run as 'running' (with this process's pid and host), after closing out runs whose
    process died without finishing."""
    abandon_dead_runs(con)
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    params = {**params, "pid": os.getpid(), "host": socket.gethostname()}
    con.execute("INSERT INTO runs (run_id, started_at, status, flow_run_id, params) VALUES (?, ?, 'running', ?, ?)",
                [run_id, utc_now(), flow_run_id, json.dumps(params, default=str)])
    return run_id


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
        con.execute("UPDATE runs SET status = 'abandoned', finished_at = ?, error = ? WHERE run_id = ?",
                    [utc_now(), f"process {pid} ended without finishing the run (killed or crashed)", run_id])
    return len(dead)


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
    row = con.execute("SELECT parsed FROM llm_calls WHERE cache_key = ? AND status = 'ok' "
                      "ORDER BY created_at DESC LIMIT 1", [key]).fetchone()
    return json.loads(row[0]) if row else None


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, themes: list[dict[str, Any]],
               assignments: list[dict[str, Any]], stats: dict[str, Any],
               llm_calls: list[dict[str, Any]] | None = None, theme_state: list[dict[str, Any]] | None = None,
               events: list[dict[str, Any]] | None = None, applied_curation: Sequence[str] = ()) -> None:
    """Write the run's themes, assignments, LLM calls, the new theme state and its events, and mark
    the run successful, atomically: a crash before COMMIT leaves the previous state whole."""
    theme_tbl = pa.Table.from_pylist([{**t, "run_id": run_id} for t in themes])  # noqa: F841
    assign_tbl = pa.Table.from_pylist([{**a, "run_id": run_id} for a in assignments])  # noqa: F841
    calls_tbl = pa.Table.from_pylist([{**c, "run_id": run_id} for c in llm_calls or []])  # noqa: F841
    event_tbl = pa.Table.from_pylist([{**e, "run_id": run_id} for e in events or []])  # noqa: F841
    state_tbl = pa.Table.from_pylist(theme_state or [])  # noqa: F841
    with transaction(con):
        if llm_calls:
            con.execute("INSERT INTO llm_calls BY NAME SELECT * EXCLUDE (messages, parsed), "
                        "messages::JSON AS messages, parsed::JSON AS parsed FROM calls_tbl")
        if themes:
            con.execute("INSERT INTO theme_snapshots BY NAME SELECT * FROM theme_tbl")
        if assignments:
            con.execute("INSERT INTO assignments BY NAME SELECT * FROM assign_tbl")
        if theme_state is not None:
            con.execute("DELETE FROM themes")
            if theme_state:
                con.execute("INSERT INTO themes BY NAME SELECT * FROM state_tbl")
        if events:
            con.execute("INSERT INTO theme_events BY NAME SELECT * FROM event_tbl")
        for cid in applied_curation:
            con.execute("UPDATE curation SET applied_run = ? WHERE curation_id = ?", [run_id, cid])
        con.execute("UPDATE runs SET status = 'success', finished_at = ?, stats = ? WHERE run_id = ?",
                    [utc_now(), json.dumps(stats, default=str), run_id])


@dataclass
class ThemeState:
    """What the next run builds on: the themes table, last successful run's assignment, curation."""

    known: dict[str, KnownTheme]
    previous: dict[str, tuple[str | None, str | None]]  # segment_id → (theme_id, content_hash)
    run_id: str | None
    stats: dict[str, Any]
    last_full: datetime | None
    curation: Curation


def load_theme_state(con: duckdb.DuckDBPyConnection) -> ThemeState:
    known = {}
    for row in con.execute("SELECT theme_id, label, label_method, status, centroid, description, merged_into, "
                           "items, first_run, last_run, first_seen, last_seen, radius FROM themes").fetchall():
        known[row[0]] = KnownTheme(row[0], row[1], row[2], row[3],
                                   np.asarray(row[4], np.float32) if row[4] is not None else None, *row[5:])
    last = con.execute("SELECT run_id, stats FROM latest_run").fetchone()
    previous = {}
    if last:
        previous = {sid: (tid, h) for sid, tid, h in con.execute(
            "SELECT segment_id, theme_id, content_hash FROM assignments WHERE run_id = ?", [last[0]]).fetchall()}
    full = con.execute("SELECT max(finished_at) FROM runs WHERE status = 'success' "
                       "AND stats->>'mode' = 'full'").fetchone()
    rows = con.execute("SELECT curation_id, action, theme_id, target_theme_id, value, applied_run FROM curation "
                       "ORDER BY created_at, curation_id").fetchall()
    return ThemeState(known=known, previous=previous, run_id=last[0] if last else None,
                      stats=json.loads(last[1]) if last and last[1] else {}, last_full=full[0] if full else None,
                      curation=Curation.from_rows(rows))


def add_curation(con: duckdb.DuckDBPyConnection, action: str, theme_id: str, target_theme_id: str | None = None,
                 value: str | None = None, note: str | None = None) -> str:
    """Record one curation action; the next run applies it. Unknown themes are refused."""
    known = dict(con.execute("SELECT theme_id, status FROM themes").fetchall())
    for t in (theme_id, target_theme_id):
        if t is not None and t not in known:
            raise StoreError(f"unknown theme {t!r}; see `painpoints query \"select theme_id, label from themes\"`")
    if action == "merge":
        if target_theme_id == theme_id:
            raise StoreError("a theme cannot be merged into itself")
        cur = Curation.from_rows(con.execute("SELECT curation_id, action, theme_id, target_theme_id, value, "
                                             "applied_run FROM curation ORDER BY created_at").fetchall())
        if cur.resolve(target_theme_id) == theme_id:
            raise StoreError(f"{target_theme_id} is already merged into {theme_id}")
    cid = uuid.uuid4().hex[:12]
    con.execute("INSERT INTO curation (curation_id, action, theme_id, target_theme_id, value, note, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", [cid, action, theme_id, target_theme_id, value, note, utc_now()])
    return cid


def fail_run(con: duckdb.DuckDBPyConnection, run_id: str, error: str) -> None:
    con.execute("UPDATE runs SET status = 'failed', finished_at = ?, error = ? WHERE run_id = ?",
                [utc_now(), error[:4000], run_id])
