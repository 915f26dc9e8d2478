"""Segments and the embeddings cache in DuckDB: the feedback a prepare step still has to segment and
the segments it writes, the texts with no cached vector for a model, the vectors the embed step
writes, and the cache lookup a run reads them back through.

Split from ``discovery.store`` (connection, schema migrations, named SQL, queries), whose helpers it
uses, to keep that module within the size limit; the SQL is in ``sql/queries/``. ``discovery.prepare``
and the embed steps (``discovery.embed_cache``, ``discovery.ray_engine``) call these inside their own
transactions; ``discovery.runstore`` writes a run's new vectors and reads its vectors back through them.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from painpoints.discovery.store import append, fetch_arrow, registered, scalar, scanning, sql, streamed


# --------------------------------------------------------------------------------------- segments
def unsegmented_feedback(con: duckdb.DuckDBPyConnection) -> Generator[tuple[str, str, str], None, None]:
    """``(feedback_id, kind, text)`` of feedback that has no segments yet, streamed (``streamed``):
    ``con`` may write and commit the segments meanwhile. In no particular order: an ORDER BY made
    DuckDB sort every item's text before the first row, and a 10M-item store ran out of memory."""
    return streamed(con, sql("unsegmented_feedback"))


def insert_segments(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    schema = pa.schema(
        [
            ("segment_id", pa.string()),
            ("feedback_id", pa.string()),
            ("segment", pa.int32()),
            ("text", pa.string()),
            ("original_text", pa.string()),
            ("content_hash", pa.string()),
            ("pii_found", pa.list_(pa.string())),
        ]
    )
    append(con, "segments", pa.Table.from_pylist(rows, schema=schema))
    return len(rows)


# ------------------------------------------------------------------------------------- embeddings
def texts_to_embed(con: duckdb.DuckDBPyConnection, model: str) -> list[tuple[str, str]]:
    """``(content_hash, text)`` of segments with no cached vector for ``model``: the cache lookup."""
    return list(streamed(con, sql("texts_to_embed"), [model]))


def stream_texts_to_embed(con: duckdb.DuckDBPyConnection, model: str) -> tuple[int, Iterator[tuple[str, str]]]:
    """How many texts ``texts_to_embed`` has and those texts streamed (``streamed``), in the same
    order: the embed step writes each chunk on ``con`` while the rest is read."""
    return scalar(con, sql("count_texts_to_embed"), [model]), streamed(con, sql("texts_to_embed"), [model])


def insert_embeddings(con: duckdb.DuckDBPyConnection, model: str, hashes: Sequence[str], vectors: np.ndarray) -> int:
    """Cache ``vectors`` (row i: the text of ``hashes[i]``) for ``model`` where the cache has none; returns
    how many were offered. Each insert checks every cached hash of the model: under the scan limit, the
    pool emptied after (``store.scanning``). The check of a run's few label phrases in its write left
    226 MB of the 10M-segment cache's hashes in DuckDB's pool (2026-12-05)."""
    if not len(hashes):
        return 0
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).ravel())
    batch = pa.table(
        {
            "content_hash": pa.array(list(hashes), pa.string()),
            "vector": pa.ListArray.from_arrays(
                pa.array(np.arange(0, len(flat) + 1, vectors.shape[1], dtype=np.int32)), flat
            ),
        }
    )
    with registered(con, batch=batch), scanning(con):  # a scan of every cached hash: its blocks are not kept
        con.execute(sql("insert_embeddings"), {"model": model})
    return len(hashes)


def cached_vectors(con: duckdb.DuckDBPyConnection, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
    """The cached vectors among ``hashes`` for ``model``: one scan of the cache (``store.scanning``)."""
    if not hashes:
        return {}
    keys = pa.table({"content_hash": pa.array(sorted(set(hashes)), pa.string())})
    with registered(con, keys=keys), scanning(con):  # a scan of the whole cache: its blocks are not kept
        tbl = fetch_arrow(con.execute(sql("cached_vectors"), [model]))
    hashes = tbl.column("content_hash").to_pylist()
    if not hashes:
        return {}
    flat = tbl.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    vectors = np.asarray(flat, np.float32).reshape(len(hashes), -1)  # no Python float per element
    return dict(zip(hashes, vectors, strict=True))


def segment_texts(con: duckdb.DuckDBPyConnection, hashes: Sequence[str]) -> dict[str, str]:
    """The text of each of ``hashes`` that a segment has (``columns.StoredTexts``' lookup)."""
    if not hashes:
        return {}
    keys = pa.table({"content_hash": pa.array(sorted(set(hashes)), pa.string())})
    with registered(con, keys=keys), scanning(con):  # a join with every segment: its blocks are not kept
        tbl = fetch_arrow(con.execute(sql("segment_texts")))
    return dict(zip(tbl.column("content_hash").to_pylist(), tbl.column("text").to_pylist(), strict=True))


def feedback_index(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """``(feedback_id, external_id, text)`` of all feedback, in id order."""
    return con.execute("SELECT feedback_id, external_id, text FROM feedback ORDER BY feedback_id").fetchall()
