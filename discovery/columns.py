"""A run's per-segment columns held as Arrow arrays, read as Python sequences.

A run over N segments holds seven values per segment (id, item id, source, date, text, content hash,
rating). As Python objects in lists they cost ~560 bytes a segment (a str alone carries ~50 bytes of
header, a datetime 48), which is what made a full run's memory grow with N (0.9 KB per segment at 1M,
~10.7 GB projected at 10M; issue 18). In Arrow the same values are their bytes plus a 4- or 8-byte
offset. ``ArrowColumn`` keeps them there and hands out Python values only for what a step reads:
iteration goes chunk by chunk, ``take`` reads a block of rows, so the stages that loop over every
segment create each value for a moment instead of holding N of them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from painpoints.discovery.coded import Coded
from painpoints.discovery.instants import Instants
from painpoints.discovery.scratch import RowFile, gathered


class ArrowColumn(Sequence[Any]):
    """One column of a run's input: an Arrow (chunked) array behind the ``Sequence`` protocol, so code
    written for lists (``len``, ``col[i]``, iteration, ``==``) reads it unchanged. Prefer ``take`` for
    many rows at once: one ``col[i]`` costs a microsecond or two.

    ``of_file`` makes a column over a scratch file (``RowFile``) instead of memory: the run's segment
    ids and content hashes, which only its load and its write read in full, held there between the two
    (issue 18, ``runinput.sorted_on_disk``). ``array`` then reads the whole column back (a copy, freed after
    use); ``take``, ``col[i]`` and iteration read only the blocks they touch."""

    __slots__ = ("_array", "_file")

    def __init__(self, array: pa.Array | pa.ChunkedArray) -> None:
        self._array: pa.ChunkedArray | None = array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])
        self._file: RowFile | None = None

    @classmethod
    def of(cls, values: Sequence[Any], type: pa.DataType | None = None) -> ArrowColumn:
        """A column of Python values (tests, and steps that build a column)."""
        return cls(pa.array(list(values), type))

    @classmethod
    def of_file(cls, file: RowFile) -> ArrowColumn:
        """A spilled column over a scratch file written in row order."""
        out = cls(pa.array([], file.type))
        out._array, out._file = None, file
        return out

    @property
    def array(self) -> pa.ChunkedArray:
        """The values, read back whole from the scratch file when spilled."""
        if self._file is not None:
            return self._file.whole()
        assert self._array is not None
        return self._array

    @property
    def spilled(self) -> bool:
        return self._file is not None

    def __len__(self) -> int:
        return len(self._file) if self._file is not None else len(self.array)

    @overload
    def __getitem__(self, i: int) -> Any: ...

    @overload
    def __getitem__(self, i: slice) -> ArrowColumn: ...

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step == 1 and self._file is None:
                return ArrowColumn(self.array.slice(start, max(0, stop - start)))
            return ArrowColumn.of(self.take(np.arange(start, stop, step)), self.type)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.take([i])[0] if self._file is not None else self.array[i].as_py()

    def __iter__(self) -> Iterator[Any]:
        chunks = self._file.batches() if self._file is not None else iter(self.array.chunks)
        for chunk in chunks:
            yield from chunk.to_pylist()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ArrowColumn):
            return self.array.equals(other.array)
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(other) == len(self) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-sequence semantics: compared, never hashed

    def __repr__(self) -> str:
        return f"ArrowColumn({len(self)} × {self.type}{', spilled' if self._file is not None else ''})"

    @property
    def type(self) -> pa.DataType:
        return self._file.type if self._file is not None else self.array.type

    def blocks(self) -> Iterator[pa.Array]:
        """The values in consecutive blocks of ``RowFile.ROWS_PER_BATCH`` rows (the last may be
        shorter): a spilled column reads one block of its file at a time."""
        if self._file is not None:
            yield from self._file.batches()
            return
        size = RowFile.ROWS_PER_BATCH
        for start in range(0, len(self), size):
            yield whole(self.array.slice(start, size))

    def take(self, rows: Sequence[int] | np.ndarray) -> list[Any]:
        """The values at ``rows`` (in that order) as Python objects."""
        return self.subset(rows).array.to_pylist()

    def subset(self, rows: Sequence[int] | np.ndarray) -> ArrowColumn:
        """The values at ``rows`` (in that order) as a column of their own, in memory."""
        index = np.asarray(rows, dtype=np.int64)
        if self._file is not None:
            return ArrowColumn(self._file.take(index))
        return ArrowColumn(self.array.take(pa.array(index)))


class GroupCodes(ArrowColumn):
    """A column of ids replaced by dense integer codes (0…k−1, equal ids equal codes): what a full run
    past ``vectors_in_memory`` keeps of its feedback ids, which only counting distinct items reads
    (``group_codes``, ``count_distinct``) — 4 bytes a segment instead of the id's ~25."""

    __slots__ = ()

    @classmethod
    def of_ids(cls, ids: Sequence[Any]) -> GroupCodes:
        return cls(pa.array(group_codes(ids).astype(np.int32)))


def count_distinct(values: Sequence[Any]) -> int:
    """How many distinct values ``values`` holds (an ``ArrowColumn`` counts in Arrow, without making
    a Python object per value)."""
    if isinstance(values, GroupCodes):  # codes 0..k−1 of equal ids: a flag per code, not a hash table of them
        codes = whole(values.array).to_numpy(zero_copy_only=False)
        seen = np.zeros(int(codes.max()) + 1 if len(codes) else 0, dtype=bool)
        seen[codes] = True
        return int(np.count_nonzero(seen))
    if isinstance(values, ArrowColumn):
        return len(values.array.unique().drop_null())
    return len(set(values))


def floats(values: Sequence[Any], fill: float) -> np.ndarray:
    """``values`` as a float array, ``fill`` for None."""
    if isinstance(values, ArrowColumn):
        return np.asarray(pc.fill_null(values.array, fill).to_numpy(), dtype=float)
    return np.array([fill if v is None else v for v in values], dtype=float)


def take(values: Sequence[Any], rows: Sequence[int] | np.ndarray) -> list[Any]:
    """``values`` at ``rows``: one ``take`` from an ``ArrowColumn`` or one read of ``StoredTexts``,
    item by item from a list."""
    if isinstance(values, ArrowColumn | StoredTexts):
        return values.take(rows)
    return [values[i] for i in np.asarray(rows, dtype=np.int64).tolist()]


def codes(values: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """``values`` as int32 codes into their distinct values (sorted): per-segment ids and sources
    compared as numbers, without a Python object per segment (4 bytes a row, as Arrow's indices)."""
    if isinstance(values, ArrowColumn):
        encoded = values.array.dictionary_encode().combine_chunks()
        names = encoded.dictionary.to_pylist()
        order = np.argsort(np.array(names, dtype=object), kind="stable") if names else np.zeros(0, np.int64)
        rank = np.empty(len(names), np.int32)
        rank[order] = np.arange(len(names))
        idx = encoded.indices.to_numpy(zero_copy_only=False)
        return rank[idx], [names[i] for i in order.tolist()]
    names_arr, idx = np.unique(np.asarray(list(values), dtype=object), return_inverse=True)
    return idx.astype(np.int32), names_arr.tolist()


def group_codes(values: Sequence[Any]) -> np.ndarray:
    """``values`` as int32 codes, equal values equal codes, in no particular order and without the
    values themselves: what counting distinct items per theme needs. ``codes`` on 10M feedback ids made
    a Python string of each to sort them (~1 GB for a moment, most of the rank stage's 22 s). Read-only
    where Arrow's buffer is shared."""
    if isinstance(values, GroupCodes):
        return whole(values.array).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    if isinstance(values, ArrowColumn):
        indices = values.array.dictionary_encode().combine_chunks().indices
        return indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return codes(values)[0]


def as_datetime64(values: Sequence[Any]) -> np.ndarray:
    """Timestamps (``datetime`` or None; or ``Instants``) as ``datetime64[us]``, NaT for None; aware ones
    in UTC."""
    if isinstance(values, Instants):
        return values.datetime64()
    array = values.array if isinstance(values, ArrowColumn) else pa.array(list(values))
    if pa.types.is_null(array.type):
        return np.full(len(array), np.datetime64("NaT", "us"))
    return array.cast(pa.timestamp("us")).to_numpy(zero_copy_only=False).astype("datetime64[us]")


def as_float(values: Sequence[Any]) -> np.ndarray:
    """Numbers (or None) as float64, NaN for None."""
    array = values.array if isinstance(values, ArrowColumn) else pa.array(list(values), pa.float64())
    return array.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)


def same_values(a: Sequence[Any], b: Sequence[Any]) -> np.ndarray:
    """Per row, whether ``a`` and ``b`` hold the same non-null string: one Arrow comparison instead of a
    Python loop over two columns (at 10M segments each element read cost a microsecond and a new str)."""
    n = len(a)
    equal = pc.equal(whole(to_arrow(a, pa.string(), n)), whole(to_arrow(b, pa.string(), n)))
    return np.asarray(equal.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def present(values: Sequence[Any]) -> np.ndarray:
    """Per row, whether ``values`` holds a value (not None / null)."""
    array = whole(to_arrow(values, pa.string(), len(values)))
    return np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def to_arrow(values: Sequence[Any] | np.ndarray | None, type: pa.DataType, n: int) -> pa.Array | pa.ChunkedArray:
    """A per-segment column as Arrow for writing: an ``ArrowColumn`` as it is, ``None`` as ``n`` nulls."""
    if values is None:
        return pa.nulls(n, type)
    if isinstance(values, ArrowColumn):
        return values.array if values.array.type == type else values.array.cast(type)
    if isinstance(values, Coded):
        return values.dictionary(type).cast(type)
    return pa.array(values if isinstance(values, np.ndarray) else list(values), type)


class MissingTexts(LookupError):
    """A segment's text was not in the store when the run read it (deleted mid-run)."""


class StoredTexts(Sequence[str]):
    """The run's segment texts, read from the store by content hash when a step takes them.

    A full run over 10M segments held their texts from start to end: 168 bytes a segment in Arrow
    (1.7 GB), twice that while they were put in segment order, for steps that read them a block at a
    time (typing) or a sample (naming). Past ``vectors_in_memory`` segments a run keeps only the
    hashes (``ArrowColumn``) and reads the texts of the rows a step asks for through ``lookup(hashes)
    -> {hash: text}`` (``segmentstore.segment_texts``); the hash is of the text, so any segment with
    it has that text. ``take`` is the way in (one read for many rows); ``t[i]`` and iteration work,
    block by block. ``rows_read`` counts the rows read.
    """

    def __init__(self, hashes: Sequence[str], lookup: Callable[[Sequence[str]], dict[str, str]]) -> None:
        self.hashes, self.lookup = hashes, lookup
        self.rows_read = 0

    def __len__(self) -> int:
        return len(self.hashes)

    def take(self, rows: Sequence[int] | np.ndarray) -> list[str]:
        hashes = take(self.hashes, rows)
        got = self.lookup(sorted(set(hashes))) if hashes else {}
        self.rows_read += len(hashes)
        try:
            return [got[h] for h in hashes]
        except KeyError as missing:
            raise MissingTexts(f"no segment in the store has the text of content hash {missing.args[0]}") from None

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return self.take(np.arange(len(self))[i])
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.take([i])[0]

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self), TEXT_BLOCK):
            yield from self.take(np.arange(start, min(len(self), start + TEXT_BLOCK)))

    def __repr__(self) -> str:
        return f"StoredTexts({len(self)} texts)"


TEXT_BLOCK = 65_536  # rows per read when ``StoredTexts`` is iterated


class FileTexts(StoredTexts):
    """The texts of a full run past ``vectors_in_memory``, in a scratch Arrow file: read from the store
    once (``runinput.read_texts`` puts each batch here as it comes, unordered, and notes where each row
    went), then a block of rows costs its own size. ``StoredTexts``' lookup by content hash joined each
    block against every segment of the store (0.2–0.3 s a block of 65,536 at 1M, ~10× that at 10M).

    The file is unlinked when made (``TemporaryFile``): a crash leaves nothing behind. A read copies the
    batches holding its rows, one at a time, into memory and takes its rows from each: a mapping of the
    file would keep the pages touched (and, through the kernel's fault-around, their cached neighbours)
    resident while mapped — for a sample spread over every batch, most of the file."""

    def __init__(self, n: int, directory: str | None = None) -> None:
        super().__init__(hashes=[], lookup=lambda hashes: {})  # no hashes: every read is from the file
        self._file = tempfile.TemporaryFile(dir=directory)
        self._writer: Any = pa.ipc.new_file(self._file, pa.schema([("text", pa.large_string())]))
        # row → its place in the file (-1 = not placed): one int32 a row, its batch and offset in that
        # batch found from where each batch starts (two int32s a row were 76 MB at 10M)
        self._place = np.full(n, -1, np.int32)
        self._starts: list[int] = []
        self._written = 0

    def __len__(self) -> int:
        return len(self._place)

    def __setitem__(self, rows: np.ndarray, texts: pa.Array) -> None:
        """Put ``texts`` (one batch, as read) for ``rows``."""
        self._writer.write_batch(pa.record_batch([texts.cast(pa.large_string())], names=["text"]))
        self._place[rows] = self._written + np.arange(len(rows))
        self._starts.append(self._written)
        self._written += len(rows)

    def placed(self) -> np.ndarray:
        """Which rows have a text; ends the writing (the file is complete from here)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            self._file.flush()
        return self._place >= 0

    def take(self, rows: Sequence[int] | np.ndarray) -> list[str]:
        rows = np.asarray(rows, dtype=np.int64)
        self.placed()
        if not len(rows):
            return []
        self.rows_read += len(rows)
        place, starts = self._place[rows].astype(np.int64), np.asarray(self._starts, np.int64)
        # each row's batch: the last one starting at or before its place (never an empty one)
        batch = np.searchsorted(starts, place, "right") - 1
        return gathered(self._file, batch, place - starts[batch]).to_pylist()

    def __repr__(self) -> str:
        return f"FileTexts({len(self)} texts)"


def dictionary_codes(values: Sequence[Any] | np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """``values`` as int32 codes into their distinct values (−1 for None), in first-seen order, and
    those values. A list of a few shared objects (a theme id, a tone, a type per segment) is coded
    without making an Arrow string per row: at 10M segments ``pa.array`` of the theme ids alone was a
    ~400 MB string column for a moment, and a Python pair per row (theme stability) ~1.5 GB."""
    if isinstance(values, ArrowColumn | Coded):
        encoded = values.dictionary() if isinstance(values, Coded) else whole(values.array)
        encoded = encoded if pa.types.is_dictionary(encoded.type) else encoded.dictionary_encode()
        idx = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32)
        return idx, encoded.dictionary.to_pylist()
    index: dict[Any, int] = {None: -1}
    idx = np.fromiter((index.setdefault(v, len(index) - 1) for v in values), np.int32, len(values))
    return idx, [v for v in index if v is not None]


def as_dictionary(values: Sequence[Any] | np.ndarray | None, n: int, type: pa.DataType = pa.string()) -> pa.Array:
    """A column of few distinct values as a dictionary array (``dictionary_codes``; nulls where None)."""
    if values is None:
        return pa.DictionaryArray.from_arrays(pa.nulls(n, pa.int8()), pa.array([], type))
    idx, names = dictionary_codes(values)
    return narrowed(pa.DictionaryArray.from_arrays(pa.array(idx, mask=idx < 0), pa.array(names, type)))


def coded(array: pa.ChunkedArray | pa.Array) -> pa.DictionaryArray:
    """A column of few distinct values as codes into them (int8 codes when at most 127): Arrow, Parquet
    and DuckDB read it as the column of values it encodes."""
    return narrowed(whole(array).dictionary_encode())


def narrowed(encoded: pa.DictionaryArray) -> pa.DictionaryArray:
    """``encoded`` with int8 codes when its dictionary has at most 127 values."""
    if len(encoded.dictionary) > 127:
        return encoded
    return pa.DictionaryArray.from_arrays(encoded.indices.cast(pa.int8()), encoded.dictionary)


def whole(array: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One contiguous array (``index_in`` and ``take`` want one chunk)."""
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def aligned(mapping: Mapping[str, Any], keys: Sequence[str], width: int) -> list[Sequence[Any]]:
    """``mapping``'s values for ``keys`` as ``width`` sequences aligned with ``keys`` (None where a key
    is missing): vectorised on a mapping that aligns itself (``lastrun.LastRun``), key by key on a dict."""
    if callable(aligner := getattr(mapping, "aligned", None)):
        return list(aligner(keys))
    got = [mapping.get(k) for k in keys]
    if width == 1:
        return [got]
    return [[None if v is None else v[j] for v in got] for j in range(width)]


def value_counts(mapping: Mapping[str, Any], part: int) -> dict[Any, int]:
    """How often each non-null value of part ``part`` occurs among ``mapping``'s values."""
    out: dict[Any, int] = {}
    for value in mapping.values():
        v = value[part] if isinstance(value, tuple) else value
        if v is not None:
            out[v] = out.get(v, 0) + 1
    return out


def columns_of(batches: Sequence[pa.RecordBatch], schema: pa.Schema) -> dict[str, ArrowColumn]:
    """Record batches as one ``ArrowColumn`` per field (the batches' buffers are shared, not copied)."""
    return {
        name: ArrowColumn(pa.chunked_array([b.column(name) for b in batches], schema.field(name).type))
        for name in schema.names
    }
