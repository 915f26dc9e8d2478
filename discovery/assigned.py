"""A run's assignments, one row per segment, as columns, with the bulky ones left where they are.

At the end of a full run past ``vectors_in_memory`` the segment ids and content hashes (~70 bytes a
segment) wait in scratch files (``runinput.sorted_on_disk``). Reading them back whole to make one Arrow
table was the run's last rise in memory, held from the end of discovery through the write (~0.25 GB at
3M segments, ~0.8 GB at 10M; issue 18). ``Assignments`` keeps them in their files and gives the write
record batches of ``RowFile.ROWS_PER_BATCH`` rows, one block of each file at a time
(``runstore.finish_run``); tests and benchmarks read the whole table (``table``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from painpoints.discovery.columns import ArrowColumn

Column: TypeAlias = pa.Array | pa.ChunkedArray | ArrowColumn


class Assignments:
    """The columns of ``records.Assignment``, aligned by row: Arrow arrays in memory (the coded ones
    as dictionaries, as ``schema`` says), or spilled ``ArrowColumn``s read a block at a time and cast to
    their ``schema`` type. Pickles as the whole table (a kept result of
    ``benchmarks.scale_stages``: scratch files do not outlive their process)."""

    def __init__(self, schema: pa.Schema, columns: Mapping[str, Column]) -> None:
        lengths = {len(columns[name]) for name in schema.names}
        if len(lengths) > 1:
            raise ValueError(f"assignment columns of different lengths: {sorted(lengths)}")
        self.schema = schema
        self._columns = {name: columns[name] for name in schema.names}
        self.num_rows = lengths.pop() if lengths else 0

    @classmethod
    def of_table(cls, table: pa.Table) -> Assignments:
        return cls(table.schema, {name: table.column(name) for name in table.schema.names})

    def batches(self, names: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """The rows, ``RowFile.ROWS_PER_BATCH`` at a time, of the ``names`` columns (default: all)."""
        schema = self._schema_of(names)
        blocks = [_blocks(self._columns[f.name], f.type) for f in schema]
        for parts in zip(*blocks, strict=True):
            yield pa.record_batch(list(parts), schema=schema)

    def _schema_of(self, names: Sequence[str] | None) -> pa.Schema:
        return pa.schema([self.schema.field(name) for name in (names or self.schema.names)])

    def ranges(self, rows: int) -> Iterator[KeyRange]:
        """The rows in chunks of about ``rows`` (whole batches), each with the range of segment ids it
        stands for: the ranges cover every id (the first open below, the last open above) and none
        overlaps, so a statement that joins a chunk with the state restricted to its range sees every
        stored segment once (``runstore.write_assignments``). With more than one chunk that needs the
        rows in segment-id order (byte order, as a run keeps them: ``runinput.by_segment_id``), which is
        checked on every batch; out of order raises ``ValueError`` (a caller's write is then rolled back).
        """
        pending: list[pa.RecordBatch] = []
        count, lo, last = 0, "", None
        for batch in self.batches():
            ids = batch.column("segment_id")
            if len(ids) and self.num_rows > rows:
                _check_ascending(ids, last)
                if count >= rows:
                    first = ids[0].as_py()
                    yield KeyRange(pa.Table.from_batches(pending, self.schema), lo, first)
                    pending, count, lo = [], 0, first
                last = ids[-1].as_py()
            pending.append(batch)
            count += batch.num_rows
        yield KeyRange(pa.Table.from_batches(pending, self.schema), lo, None)

    def table(self) -> pa.Table:
        """Every row in memory: for tests, benchmarks and small reads."""
        return pa.Table.from_batches(list(self.batches()), schema=self.schema)

    def __len__(self) -> int:
        return self.num_rows

    def __reduce__(self) -> tuple[Any, ...]:
        return (Assignments.of_table, (self.table(),))


@dataclass(frozen=True)
class KeyRange:
    """A chunk of a run's assignments and the segment ids it stands for: ``lo <= id < hi`` (``hi``
    None: no bound above; ``lo`` "" is below every id)."""

    rows: pa.Table
    lo: str
    hi: str | None


def _check_ascending(ids: pa.Array, after: str | None) -> None:
    """``ValueError`` unless ``ids`` rise strictly, from above ``after``."""
    rising = len(ids) < 2 or pc.all(pc.greater(ids.slice(1), ids.slice(0, len(ids) - 1))).as_py()
    if not rising or (after is not None and ids[0].as_py() <= after):
        raise ValueError("a run's assignments written in chunks must be in segment-id order, each id once")


def _blocks(column: Column, type: pa.DataType) -> Iterator[pa.Array]:
    """``column`` in consecutive blocks of ``RowFile.ROWS_PER_BATCH`` rows, as ``type``."""
    for part in (column if isinstance(column, ArrowColumn) else ArrowColumn(column)).blocks():
        yield part if part.type == type else part.cast(type)
