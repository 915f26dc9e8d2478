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
from typing import Any, TypeAlias

import pyarrow as pa

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

    def reader(self, names: Sequence[str] | None = None) -> pa.RecordBatchReader:
        """A one-pass stream of ``batches`` (DuckDB reads it as a table, once)."""
        return pa.RecordBatchReader.from_batches(self._schema_of(names), self.batches(names))

    def _schema_of(self, names: Sequence[str] | None) -> pa.Schema:
        return pa.schema([self.schema.field(name) for name in (names or self.schema.names)])

    def table(self) -> pa.Table:
        """Every row in memory: for tests, benchmarks and small reads."""
        return pa.Table.from_batches(list(self.batches()), schema=self.schema)

    def __len__(self) -> int:
        return self.num_rows

    def __reduce__(self) -> tuple[Any, ...]:
        return (Assignments.of_table, (self.table(),))


def _blocks(column: Column, type: pa.DataType) -> Iterator[pa.Array]:
    """``column`` in consecutive blocks of ``RowFile.ROWS_PER_BATCH`` rows, as ``type``."""
    for part in (column if isinstance(column, ArrowColumn) else ArrowColumn(column)).blocks():
        yield part if part.type == type else part.cast(type)
