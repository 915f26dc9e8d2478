"""Ingest: connector items → ``feedback`` / ``rejected_rows``, idempotently and atomically.

A feedback item's id is a hash of (source, external id); without an external id the content hash
stands in. An item is a duplicate when its id, or its content, is already stored for the same source.
All rows of one ingest call commit together: a crash leaves the database as it was before the call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

from painpoints.connectors.base import ColumnMap, FeedbackRecord, Item, Rejected
from painpoints.connectors.files import FileConnector
from painpoints.connectors.speakers import SpeakerRules
from painpoints.connectors.transcripts import TranscriptConnector
from painpoints.discovery import ingeststore, store
from painpoints.discovery.normalize import content_hash
from painpoints.discovery.redact import find_names, redact
from painpoints.discovery.settings import Settings
from painpoints.discovery.sortedkeys import SortedKeys, SortedMap, from_hex

CHUNK = 5_000
# A whole file is one transaction; past this DuckDB writes it to disk instead of holding it in memory
# (measured: a 2 GB CSV otherwise peaks at 4.1 GB RSS, see benchmarks/RESULTS.md).
INGEST_MEMORY_LIMIT = "1GB"


@dataclass
class IngestCounts:
    """``read == stored + updated + deleted + duplicates + rejected`` always holds."""

    read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    updated: int = 0
    deleted: int = 0
    skipped_files: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for people: the four contract counts, then what else happened, if anything."""
        extra = [
            f"{name.replace('_', ' ')} {n}"
            for name, n in (("updated", self.updated), ("deleted", self.deleted), ("files_skipped", self.skipped_files))
            if n
        ]
        return ", ".join(
            [f"read {self.read}, stored {self.stored}, duplicates {self.duplicates}, rejected {self.rejected}", *extra]
        )

    def as_dict(self) -> dict[str, int]:
        """The integer counts (Prefect task results; ``ingested_files.counts`` keeps the reasons too)."""
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}

    def add(self, other: IngestCounts) -> None:
        self.read += other.read
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.updated += other.updated
        self.deleted += other.deleted
        self.skipped_files += other.skipped_files
        for k, v in other.reasons.items():
            self.reasons[k] = self.reasons.get(k, 0) + v


def feedback_id(source: str, external_id: str) -> str:
    return hashlib.sha1(f"{source}\x1f{external_id}".encode()).hexdigest()[:20]


def connector_for(
    path: str | Path,
    source: str,
    kind: str,
    columns: ColumnMap = ColumnMap(),
    customer_roles: Iterable[str] | None = None,
    speakers: SpeakerRules | None = None,
) -> Iterable[Item]:
    """The connector that reads ``path`` as ``kind``; ``customer_roles`` names the speakers whose
    turns are kept in transcripts (default: customer, user, USR, caller, …); ``speakers`` (agent and
    customer rosters, company names) tells agent from customer when speakers are named by person and
    takes precedence (``SpeakerRules.build`` folds ``customer_roles`` into it)."""
    if kind == "transcript":
        if speakers is not None:
            return TranscriptConnector(Path(path), source, columns, speakers=speakers)
        if customer_roles:
            return TranscriptConnector(
                Path(path), source, columns, customer_roles=frozenset(r.strip().lower() for r in customer_roles)
            )
        return TranscriptConnector(Path(path), source, columns)
    return FileConnector(Path(path), source, kind, columns)


def ingest_items(
    con: duckdb.DuckDBPyConnection,
    items: Iterable[Item],
    replace: bool = False,
    before_commit: Callable[[duckdb.DuckDBPyConnection, IngestCounts], None] | None = None,
    *,
    keep_original: bool,
) -> IngestCounts:
    """Store records, skip duplicates, record rejections; one transaction for the whole stream.

    ``replace`` (live APIs, where the source's id is authoritative): a record whose id is stored with
    different text replaces it (its segments are dropped, so the next run re-cuts and re-embeds it),
    and a record with ``metadata['status'] == 'deleted'`` removes it. ``before_commit`` runs inside
    the same transaction with the counts (it stores the connector's cursor or the file's hash), so the
    data and the position it was read up to commit together or not at all. ``keep_original`` (required,
    so no caller can forget the privacy setting) ``=False``
    (setting ``store_original = false``) stores the text PII-redacted, so unredacted text is never stored."""
    batch = _Batch(con)
    take = _replacing(con, batch) if replace else _deduping(con, batch)
    with store.transaction(con):
        for item in items:
            batch.counts.read += 1
            if isinstance(item, Rejected):
                batch.reject(item)
            else:
                take(item, _row(item, keep_original))
            batch.flush_when_full()
        batch.flush()
        if before_commit is not None:
            before_commit(con, batch.counts)
    return batch.counts


class _Batch:
    """Rows and rejections waiting to be inserted, written every ``CHUNK`` items, and the counts."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.counts = con, IngestCounts()
        self.admit: Callable[[list[dict]], list[dict]] | None = None  # the rows that are not duplicates (files)
        self.records: list[dict] = []
        self.rejects: list[dict] = []

    def reject(self, item: Rejected) -> None:
        self.counts.rejected += 1
        key = item.reason.split(":")[0]
        self.counts.reasons[key] = self.counts.reasons.get(key, 0) + 1
        self.rejects.append(
            {"source": item.source, "reason": item.reason, "raw": item.raw, "file": item.file, "line": item.line}
        )

    def flush_when_full(self) -> None:
        if len(self.records) + len(self.rejects) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.admit is not None and self.records:
            kept = self.admit(self.records)
            self.counts.duplicates += len(self.records) - len(kept)
            self.records[:] = kept
        self.counts.stored += ingeststore.insert_feedback(self.con, self.records)
        ingeststore.insert_rejected(self.con, self.rejects)
        self.records.clear()
        self.rejects.clear()


Take = Callable[[FeedbackRecord, dict], None]


class _NewOnly:
    """Files: an item whose id or content is already stored for its source, or came earlier in this
    ingest, is a duplicate. Decided a batch at a time (``admit``, when the batch is written): each
    source's stored keys are read once, as sorted raw bytes (``sortedkeys``, 30 B a stored item; they
    were ~177 B as Python ints, 1.77 GB for a 10M-item source), and the batch is checked against them
    with one binary search per key."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.known: dict[str, tuple[SortedKeys, SortedKeys]] = {}

    def admit(self, rows: list[dict]) -> list[dict]:
        kept: list[dict] = []
        for source in dict.fromkeys(r["source"] for r in rows):  # one source per file, in practice
            if source not in self.known:
                self.known[source] = ingeststore.existing_keys(self.con, source)
            kept += self._new(self.known[source], [r for r in rows if r["source"] == source])
        return kept

    @staticmethod
    def _new(known: tuple[SortedKeys, SortedKeys], rows: list[dict]) -> list[dict]:
        ids, hashes = known
        id_keys = from_hex([r["feedback_id"] for r in rows], ingeststore.ID_BYTES)
        hash_keys = from_hex([r["content_hash"] for r in rows], ingeststore.HASH_BYTES)
        stored = ids.contains(id_keys) | hashes.contains(hash_keys)
        seen_ids: set[str] = set()
        seen_hashes: set[str] = set()
        new = np.zeros(len(rows), bool)
        for i, (row, old) in enumerate(zip(rows, stored.tolist(), strict=True)):
            if old or row["feedback_id"] in seen_ids or row["content_hash"] in seen_hashes:
                continue
            seen_ids.add(row["feedback_id"])
            seen_hashes.add(row["content_hash"])
            new[i] = True
        ids.add(id_keys[new])
        hashes.add(hash_keys[new])
        return [row for row, keep in zip(rows, new.tolist(), strict=True) if keep]


def _deduping(con: duckdb.DuckDBPyConnection, batch: _Batch) -> Take:
    """Files: every row goes to the batch, which keeps the new ones when it is written (``_NewOnly``)."""
    batch.admit = _NewOnly(con).admit

    def take(item: FeedbackRecord, row: dict) -> None:
        batch.records.append(row)

    return take


def _replacing(con: duckdb.DuckDBPyConnection, batch: _Batch) -> Take:
    """Live APIs: the source's id decides; changed text replaces the stored item, a deleted status
    removes it, unchanged text is a duplicate."""
    stored: dict[str, SortedMap] = {}

    def take(item: FeedbackRecord, row: dict) -> None:
        if item.source not in stored:
            stored[item.source] = ingeststore.stored_hashes(con, item.source)
        hashes = stored[item.source]
        fid, old = row["feedback_id"], hashes.get(row["feedback_id"])
        if item.metadata.get("status") == "deleted":
            batch.counts.deleted += ingeststore.delete_feedback(con, [fid]) if old else 0
            batch.counts.duplicates += 0 if old else 1
            hashes.set(fid, None)
        elif old is None:
            hashes.set(fid, row["content_hash"])
            batch.records.append(row)
        elif old != row["content_hash"]:
            batch.flush()  # an earlier version of this id may still be in the batch
            ingeststore.replace_feedback(con, row)
            hashes.set(fid, row["content_hash"])
            batch.counts.updated += 1
        else:
            batch.counts.duplicates += 1

    return take


def _row(item: FeedbackRecord, keep_original: bool = True) -> dict:
    chash = content_hash(item.text)
    ext = item.external_id or chash
    text = item.text
    if not keep_original:
        names = find_names(text, standalone=item.kind == "transcript")
        text = "\n".join(redact(line, names)[0] for line in text.split("\n"))
    return {
        "feedback_id": feedback_id(item.source, ext),
        "source": item.source,
        "kind": item.kind,
        "external_id": ext,
        "text": text,
        "created_at": item.created_at,
        "author": item.author,
        "rating": item.rating,
        "metadata": item.metadata,
        "content_hash": chash,
    }


@contextmanager
def ingest_session(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The connection every ingest path writes through: waits ``lock_wait`` for another writer and
    bounds DuckDB's memory (a whole file is one transaction), then closes."""
    with store.connect(settings.db, lock_wait=settings.lock_wait, memory_limit=INGEST_MEMORY_LIMIT) as con:
        yield con


def ingest_paths(
    settings: Settings,
    paths: Iterable[str | Path],
    source: str,
    kind: str,
    columns: ColumnMap = ColumnMap(),
    customer_roles: Iterable[str] | None = None,
    speakers: SpeakerRules | None = None,
) -> IngestCounts:
    """Ingest files into ``settings.db``; each file commits on its own. The one entry for file
    ingest: the CLI, the Prefect ingest flow and the demo call it, so ``store_original = false``
    (text stored PII-redacted) and ``lock_wait`` hold on every path. ``customer_roles`` and
    ``speakers`` apply to transcripts (see ``connector_for``)."""
    total = IngestCounts()
    with ingest_session(settings) as con:
        for path in paths:
            total.add(
                store.retry_conflicts(  # a file is read again if its commit lost a race (DuckLake writers)
                    lambda path=path: ingest_items(  # type: ignore[misc]
                        con,
                        connector_for(path, source, kind, columns, customer_roles, speakers),
                        keep_original=settings.store_original,
                    )
                )
            )
    return total
