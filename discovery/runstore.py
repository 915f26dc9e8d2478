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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from painpoints.discovery import lake, segmentstore
from painpoints.discovery.columns import ArrowColumn, FileTexts, StoredMap, StoredTexts, columns_of, to_arrow, whole
from painpoints.discovery.lazy_vectors import StoredVectors
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
from painpoints.discovery.store import StoreError, fetch_arrow, registered, sql, transaction, utc_now
from painpoints.discovery.store import arrow_reader as store_arrow_reader
from painpoints.discovery.themes import Curation


@dataclass
class RunInput:
    """Everything a discovery run works on, aligned by position. Loaded from the store, the columns
    are ``columns.ArrowColumn``s (lists in tests); ``vectors`` is an array, or a ``StoredVectors`` that
    reads rows when first indexed (index it, do not iterate it)."""

    segment_id: Sequence[str]
    feedback_id: Sequence[str]
    source: Sequence[str]
    created_at: Sequence[datetime | None]
    text: Sequence[str]
    vectors: np.ndarray
    content_hash: Sequence[str] = field(default_factory=list)
    rating: Sequence[float | None] = field(default_factory=list)  # the feedback item's score (stars, NPS…)


def load_run_input(
    con: duckdb.DuckDBPyConnection,
    model: str,
    window_days: int | None = None,
    batch_rows: int = 65_536,
    vectors: bool = True,
    texts_in_memory: int | None = None,
) -> RunInput:
    """Segments with their vectors for ``model``, in a stable order (segment_id). With
    ``window_days``, only feedback created (else ingested) within that many days of the newest item.

    The rows come without vectors, unordered, and are put in order here (``by_segment_id``); with
    ``vectors`` the vectors (the bulk: 1.5 GB for 1M segments) then stream unordered into one
    preallocated float32 array at their rows' positions (``read_vectors``), in the same snapshot (one
    transaction). Sorting the vectors along with the rows, as this did, made DuckDB hold a sorted copy
    of them all: 1.47 vs 0.91 GB peak reading 300k rows of 384 floats, 2026-12-02. With
    ``vectors=False``, ``RunInput.vectors`` reads each row from the embedding cache when a stage first
    indexes it (``lazy_vectors.StoredVectors``: incremental runs). Past ``texts_in_memory`` segments
    (None: no limit) the texts stay in the store too and ``RunInput.text`` reads the rows a step takes
    (``columns.StoredTexts``): at 10M segments they were 1.7 GB held for the whole run.
    """
    params = [model, window_days or None, window_days or None]
    with transaction(con):
        n, dim = con.execute(sql("run_input_size"), params).fetchall()[0]
        lazy_texts = texts_in_memory is not None and n > texts_in_memory
        query = sql("run_input_keys" if lazy_texts else "run_input_rows")
        reader = store_arrow_reader(con, query, params, batch_rows)
        columns: dict[str, Any] = by_segment_id(list(reader), reader.schema)  # Arrow, not Python objects
        if lazy_texts:
            columns["text"] = StoredTexts(columns["content_hash"], partial(segmentstore.segment_texts, con))
        if len(columns["segment_id"]) != n:  # cannot happen within one transaction
            raise StoreError(
                f"run input changed while loading: counted {n} segments, read {len(columns['segment_id'])}"
            )
        if vectors:
            array = read_vectors(con, columns["segment_id"], model, window_days, dim or 0, batch_rows)
            return RunInput(**columns, vectors=array)
    lazy = StoredVectors(columns["content_hash"], dim or 0, model, partial(segmentstore.cached_vectors, con))
    return RunInput(**columns, vectors=lazy)  # type: ignore[arg-type]  # an array stand-in


SORT_SLICE = 1 << 20  # rows per chunk of a column put in segment order


def by_segment_id(batches: list[pa.RecordBatch], schema: pa.Schema) -> dict[str, ArrowColumn]:
    """The run input's columns in segment_id order (byte order, as DuckDB's ``ORDER BY``).

    Sorted here rather than by the query: DuckDB's sort of the window ran out of a 200 MB
    ``memory_limit`` at 600k segments (10M would need several GB of its memory). This holds the
    unsorted input and its sorted copy until the last column is done (the batches' buffers are freed
    together), plus one column in one piece: ``take`` on a chunked array joins its chunks for every
    call, so each column is joined once, with 64-bit string offsets (10M texts may pass 2 GB), and
    taken in slices of ``SORT_SLICE`` rows."""
    columns = columns_of(batches, schema)
    batches.clear()
    order = pc.sort_indices(columns["segment_id"].array)
    for name, column in columns.items():
        columns[name] = ArrowColumn(_taken(column.array, order))
    return columns


def _taken(array: pa.ChunkedArray, order: pa.Array) -> pa.ChunkedArray:
    """``array`` in the row order ``order``, as chunks of at most ``SORT_SLICE`` rows of its own type."""
    kind = array.type
    wide = {pa.string(): pa.large_string(), pa.binary(): pa.large_binary()}.get(kind, kind)
    whole_column = array.cast(wide).combine_chunks()
    parts = [whole_column.take(order[i : i + SORT_SLICE]).cast(kind) for i in range(0, len(order), SORT_SLICE)]
    return pa.chunked_array(parts, kind)


def read_vectors(
    con: duckdb.DuckDBPyConnection,
    segment_ids: Sequence[str],
    model: str,
    window_days: int | None,
    dim: int,
    batch_rows: int = 65_536,
    out: Any = None,
) -> Any:
    """The vectors of ``segment_ids`` (a run's rows, ``load_run_input``), row i for segment i, read in
    one unordered pass over the run's window into ``out`` (default: a new array; a full run past
    ``vectors_in_memory`` passes a ``lazy_vectors.FileVectors``). Segments stored since those rows were
    read are not this run's and are skipped; a row left without a vector is an error, never a zero vector."""
    ids = whole(to_arrow(segment_ids, pa.string(), len(segment_ids)))
    out = np.empty((len(ids), dim), np.float32) if out is None else out
    filled = np.zeros(len(ids), dtype=bool)
    params = [model, window_days or None, window_days or None]
    find = row_finder(con, ids)
    for batch in store_arrow_reader(con, sql("run_input_vectors"), params, batch_rows):
        rows = find(batch.column("segment_id"), batch.column("segment_key"))
        ours = rows >= 0
        values = batch.column("vector").flatten().to_numpy(zero_copy_only=False).reshape(batch.num_rows, -1)
        out[rows[ours]] = values[ours]
        filled[rows[ours]] = True
    _all_read(filled, "vector")
    return out


def read_texts(
    con: duckdb.DuckDBPyConnection,
    segment_ids: Sequence[str],
    model: str,
    window_days: int | None,
    batch_rows: int = 65_536,
    directory: str | None = None,
) -> FileTexts:
    """The texts of ``segment_ids`` (a run's rows) in one unordered pass into a scratch file
    (``columns.FileTexts``): a full run past ``vectors_in_memory`` reads them there in blocks."""
    ids = whole(to_arrow(segment_ids, pa.string(), len(segment_ids)))
    out = FileTexts(len(ids), directory)
    find = row_finder(con, ids)
    for batch in store_arrow_reader(
        con, sql("run_input_texts"), [model, window_days or None, window_days or None], batch_rows
    ):
        rows = find(batch.column("segment_id"), batch.column("segment_key"))
        ours = rows >= 0
        out[rows[ours]] = batch.column("text").filter(pa.array(ours))
    _all_read(out.placed(), "text")
    return out


def _all_read(filled: np.ndarray, what: str) -> None:
    if not filled.all():
        raise StoreError(
            f"run input changed while loading: {int((~filled).sum())} of {len(filled)} segments lost their {what}"
        )


Finder = Callable[[pa.Array, pa.Array], np.ndarray]  # (batch ids, their hashes) → run row of each, -1 if none


def row_finder(con: duckdb.DuckDBPyConnection, ids: pa.Array) -> Finder:
    """Where each segment of a batch sits among the run's ``ids``, by DuckDB's 64-bit ``hash`` of the id
    (the batch brings it along): a binary search in the run's sorted hashes, then the ids compared.
    ``pc.index_in`` against 10M ids rebuilt its hash set for every batch, 1.8–3.4 s each (~150 batches).
    Where two ids share a hash, it is the exact lookup by id after all."""

    def by_id(batch_ids: pa.Array, _: pa.Array | None = None) -> np.ndarray:
        at = pc.index_in(batch_ids, value_set=ids)
        return pc.fill_null(at, -1).to_numpy(zero_copy_only=False).astype(np.int64)

    with registered(con, run_ids=pa.table({"segment_id": ids, "row": pa.array(np.arange(len(ids)))})):
        tbl = fetch_arrow(con.execute(sql("run_id_hashes")))
    keys = np.empty(len(ids), np.uint64)
    keys[tbl.column("row").to_numpy()] = tbl.column("segment_key").to_numpy()
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    if not len(ids) or (ranked[1:] == ranked[:-1]).any():
        return by_id

    def by_hash(batch_ids: pa.Array, batch_keys: pa.Array) -> np.ndarray:
        wanted = batch_keys.to_numpy(zero_copy_only=False).astype(np.uint64)
        at = np.minimum(np.searchsorted(ranked, wanted), len(ranked) - 1)
        rows = np.where(ranked[at] == wanted, order[at], -1)
        hit = rows >= 0
        same = pc.equal(ids.take(pa.array(rows[hit])), batch_ids.filter(pa.array(hit)))
        return rows if pc.all(same).as_py() is not False else by_id(batch_ids)  # another id hashed like ours

    return by_hash


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
    transaction lets a failed statement be rolled back before they are unregistered."""
    tables = {
        "snapshots": arrow_rows(ThemeSnapshot, result.themes, run_id),
        "assigned": result.assignments,  # the run id is a parameter: a column of it would repeat it 10M times
        "events": arrow_rows(ThemeEvent, result.events, run_id),
        "state": arrow_rows(KnownTheme, result.theme_state or []),
        "area_state": arrow_rows(KnownArea, result.area_state or []),
        "calls": pa.Table.from_pylist([{**c, "run_id": run_id} for c in result.llm_calls]),
    }
    tables = {name: table for name, table in tables.items() if table.num_columns}
    with lake.cursor(con) as cur, registered(cur, **tables), transaction(cur):
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
        con.execute(sql("log_changed_assignments"), [run_id])
        con.execute(sql("log_removed_assignments"), [run_id])
        con.execute(sql("apply_removed_assignments"))
        con.execute(sql("apply_changed_assignments"), [run_id])
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
    # segment_id → (theme_id, content_hash) last run; a ``columns.StoredMap`` when loaded from the store
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
    """The themes table, the latest successful run's assignment and stats, the last full run's end
    and the effective curation."""
    known = {}
    for row in con.execute(sql("known_themes")).fetchall():
        centroid = np.asarray(row[4], np.float32) if row[4] is not None else None
        known[row[0]] = KnownTheme(row[0], row[1], row[2], row[3], centroid, *row[5:])
    last = latest_run(con)
    previous: Mapping[str, Any] = {}
    previous_type: Mapping[str, Any] = {}
    previous_sentiment: Mapping[str, Any] = {}
    names = {}
    if last is not None:  # one Arrow table, three views on it (``StoredMap``): no object per segment
        rows = store_arrow_reader(con, sql("current_assignments")).read_all()
        sid = rows.column("segment_id")
        previous = StoredMap(sid, [rows.column("theme_id"), rows.column("content_hash")])
        previous_type = previous.view([rows.column("feedback_type")])
        previous_sentiment = previous.view([rows.column("sentiment"), rows.column("sentiment_score")])
        named = con.execute(sql("previous_names"), [last.run_id]).fetchall()
        names = {tid: ThemeName(lab, desc or "", list(kw or []), list(qs or [])) for tid, lab, desc, kw, qs in named}
    full = _first(con, "last_full_run")
    return ThemeState(
        known=known,
        previous=previous,
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
        previous_type=previous_type,
        previous_sentiment=previous_sentiment,
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
