"""Ingest writes to DuckDB: feedback rows, rejected rows, replacements and deletions from live
sources, their sync cursors and the files already pulled.

Split from ``discovery.store`` (connection, schema, queries), whose helpers it
uses; ``discovery.ingest`` calls these inside its one transaction per file or pull.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from painpoints.discovery.sortedkeys import SortedKeys, SortedMap, from_binary
from painpoints.discovery.store import StoreError, append, registered, scalar, scanning, sql, utc_now

ID_BYTES, HASH_BYTES = 10, 20  # a feedback id is 20 hex digits of SHA-1, a content hash all 40

FEEDBACK_SCHEMA = pa.schema(
    [
        ("feedback_id", pa.string()),
        ("source", pa.string()),
        ("kind", pa.string()),
        ("external_id", pa.string()),
        ("text", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("author", pa.string()),
        ("rating", pa.float64()),
        ("metadata", pa.string()),
        ("content_hash", pa.string()),
    ]
)
# the feedback table's columns in its order, from FEEDBACK_SCHEMA's (``store.append`` inserts by position)
FEEDBACK_COLUMNS = (
    "feedback_id, source, kind, external_id, text, created_at, author, rating, metadata::JSON AS metadata, "
    "content_hash, current_timestamp::TIMESTAMP AS ingested_at"
)
REJECT_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("reason", pa.string()),
        ("raw", pa.string()),
        ("file", pa.string()),
        ("line", pa.int64()),
    ]
)


def stored_keys(con: duckdb.DuckDBPyConnection, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Feedback ids and content hashes stored for ``source`` (row-aligned), as raw bytes (``sortedkeys``:
    30 B an item), each filled into one array as it is read (joining the pieces after would hold every
    key twice). Read under the scan limit, the pool emptied after (``store.scanning``): the two columns of
    a 10M-item source are ~600 MB to DuckDB."""
    n = scalar(con, "SELECT count(*) FROM feedback WHERE source = ?", [source])
    ids, hashes = np.empty(n, f"S{ID_BYTES}"), np.empty(n, f"S{HASH_BYTES}")
    at = 0
    with scanning(con):
        reader = con.execute(
            "SELECT unhex(feedback_id) AS id, unhex(content_hash) AS hash FROM feedback WHERE source = ?", [source]
        ).to_arrow_reader(100_000)
        for batch in reader:  # the transaction's snapshot: the count holds
            ids[at : at + len(batch)] = from_binary(batch.column(0), ID_BYTES)
            hashes[at : at + len(batch)] = from_binary(batch.column(1), HASH_BYTES)
            at += len(batch)
    if at != n:  # cannot happen within one transaction
        raise StoreError(f"{source}: counted {n} stored items, read {at}")
    return ids, hashes


def existing_keys(con: duckdb.DuckDBPyConnection, source: str) -> tuple[SortedKeys, SortedKeys]:
    """The feedback ids and the content hashes stored for ``source``, each a set (file ingest's dedupe)."""
    ids, hashes = stored_keys(con, source)
    return SortedKeys(ID_BYTES, ids), SortedKeys(HASH_BYTES, hashes)


def insert_feedback(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> int:
    """Insert already-deduplicated feedback rows; returns how many were stored."""
    if not rows:
        return 0
    for r in rows:
        r["metadata"] = json.dumps(r["metadata"], ensure_ascii=False, default=str)
    append(con, "feedback", pa.Table.from_pylist(rows, schema=FEEDBACK_SCHEMA), FEEDBACK_COLUMNS)
    return len(rows)


def insert_rejected(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    with registered(con, batch=pa.Table.from_pylist(rows, schema=REJECT_SCHEMA)):
        con.execute(sql("insert_rejected"))
    return len(rows)


def stored_hashes(con: duckdb.DuckDBPyConnection, source: str) -> SortedMap:
    """feedback_id → content hash of everything stored for ``source`` (for replace-mode ingest)."""
    return SortedMap(*stored_keys(con, source))


def replace_feedback(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> None:
    """A newer version of a stored item (same id): update it and drop its segments, so the next run
    re-cuts, re-embeds and re-assigns it. Earlier runs' assignments stay as history."""
    con.execute(
        sql("replace_feedback"),
        [
            row["text"],
            row["created_at"],
            row["author"],
            row["rating"],
            json.dumps(row["metadata"], ensure_ascii=False, default=str),
            row["content_hash"],
            utc_now(),
            row["feedback_id"],
        ],
    )
    con.execute("DELETE FROM segments WHERE feedback_id = ?", [row["feedback_id"]])


def delete_feedback(con: duckdb.DuckDBPyConnection, ids: Sequence[str]) -> int:
    """Remove items deleted at the source, with their segments (their text must not linger)."""
    for fid in ids:
        con.execute("DELETE FROM segments WHERE feedback_id = ?", [fid])
        con.execute("DELETE FROM feedback WHERE feedback_id = ?", [fid])
    return len(ids)


def get_cursor(con: duckdb.DuckDBPyConnection, source: str) -> str | None:
    cursor: str | None = scalar(con, "SELECT cursor FROM sync_state WHERE source = ?", [source])
    return cursor


def set_cursor(con: duckdb.DuckDBPyConnection, source: str, cursor: str | None, detail: dict[str, Any]) -> None:
    con.execute(sql("set_cursor"), [source, cursor, utc_now(), json.dumps(detail, default=str)])


def database_path(con: duckdb.DuckDBPyConnection) -> str | None:
    """The file behind the connection's current database (None in memory)."""
    path: str | None = scalar(
        con, "SELECT path FROM duckdb_databases() WHERE database_name = current_database() AND NOT internal"
    )
    return path or None


def file_ingested(con: duckdb.DuckDBPyConnection, source: str, path: str, sha256: str) -> bool:
    return (
        scalar(
            con,
            "SELECT count(*) FROM ingested_files WHERE source = ? AND path = ? AND sha256 = ?",
            [source, path, sha256],
        )
        > 0
    )


def record_file(
    con: duckdb.DuckDBPyConnection, source: str, path: str, sha256: str, size: int, counts: dict[str, Any]
) -> None:
    con.execute(sql("record_file"), [source, path, sha256, size, json.dumps(counts), utc_now()])
