"""The DuckDB store: connection, schema from ``sql/``, and every read/write the pipeline does.

Only this module talks to DuckDB. Writes that belong together happen in one transaction, so a crash
leaves either the old state or the new one, never half of each. (It is longer than our usual ~400
lines for that reason: every SQL statement outside ``sql/`` lives here, grouped by stage.)
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_delay, wait_exponential

from discovery.themes import Curation, KnownTheme

log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """The database cannot be opened or used as asked."""


def sql_dir() -> Path:
    """``sql/`` of a source checkout, else the copy packed into the wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "sql", here / "_sql"):
        if (candidate / "schema").is_dir():
            return candidate
    raise StoreError("sql/ directory not found next to the discovery package")


def connect(path: str | Path, read_only: bool = False, lock_wait: float = 60.0,
            memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Open (and, for writers, create or migrate) the database at ``path``.

    DuckDB allows one writing process, and any connection held by another process (a PM's notebook,
    the duckdb CLI, even read-only) blocks a writer. A writer therefore waits with backoff for up to
    ``lock_wait`` seconds, saying once what it waits for, then fails with a clear ``StoreError``;
    nothing is written before the lock is held, so waiting never corrupts anything.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise StoreError(f"database {path} does not exist; ingest something first")
    path.parent.mkdir(parents=True, exist_ok=True)
    # readers may not touch the file system either: `COPY ... TO`, `read_csv('/etc/...')` are refused
    config: dict[str, Any] = {"enable_external_access": False} if read_only else {}
    if memory_limit:  # DuckDB spills to disk beyond it (ingest: a big file's transaction)
        config["memory_limit"] = memory_limit

    def warn_once(state: RetryCallState) -> None:
        if state.attempt_number == 1:
            log.warning("%s is locked by another process (%s); waiting up to %.0f s. Close that connection "
                        "or open the database read-only.", path, _lock_holder(state), lock_wait)

    opener = Retrying(retry=retry_if_exception(_is_lock_error), stop=stop_after_delay(lock_wait),
                      wait=wait_exponential(multiplier=0.2, max=5), before_sleep=warn_once, reraise=True)
    try:
        con = opener(duckdb.connect, str(path), read_only=read_only, config=config)
    except duckdb.IOException as err:
        hint = (f" (waited {lock_wait:.0f} s for another process to release it)" if _is_lock_error(err) else "")
        raise StoreError(f"cannot open {path}{hint}: {err}") from err
    if not read_only:
        with transaction(con):
            for folder in ("schema", "views"):
                for file in sorted((sql_dir() / folder).glob("*.sql")):
                    con.execute(file.read_text())
    return con


def _is_lock_error(err: BaseException) -> bool:
    return isinstance(err, duckdb.IOException) and "lock" in str(err).lower()


def _lock_holder(state: RetryCallState) -> str:
    err = state.outcome.exception() if state.outcome else None
    match = re.search(r"PID \d+", str(err)) if err else None
    return match.group(0) if match else "unknown process"


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


# ----------------------------------------------------------------------------------------- ingest
FEEDBACK_SCHEMA = pa.schema([
    ("feedback_id", pa.string()), ("source", pa.string()), ("kind", pa.string()),
    ("external_id", pa.string()), ("text", pa.string()), ("created_at", pa.timestamp("us")),
    ("author", pa.string()), ("rating", pa.float64()), ("metadata", pa.string()),
    ("content_hash", pa.string()),
])
REJECT_SCHEMA = pa.schema([("source", pa.string()), ("reason", pa.string()), ("raw", pa.string()),
                           ("file", pa.string()), ("line", pa.int64())])


def existing_keys(con: duckdb.DuckDBPyConnection, source: str) -> tuple[set[int], set[int]]:
    """Feedback ids and content hashes already stored for ``source``, as the integers their hex
    digits spell (exact, and about half the memory of the strings: ingest keeps one of each per row)."""
    ids: set[int] = set()
    hashes: set[int] = set()
    cur = con.execute("SELECT feedback_id, content_hash FROM feedback WHERE source = ?", [source])
    while batch := cur.fetchmany(100_000):
        for fid, chash in batch:
            ids.add(int(fid, 16))
            hashes.add(int(chash, 16))
    return ids, hashes


def insert_feedback(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> int:
    """Insert already-deduplicated feedback rows; returns how many were stored."""
    if not rows:
        return 0
    for r in rows:
        r["metadata"] = json.dumps(r["metadata"], ensure_ascii=False, default=str)
    batch = pa.Table.from_pylist(rows, schema=FEEDBACK_SCHEMA)  # noqa: F841 (read by DuckDB by name)
    con.execute("INSERT INTO feedback (feedback_id, source, kind, external_id, text, created_at, author, "
                "rating, metadata, content_hash) SELECT feedback_id, source, kind, external_id, text, "
                "created_at, author, rating, metadata::JSON, content_hash FROM batch")
    return len(rows)


def insert_rejected(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    batch = pa.Table.from_pylist(rows, schema=REJECT_SCHEMA)  # noqa: F841
    # a re-ingest of the same file must not record the same rejection twice
    con.execute("INSERT INTO rejected_rows (source, reason, raw, file, line) "
                "SELECT b.source, b.reason, b.raw, b.file, b.line FROM batch b WHERE NOT EXISTS ("
                "SELECT 1 FROM rejected_rows r WHERE r.source = b.source AND r.reason = b.reason "
                "AND r.raw IS NOT DISTINCT FROM b.raw AND r.file IS NOT DISTINCT FROM b.file "
                "AND r.line IS NOT DISTINCT FROM b.line)")
    return len(rows)


def stored_hashes(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    """feedback_id → content hash of everything stored for ``source`` (for replace-mode ingest)."""
    return dict(con.execute("SELECT feedback_id, content_hash FROM feedback WHERE source = ?", [source]).fetchall())


def replace_feedback(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> None:
    """A newer version of a stored item (same id): update it and drop its segments, so the next run
    re-cuts, re-embeds and re-assigns it. Earlier runs' assignments stay as history."""
    con.execute("UPDATE feedback SET text = ?, created_at = ?, author = ?, rating = ?, metadata = ?::JSON, "
                "content_hash = ?, ingested_at = ? WHERE feedback_id = ?",
                [row["text"], row["created_at"], row["author"], row["rating"],
                 json.dumps(row["metadata"], ensure_ascii=False, default=str), row["content_hash"], _now(),
                 row["feedback_id"]])
    con.execute("DELETE FROM segments WHERE feedback_id = ?", [row["feedback_id"]])


def delete_feedback(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> int:
    """Remove items deleted at the source, with their segments (their text must not linger)."""
    for fid in ids:
        con.execute("DELETE FROM segments WHERE feedback_id = ?", [fid])
        con.execute("DELETE FROM feedback WHERE feedback_id = ?", [fid])
    return len(ids)


def get_cursor(con: duckdb.DuckDBPyConnection, source: str) -> str | None:
    row = con.execute("SELECT cursor FROM sync_state WHERE source = ?", [source]).fetchone()
    return row[0] if row else None


def set_cursor(con: duckdb.DuckDBPyConnection, source: str, cursor: str | None, detail: dict[str, Any]) -> None:
    con.execute("INSERT INTO sync_state (source, cursor, updated_at, detail) VALUES (?, ?, ?, ?::JSON) "
                "ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at, "
                "detail = excluded.detail", [source, cursor, _now(), json.dumps(detail, default=str)])


def file_ingested(con: duckdb.DuckDBPyConnection, source: str, path: str, sha256: str) -> bool:
    return con.execute("SELECT count(*) FROM ingested_files WHERE source = ? AND path = ? AND sha256 = ?",
                       [source, path, sha256]).fetchone()[0] > 0


def record_file(con: duckdb.DuckDBPyConnection, source: str, path: str, sha256: str, size: int,
                counts: dict[str, Any]) -> None:
    con.execute("INSERT INTO ingested_files (source, path, sha256, size, counts, ingested_at) "
                "VALUES (?, ?, ?, ?, ?::JSON, ?) ON CONFLICT DO NOTHING",
                [source, path, sha256, size, json.dumps(counts), _now()])


# --------------------------------------------------------------------------------------- segments
def unsegmented_feedback(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """``(feedback_id, kind, text)`` of feedback that has no segments yet, in id order."""
    return con.execute("SELECT f.feedback_id, f.kind, f.text FROM feedback f WHERE NOT EXISTS "
                       "(SELECT 1 FROM segments s WHERE s.feedback_id = f.feedback_id) "
                       "ORDER BY f.feedback_id").fetchall()


def insert_segments(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    schema = pa.schema([("segment_id", pa.string()), ("feedback_id", pa.string()), ("segment", pa.int32()),
                        ("text", pa.string()), ("original_text", pa.string()),
                        ("content_hash", pa.string()), ("pii_found", pa.list_(pa.string()))])
    batch = pa.Table.from_pylist(rows, schema=schema)  # noqa: F841
    con.execute("INSERT INTO segments SELECT * FROM batch")
    return len(rows)


# ------------------------------------------------------------------------------------- embeddings
def texts_to_embed(con: duckdb.DuckDBPyConnection, model: str) -> list[tuple[str, str]]:
    """``(content_hash, text)`` of segments with no cached vector for ``model``: the cache lookup."""
    return con.execute("SELECT content_hash, any_value(text) FROM segments s WHERE NOT EXISTS "
                       "(SELECT 1 FROM embeddings e WHERE e.content_hash = s.content_hash AND e.model = ?) "
                       "GROUP BY content_hash ORDER BY content_hash", [model]).fetchall()


def insert_embeddings(con: duckdb.DuckDBPyConnection, model: str, hashes: Sequence[str],
                      vectors: np.ndarray) -> int:
    if not len(hashes):
        return 0
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).ravel())
    batch = pa.table({"content_hash": pa.array(list(hashes), pa.string()),  # noqa: F841
                      "vector": pa.ListArray.from_arrays(
                          pa.array(np.arange(0, len(flat) + 1, vectors.shape[1], dtype=np.int32)), flat)})
    con.execute("INSERT INTO embeddings (content_hash, model, vector) "
                "SELECT content_hash, ?, vector FROM batch ON CONFLICT DO NOTHING", [model])
    return len(hashes)


def cached_vectors(con: duckdb.DuckDBPyConnection, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
    """The cached vectors among ``hashes`` for ``model``."""
    if not hashes:
        return {}
    keys = pa.table({"content_hash": pa.array(sorted(set(hashes)), pa.string())})  # noqa: F841
    tbl = _arrow(con.execute("SELECT e.content_hash, e.vector FROM embeddings e JOIN keys k USING (content_hash) "
                      "WHERE e.model = ?", [model]))
    return {h: np.asarray(v, dtype=np.float32) for h, v in
            zip(tbl.column("content_hash").to_pylist(), tbl.column("vector").to_pylist())}


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


def feedback_index(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """``(feedback_id, external_id, text)`` of all feedback, in id order."""
    return con.execute("SELECT feedback_id, external_id, text FROM feedback ORDER BY feedback_id").fetchall()


# ------------------------------------------------------------------------------------------- runs
def start_run(con: duckdb.DuckDBPyConnection, params: dict[str, Any], flow_run_id: str | None = None) -> str:
    """Record a new run as 'running' (with this process's pid and host), after closing out runs whose
    process died without finishing."""
    abandon_dead_runs(con)
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    params = {**params, "pid": os.getpid(), "host": socket.gethostname()}
    con.execute("INSERT INTO runs (run_id, started_at, status, flow_run_id, params) VALUES (?, ?, 'running', ?, ?)",
                [run_id, _now(), flow_run_id, json.dumps(params, default=str)])
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
                    [_now(), f"process {pid} ended without finishing the run (killed or crashed)", run_id])
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
                    [_now(), json.dumps(stats, default=str), run_id])


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
                "VALUES (?, ?, ?, ?, ?, ?, ?)", [cid, action, theme_id, target_theme_id, value, note, _now()])
    return cid


def fail_run(con: duckdb.DuckDBPyConnection, run_id: str, error: str) -> None:
    con.execute("UPDATE runs SET status = 'failed', finished_at = ?, error = ? WHERE run_id = ?",
                [_now(), error[:4000], run_id])


def _arrow(cur: duckdb.DuckDBPyConnection) -> pa.Table:
    """The result as an Arrow table (DuckDB 2 renamed ``fetch_arrow_table``)."""
    import warnings

    fetch = getattr(cur, "to_arrow_table", None) or cur.fetch_arrow_table
    with warnings.catch_warnings():  # "extra copy" advice: irrelevant at our sizes, parameters need execute()
        warnings.simplefilter("ignore", UserWarning)
        return fetch()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# ------------------------------------------------------------------------------------------ query
def query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None
          ) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run ``sql``; returns column names and rows."""
    try:
        cur = con.execute(sql, params or [])
    except duckdb.Error as err:
        raise StoreError(str(err)) from err
    if cur.description is None:
        return [], []
    return [d[0] for d in cur.description], cur.fetchall()
