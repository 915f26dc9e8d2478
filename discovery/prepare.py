"""The prepare step: every feedback item without segments is cut into segments, redacted and hashed.

Its own module because it writes (discovery itself only reads): it streams the items that have no
segments yet and commits their segments in batches of whole items (``prepare_segments``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from typing import Any

import duckdb

from painpoints.discovery import lake, segmentstore, store
from painpoints.discovery.normalize import content_hash, segment_feedback
from painpoints.discovery.settings import Settings

INSERT_ROWS = 10_000  # segments per insert
PREPARE_COMMIT_ROWS = 200_000  # segments per transaction of prepare_segments


def prepare_segments(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    """Segment and redact every feedback item that has no segments yet; returns segments written.

    Commits every ``PREPARE_COMMIT_ROWS`` segments, always after a whole item: a crash keeps what was
    committed and loses no item (a rerun segments exactly the items without segments), and DuckDB's
    memory follows the batch, not the store (one 10M-segment transaction ran out of a 1 GB
    ``memory_limit`` at COMMIT, ``benchmarks/scale.py``).

    On a DuckLake it stays one transaction: the items are read in one snapshot, and another writer
    may commit between batches (a second prepare, an ingest replacing an item), which later batches
    would not see; one transaction conflicts with such a writer instead and is run again
    (``store.retry_conflicts``). A lake keeps no index in memory and writes its data files as it goes."""
    written = 0
    checkpoints = store.Checkpoints(con, PREPARE_COMMIT_ROWS)
    per_commit = None if lake.is_lake_connection(con) else PREPARE_COMMIT_ROWS
    with closing(segmentstore.unsegmented_feedback(con)) as items:
        while True:
            more, n = _prepare_batch(con, settings, items, per_commit)
            written += n
            checkpoints.wrote(n)
            if not more:
                checkpoints.now()
                return written


def _prepare_batch(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    items: Iterator[tuple[str, str, str]],
    per_commit: int | None,
) -> tuple[bool, int]:
    """One transaction of ``prepare_segments``: the segments of the next items, until at least
    ``per_commit`` are written (True: items are left; None: no limit) or the items run out (False)."""
    rows: list[dict[str, Any]] = []
    written = 0
    with store.transaction(con):
        for fid, kind, text in items:
            for seg in segment_feedback(
                kind, text, settings.max_segment_chars, settings.redact, settings.segment_at_contrast
            ):
                rows.append(
                    {
                        "segment_id": f"{fid}:{seg.position:03d}",
                        "feedback_id": fid,
                        "segment": seg.position,
                        "text": seg.text,
                        "original_text": seg.original_text if settings.store_original else None,
                        "content_hash": content_hash(seg.text),
                        "pii_found": seg.pii_found,
                    }
                )
            if len(rows) >= INSERT_ROWS:
                written += segmentstore.insert_segments(con, rows)
                rows = []
                if per_commit is not None and written >= per_commit:
                    return True, written
        written += segmentstore.insert_segments(con, rows)
    return False, written
