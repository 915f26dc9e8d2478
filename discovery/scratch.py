"""Scratch files a full run keeps per-segment columns in past ``vectors_in_memory`` (issue 18): one
Arrow IPC file per column, read back through the file object a batch at a time.

The vectors have their own (``lazy_vectors.FileVectors``: fixed-width rows, mapped a window at a
time); the texts theirs (``columns.FileTexts``, written in the order the store returns them); this
holds a column written in row order (``RowFile``, a spilled ``columns.ArrowColumn``) and the read
both of the latter share (``gathered``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa


def gathered(file: Any, batch: np.ndarray, offset: np.ndarray) -> pa.Array:
    """Rows of an Arrow IPC ``file`` of one column, row i at ``offset[i]`` of batch ``batch[i]``, in that
    order: each batch holding some is read once, through the file object (no mapping: a mapped page
    stays resident while mapped, and the kernel maps its cached neighbours with it)."""
    reader = pa.ipc.open_file(pa.PythonFile(file, mode="r"))
    if not len(batch):
        return pa.array([], reader.schema.field(0).type)
    order = np.argsort(batch, kind="stable")
    kinds, starts = np.unique(batch[order], return_index=True)
    parts = [
        reader.get_batch(int(b)).column(0).take(pa.array(offset[order[start:end]]))
        for b, start, end in zip(kinds.tolist(), starts.tolist(), [*starts[1:].tolist(), len(batch)], strict=True)
    ]
    back = np.empty(len(batch), np.int64)
    back[order] = np.arange(len(batch))
    return pa.concat_arrays(parts).take(pa.array(back))


class RowFile:
    """One column in a scratch Arrow file in row order, ``ROWS_PER_BATCH`` rows a batch (a spilled
    ``ArrowColumn``). Written whole (``RowFile(array)``) or part by part (``RowFile.writer``, ``append``,
    ``close``): the parts are cut into batches of that size as they come, so row i is always at
    ``i % ROWS_PER_BATCH`` of batch ``i // ROWS_PER_BATCH``. Unlinked when made (``TemporaryFile``): a
    crash leaves nothing behind."""

    ROWS_PER_BATCH = 65_536

    def __init__(self, array: pa.ChunkedArray | pa.Array, directory: str | None = None) -> None:
        self._start(array.type, directory)
        self.append(array)
        self.close()

    @classmethod
    def writer(cls, type: pa.DataType, directory: str | None = None) -> RowFile:
        """An empty file to ``append`` to; ``close`` it before reading."""
        out = cls.__new__(cls)
        out._start(type, directory)
        return out

    def _start(self, type: pa.DataType, directory: str | None) -> None:
        self.type, self._n = type, 0
        self._file = tempfile.TemporaryFile(dir=directory)
        self._writer: Any = pa.ipc.new_file(self._file, pa.schema([("value", type)]))
        self._pending: list[pa.Array] = []  # rows of the batch being filled
        self._pending_rows = 0

    def append(self, array: pa.ChunkedArray | pa.Array) -> None:
        """Rows after the ones written so far."""
        chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
        for chunk in chunks:
            while len(chunk):
                part = chunk.slice(0, self.ROWS_PER_BATCH - self._pending_rows)
                self._pending.append(part)
                self._pending_rows += len(part)
                chunk = chunk.slice(len(part))
                if self._pending_rows == self.ROWS_PER_BATCH:
                    self._flush()

    def _flush(self) -> None:
        if self._pending:
            part = pa.concat_arrays(self._pending)
            self._writer.write_batch(pa.record_batch([part], names=["value"]))
            self._n += len(part)
            self._pending, self._pending_rows = [], 0

    def close(self) -> None:
        """The last rows written; the file is read from here on."""
        if self._writer is not None:
            self._flush()
            self._writer.close()
            self._writer = None
            self._file.flush()

    def __len__(self) -> int:
        return self._n + self._pending_rows

    def _reader(self) -> pa.ipc.RecordBatchFileReader:
        self.close()
        return pa.ipc.open_file(pa.PythonFile(self._file, mode="r"))

    def whole(self) -> pa.ChunkedArray:
        """Every row, read into memory."""
        return pa.chunked_array(list(self.batches()), self.type)

    def batches(self) -> Iterator[pa.Array]:
        reader = self._reader()
        for i in range(reader.num_record_batches):
            yield reader.get_batch(i).column(0)

    def take(self, rows: np.ndarray | pa.Array) -> pa.Array:
        """The values at ``rows``, reading only the batches that hold them."""
        rows = np.asarray(rows, dtype=np.int64)
        self.close()
        return gathered(self._file, rows // self.ROWS_PER_BATCH, rows % self.ROWS_PER_BATCH)
