"""A discovery run's input out of the store: the window's segments in segment order, their vectors
and, past ``vectors_in_memory``, their vectors and texts in scratch files read in blocks.

Split from ``discovery.runstore`` (the run log, theme state, the write of a result); SQL in
``sql/queries/run.sql``. Every read here is one unordered pass, each row placed by its segment id or
content hash (``KeyIndex``): DuckDB's sorts of the window ran out of a 200 MB ``memory_limit`` at 600k
segments. (A big run's segment ids alone DuckDB does sort, spilling: ``run_ids_in_order``.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from painpoints.discovery import lastrun, segmentstore
from painpoints.discovery.columns import (
    ArrowColumn,
    FileTexts,
    GroupCodes,
    StoredTexts,
    as_datetime64,
    coded,
    group_codes,
)
from painpoints.discovery.instants import Instants
from painpoints.discovery.lastrun import LastRun
from painpoints.discovery.lazy_vectors import StoredVectors
from painpoints.discovery.scratch import RowFile
from painpoints.discovery.store import (
    SCAN_MEMORY,
    StoreError,
    fetch_arrow,
    memory_at_most,
    registered,
    scanning,
    sql,
    transaction,
)
from painpoints.discovery.store import arrow_reader as store_arrow_reader


@dataclass
class RunInput:
    """Everything a discovery run works on, aligned by position. Loaded from the store, the columns
    are ``columns.ArrowColumn``s (lists in tests); ``vectors`` is an array, or a ``StoredVectors`` that
    reads rows when first indexed (index it, do not iterate it)."""

    segment_id: Sequence[str]
    feedback_id: Sequence[str]
    source: Sequence[str]
    created_at: Sequence[datetime | None]  # loaded: ``instants.Instants``, 4 bytes a row
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
        columns: dict[str, Any] = by_segment_id(reader, reader.schema, lazy_texts, con)  # Arrow, not Python objects
        if lazy_texts:
            columns["text"] = StoredTexts(columns["content_hash"], partial(segmentstore.segment_texts, con))
        if "rating" in columns and columns["rating"].array.null_count == n:  # an unrated window: 8 B a row of nulls
            columns["rating"] = []
        instants = Instants.of(as_datetime64(columns["created_at"]))  # 4 bytes a row, not 8
        if instants is not None:
            columns["created_at"] = instants
        if len(columns["segment_id"]) != n:  # cannot happen within one transaction
            raise StoreError(
                f"run input changed while loading: counted {n} segments, read {len(columns['segment_id'])}"
            )
        if vectors:
            array = read_vectors(con, columns["content_hash"], model, dim or 0, batch_rows)
            return RunInput(**columns, vectors=array)
    lazy = StoredVectors(
        columns["content_hash"],
        dim or 0,
        model,
        partial(segmentstore.cached_vectors, con),
        scan=partial(scanned_vectors, con, batch_rows=batch_rows),
    )
    return RunInput(**columns, vectors=lazy)  # type: ignore[arg-type]  # an array stand-in


SORT_SLICE = 1 << 20  # rows per chunk of a column put in segment order


def by_segment_id(
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    small: bool = False,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, ArrowColumn]:
    """The run input's columns in segment_id order (byte order, as DuckDB's ``ORDER BY``).

    Sorted here rather than by the query: DuckDB's sort of the window ran out of a 200 MB
    ``memory_limit`` at 600k segments (10M would need several GB of its memory). Each batch's columns
    are copied out of it as it comes: a column of a batch DuckDB hands over keeps the whole batch
    alive, so the unsorted input was freed only once every column was sorted (twice the input at the
    load's peak). Now a column's unsorted copy goes as soon as it is sorted: the driver holds the
    input plus one column in flight, that column in one piece (``take`` on a chunked array joins its
    chunks for every call), with 64-bit string offsets (10M texts may pass 2 GB), taken in slices of
    ``SORT_SLICE`` rows. ``small`` (past ``texts_in_memory``): ``sorted_on_disk``, whose ids DuckDB sorts
    on ``con``."""
    if small:
        if con is None:
            raise ValueError("sorting on disk needs a DuckDB connection (con)")
        return sorted_on_disk(batches, schema, con)
    parts: dict[str, list[pa.Array]] = {name: [] for name in schema.names}
    for batch in batches:
        for name in schema.names:
            parts[name].append(pa.concat_arrays([batch.column(name)]))  # a copy: frees the batch
    order = pc.sort_indices(pa.chunked_array(parts["segment_id"], schema.field("segment_id").type))
    return {
        name: ArrowColumn(_taken(pa.chunked_array(parts.pop(name), schema.field(name).type), order))
        for name in schema.names
    }


def sorted_on_disk(
    batches: Iterable[pa.RecordBatch],
    schema: pa.Schema,
    con: duckdb.DuckDBPyConnection,
    directory: str | None = None,
) -> dict[str, ArrowColumn]:
    """``by_segment_id`` past ``texts_in_memory``, kept as such a run keeps its input: segment ids and
    content hashes in scratch files (``ArrowColumn`` over a ``RowFile``: read in full by the load's
    passes and by the write; the stages ask last run's state by position, ``lastrun.LastRun``, and read
    a hash only for the rows whose text or vector they fetch), feedback ids as codes of equal ids (only
    counted: ``rank``, ``runs.stats``), sources as codes into the few sources.

    Every column goes to a scratch file of its own as its batches come; DuckDB sorts the ids from theirs
    (``_ids_in_order``), and each other column is then put in their order from its file, a
    ``SORT_SLICE`` of rows at a time (each slice one read of the batches holding its rows). The driver
    holds the order, and one fixed-width or coded column at a time, not the whole input with a sorted
    column in flight: that was ~1.2 GB above the load's start at 3M segments (2026-12-04), ~130 bytes a
    segment; nor every id twice while they were sorted in memory (~0.6 GB at 10M)."""
    files = {name: RowFile.writer(schema.field(name).type, directory) for name in schema.names}
    for batch in batches:
        for name, file in files.items():
            file.append(batch.column(name))
    ids_file, order = _ids_in_order(files.pop("segment_id"), con, directory)
    columns = {"segment_id": ArrowColumn.of_file(ids_file)}
    while files:
        name, file = files.popitem()  # each unsorted file goes once its column is in order
        if name == "content_hash":
            columns[name] = ArrowColumn.of_file(_in_order(file.take, order, directory))
        elif name == "feedback_id":
            codes = item_codes(ids_file, _in_order(file.take, order, directory))
            if codes is None:  # segment ids not of the form item:position: code the ids by value
                codes = group_codes(ArrowColumn(file.whole())).astype(np.int32)[order.to_numpy()]
            columns[name] = GroupCodes(pa.array(codes))
        elif name == "source":
            columns[name] = ArrowColumn(coded(file.whole()).take(order))
        else:
            columns[name] = ArrowColumn(_taken(file.whole(), order))
    return {name: columns[name] for name in schema.names}


def item_codes(sorted_ids: RowFile, items: RowFile) -> np.ndarray | None:
    """Codes of equal feedback items for rows in segment order, from their segment ids and feedback ids
    (both in that order, batch for batch): a code is the count of item changes before the row, read a
    block at a time. Coding the feedback ids by their values read the whole column back and made Arrow's
    table of its distinct values (10M of them at 10M segments): with this the 10M load's peak fell from
    1,836 to 1,356 MB (2026-12-05, with two smaller changes in the same run).

    An item's segments are adjacent in segment order when every segment id is its item's id, ':' and a
    position, and no item id holds a ':' (ingest's ids are hex digests): anything that sorts between two
    ids starting "A:" starts "A:" too. Both are checked on every row; None where one fails."""
    out = np.empty(len(sorted_ids), np.int32)
    last: str | None = None
    code, start = -1, 0
    for ids, block in zip(sorted_ids.batches(), items.batches(), strict=True):
        owner = pc.replace_substring_regex(ids, r":[^:]*$", "")  # the segment id up to its last ':'
        if not pc.all(pc.equal(owner, block)).as_py() or pc.any(pc.match_substring(block, ":")).as_py():
            return None
        if len(block):
            changed = np.empty(len(block), bool)
            changed[0] = block[0].as_py() != last
            changed[1:] = pc.not_equal(block.slice(1), block.slice(0, len(block) - 1)).to_numpy(zero_copy_only=False)
            out[start : start + len(block)] = code + np.cumsum(changed)
            code, last, start = int(out[start + len(block) - 1]), block[-1].as_py(), start + len(block)
    return out


def _ids_in_order(ids: RowFile, con: duckdb.DuckDBPyConnection, directory: str | None) -> tuple[RowFile, pa.Array]:
    """The segment ids (a scratch file, unordered) sorted into a scratch file, and their order (row
    positions in the unordered file). DuckDB sorts them (``run_ids_in_order``: byte order, as
    ``pc.sort_indices``), a batch of the file at a time in and spilling past ``SCAN_MEMORY``: sorted in
    memory, the ids were held twice (the file's batches and one piece of 64-bit offsets to take from)."""
    schema = pa.schema([("key", ids.type), ("row", pa.int64())])

    def numbered() -> Iterator[pa.RecordBatch]:
        start = 0
        for block in ids.batches():
            yield pa.record_batch([block, pa.array(np.arange(start, start + len(block)))], schema=schema)
            start += len(block)

    out, order = RowFile.writer(ids.type, directory), []
    with (
        memory_at_most(con, SCAN_MEMORY),
        registered(con, run_ids=pa.RecordBatchReader.from_batches(schema, numbered())),
    ):
        for batch in store_arrow_reader(con, sql("run_ids_in_order"), [], SORT_SLICE):
            out.append(batch.column("key"))
            order.append(batch.column("row"))
    out.close()
    return out, pa.concat_arrays(order) if order else pa.array([], pa.int64())


def _in_order(take: Callable[[pa.Array], pa.Array], order: pa.Array, directory: str | None) -> RowFile:
    """A scratch file of ``take(rows)`` for the rows of ``order``, ``SORT_SLICE`` at a time."""
    out: RowFile | None = None
    for i in range(0, len(order), SORT_SLICE):
        part = take(order.slice(i, SORT_SLICE))
        out = out or RowFile.writer(part.type, directory)
        out.append(part)
    out = out or RowFile.writer(pa.string(), directory)
    out.close()
    return out


def _taken(array: pa.ChunkedArray, order: pa.Array) -> pa.ChunkedArray:
    """``array`` in the row order ``order``, as chunks of at most ``SORT_SLICE`` rows of its own type."""
    kind = array.type
    wide = {pa.string(): pa.large_string(), pa.binary(): pa.large_binary()}.get(kind, kind)
    whole_column = array.cast(wide).combine_chunks()
    parts = [whole_column.take(order[i : i + SORT_SLICE]).cast(kind) for i in range(0, len(order), SORT_SLICE)]
    return pa.chunked_array(parts, kind)


def read_vectors(
    con: duckdb.DuckDBPyConnection,
    content_hashes: Sequence[str],
    model: str,
    dim: int,
    batch_rows: int = 16_384,  # 25 MB of 384-d vectors a batch; 65,536 rows added ~190 MB to the load's peak
    out: Any = None,
) -> Any:
    """The vectors of a run's rows (their ``content_hashes``, ``load_run_input``), row i for row i's
    text, in one pass over the model's embedding cache into ``out`` (default: a new array; a full run
    past ``vectors_in_memory`` passes a ``lazy_vectors.FileVectors``). A plain scan, no join: at 10M
    segments the join of segments, items and cache built its hash table on the 15 GB of vectors and ran
    out of the 1 GB ``db_memory_limit``. A row left without a vector is an error, never a zero vector."""
    index = KeyIndex(con, content_hashes)
    out = np.empty((len(index), dim), np.float32) if out is None else out
    filled = np.zeros(len(index), dtype=bool)
    for batch in store_arrow_reader(con, sql("model_vectors"), [model], batch_rows):
        at, rows = index.find(batch.column("key_hash"), batch.column("key_check"))
        values = batch.column("vector").flatten().to_numpy(zero_copy_only=False).reshape(batch.num_rows, -1)
        out[rows] = values[at]
        filled[rows] = True
    _all_read(filled, "vector")
    return out


def scanned_vectors(
    con: duckdb.DuckDBPyConnection,
    content_hashes: Sequence[str],
    model: str,
    dim: int,
    batch_rows: int,
    out: Any = None,
) -> Any:
    """``read_vectors`` under the scan limit, the pool emptied after (``store.scanning``): how an
    incremental run gathers the rows its stages read (``StoredVectors.gather``). Without it, the gather of
    the leftovers to cluster (last run's unassigned, 1M rows at 10M segments) left DuckDB's pool holding up
    to the 1 GB ``db_memory_limit`` of the cache it scanned."""
    with scanning(con):
        return read_vectors(con, content_hashes, model, dim, batch_rows, out)


def read_texts(
    con: duckdb.DuckDBPyConnection, segment_ids: Sequence[str], batch_rows: int = 65_536, directory: str | None = None
) -> FileTexts:
    """The texts of a run's rows (their ``segment_ids``) in one pass over the segments into a scratch
    file (``columns.FileTexts``): a full run past ``vectors_in_memory`` reads them there in blocks."""
    index = KeyIndex(con, segment_ids)
    out = FileTexts(len(index), directory)
    for batch in store_arrow_reader(con, sql("segment_texts_all"), [], batch_rows):
        at, rows = index.find(batch.column("key_hash"), batch.column("key_check"))
        if len(rows):
            out[rows] = batch.column("text").take(pa.array(at))
    _all_read(out.placed(), "text")
    return out


def load_last_run(
    con: duckdb.DuckDBPyConnection, segment_ids: Sequence[str], hashes: Sequence[str], batch_rows: int = 65_536
) -> tuple[LastRun, LastRun, LastRun]:
    """Last run's theme, type and sentiment of the run's rows (its ``segment_ids``, with their content
    ``hashes``) and whether each text is unchanged since: one unordered pass over last run's assignment,
    each row placed by segment id (``lastrun``: ``ThemeState.previous`` and its two views)."""
    index = KeyIndex(con, segment_ids)
    texts = np.stack(key_hashes(con, hashes), axis=1)  # each row's text by its content hash's two hashes
    batches = store_arrow_reader(con, sql("current_assignments"), [], batch_rows)
    return lastrun.read(
        segment_ids, hashes, texts, ((b, *index.find(b.column("key_hash"), b.column("key_check"))) for b in batches)
    )


def _all_read(filled: np.ndarray, what: str) -> None:
    if not filled.all():
        raise StoreError(
            f"run input changed while loading: {int((~filled).sum())} of {len(filled)} segments lost their {what}"
        )


class KeyIndex:
    """The run's rows by a string key (segment id, content hash; several rows may share one), found by
    two 64-bit hashes of the key the scanned batches bring along: DuckDB's ``hash`` (``key_hash``), by
    binary search in the run's sorted hashes, then ``md5_number_lower`` (``key_check``) compared, so a
    ``hash`` two keys share costs a comparison and finds only its own rows (keys that share both,
    128 independent bits, are not expected among 10^14 pairs: ~10^-25). ``pc.index_in`` against 10M ids
    rebuilt its hash set for every batch, 1.8–3.4 s each.

    It holds the hashes, not the keys: the keys compared to tell a shared ``hash`` apart were 440 MB of
    content hashes at 10M segments, held through each scan of the load, and copied into one piece first
    (``whole``) from the scratch file they stay in. The keys are hashed here a block at a time."""

    def __init__(self, con: duckdb.DuckDBPyConnection, keys: Sequence[str]) -> None:
        hashes, checks = key_hashes(con, keys)
        self.order = np.argsort(hashes, kind="stable").astype(np.int32 if len(keys) < 2**31 else np.int64)
        # each unsorted array goes as its sorted copy is made: one 8-byte column in flight, not two (80 MB at
        # 10M segments, in the load's passes, which each build an index)
        self.ranked = hashes[self.order]
        del hashes
        self.checks = checks[self.order]
        del checks
        self.n = len(keys)

    def __len__(self) -> int:
        return self.n

    def find(self, batch_hashes: pa.Array, batch_checks: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """``(at, rows)``: every run row whose key is in the batch, and the batch position of its key."""
        wanted = batch_hashes.to_numpy(zero_copy_only=False).astype(np.uint64)
        lo = np.searchsorted(self.ranked, wanted, "left")
        count = np.searchsorted(self.ranked, wanted, "right") - lo
        at = np.repeat(np.arange(len(wanted)), count)
        first = np.repeat(lo, count) + np.arange(len(at)) - np.repeat(np.cumsum(count) - count, count)
        if not len(at):
            return at, self.order[first].astype(np.int64)
        same = self.checks[first] == batch_checks.to_numpy(zero_copy_only=False).astype(np.uint64)[at]
        return at[same], self.order[first[same]].astype(np.int64)


def key_hashes(con: duckdb.DuckDBPyConnection, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each key's two 64-bit hashes (``run_key_hashes``: DuckDB's ``hash`` and ``md5_number_lower``, as
    the scans give them), hashed a block of keys at a time."""
    n = len(keys)
    hashes, checks = np.empty(n, np.uint64), np.empty(n, np.uint64)
    start = 0
    for block in _key_blocks(keys):
        rows = pa.array(np.arange(start, start + len(block)))
        with registered(con, run_keys=pa.table({"key": block, "row": rows})):
            tbl = fetch_arrow(con.execute(sql("run_key_hashes")))
        at = tbl.column("row").to_numpy()
        hashes[at], checks[at] = tbl.column("key_hash").to_numpy(), tbl.column("key_check").to_numpy()
        start += len(block)
    return hashes, checks


def _key_blocks(keys: Sequence[str]) -> Iterator[pa.Array]:
    """``keys`` as string arrays of consecutive rows: a column's blocks (a spilled one read a block at a
    time), a list in slices."""
    if isinstance(keys, ArrowColumn):
        yield from keys.blocks()
        return
    size = RowFile.ROWS_PER_BATCH
    for start in range(0, len(keys), size):
        yield pa.array(list(keys[start : start + size]), pa.string())
