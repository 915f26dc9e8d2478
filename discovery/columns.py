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

from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np
import pyarrow as pa


class ArrowColumn(Sequence[Any]):
    """One column of a run's input: an Arrow (chunked) array behind the ``Sequence`` protocol, so code
    written for lists (``len``, ``col[i]``, iteration, ``==``) reads it unchanged. Prefer ``take`` for
    many rows at once: one ``col[i]`` costs a microsecond or two."""

    __slots__ = ("array",)

    def __init__(self, array: pa.Array | pa.ChunkedArray) -> None:
        self.array = array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])

    @classmethod
    def of(cls, values: Sequence[Any], type: pa.DataType | None = None) -> ArrowColumn:
        """A column of Python values (tests, and steps that build a column)."""
        return cls(pa.array(list(values), type))

    def __len__(self) -> int:
        return len(self.array)

    @overload
    def __getitem__(self, i: int) -> Any: ...

    @overload
    def __getitem__(self, i: slice) -> ArrowColumn: ...

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            start, stop, step = i.indices(len(self))
            if step == 1:
                return ArrowColumn(self.array.slice(start, max(0, stop - start)))
            return ArrowColumn.of(self.take(np.arange(start, stop, step)), self.array.type)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.array[i].as_py()

    def __iter__(self) -> Iterator[Any]:
        for chunk in self.array.chunks:
            yield from chunk.to_pylist()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ArrowColumn):
            return self.array.equals(other.array)
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(other) == len(self) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-sequence semantics: compared, never hashed

    def __repr__(self) -> str:
        return f"ArrowColumn({len(self)} × {self.array.type})"

    def take(self, rows: Sequence[int] | np.ndarray) -> list[Any]:
        """The values at ``rows`` (in that order) as Python objects."""
        return self.array.take(pa.array(np.asarray(rows, dtype=np.int64))).to_pylist()

    def distinct(self) -> int:
        """How many distinct non-null values the column holds (without making N Python objects)."""
        return len(self.array.unique().drop_null())


def count_distinct(values: Sequence[Any]) -> int:
    """How many distinct values ``values`` holds (an ``ArrowColumn`` counts in Arrow)."""
    return values.distinct() if isinstance(values, ArrowColumn) else len(set(values))


def take(values: Sequence[Any], rows: Sequence[int] | np.ndarray) -> list[Any]:
    """``values`` at ``rows``: one ``take`` from an ``ArrowColumn``, item by item from a list."""
    if isinstance(values, ArrowColumn):
        return values.take(rows)
    return [values[i] for i in np.asarray(rows, dtype=np.int64).tolist()]


def codes(values: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """``values`` as integer codes into their distinct values (sorted): per-segment ids and sources
    compared as numbers, without a Python object per segment."""
    if isinstance(values, ArrowColumn):
        encoded = values.array.dictionary_encode().combine_chunks()
        names = encoded.dictionary.to_pylist()
        order = np.argsort(np.array(names, dtype=object), kind="stable") if names else np.zeros(0, np.int64)
        rank = np.empty(len(names), np.int64)
        rank[order] = np.arange(len(names))
        idx = encoded.indices.to_numpy(zero_copy_only=False)
        return rank[idx], [names[i] for i in order.tolist()]
    names_arr, idx = np.unique(np.asarray(list(values), dtype=object), return_inverse=True)
    return idx.astype(np.int64), names_arr.tolist()


def to_arrow(values: Sequence[Any] | np.ndarray | None, type: pa.DataType, n: int) -> pa.Array | pa.ChunkedArray:
    """A per-segment column as Arrow for writing: an ``ArrowColumn`` as it is, ``None`` as ``n`` nulls."""
    if values is None:
        return pa.nulls(n, type)
    if isinstance(values, ArrowColumn):
        return values.array if values.array.type == type else values.array.cast(type)
    return pa.array(values if isinstance(values, np.ndarray) else list(values), type)


def columns_of(batches: Sequence[pa.RecordBatch], schema: pa.Schema) -> dict[str, ArrowColumn]:
    """Record batches as one ``ArrowColumn`` per field (the batches' buffers are shared, not copied)."""
    return {
        name: ArrowColumn(pa.chunked_array([b.column(name) for b in batches], schema.field(name).type))
        for name in schema.names
    }
