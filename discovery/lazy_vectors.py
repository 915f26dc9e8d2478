"""The run's vectors as an array that reads rows from the embedding cache the first time they are used.

An incremental run keeps most segments where they were: their theme, sentiment and type carry over, so
it needs the vectors of the new or changed segments, of the leftovers it reclusters and of the themes
that changed enough to be re-measured or renamed, not the whole window's (1.5 GB and ~33 s to read at
1M segments). ``StoredVectors`` stands in for the ``(n, dim)`` float32 array the stages index: any
``X[rows]`` (an int, a slice, an index array, a boolean mask) fetches the rows not read yet through a
``lookup(model, hashes)`` (``embed_cache.cache_lookup``) and returns a plain array. ``rows_read`` says
how many rows the run had to read.

The store is not imported here: the lookup is handed in, so the stages that index the vectors stay
free of DuckDB.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Lookup = Callable[[str, Sequence[str]], dict[str, np.ndarray]]  # (model key, hashes) → cached vectors


class MissingVectors(LookupError):
    """A segment's vector was not in the cache when the run needed it (the cache was pruned mid-run)."""


class StoredVectors:
    """Read-only ``(len(hashes), dim)`` float32 rows, row ``i`` the cached vector of ``hashes[i]``.

    Rows are read once and kept; rows sharing a content hash are read once. Indexing returns NumPy
    arrays (``X[i]`` a vector, anything else a 2-D array in the order asked), so code written for an
    in-memory array runs unchanged; ``np.asarray(X)`` reads every row.
    """

    ndim = 2
    dtype = np.dtype(np.float32)

    def __init__(self, hashes: Sequence[str], dim: int, model: str, lookup: Lookup) -> None:
        self.hashes, self.model, self.lookup = list(hashes), model, lookup
        self.shape = (len(self.hashes), dim)
        self._slot = np.full(len(self.hashes), -1, np.int64)  # row → index into _buf, -1 = not read
        self._buf = np.empty((0, dim), np.float32)
        self._used = 0

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def rows_read(self) -> int:
        """Rows read from the cache so far."""
        return int((self._slot >= 0).sum())

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, tuple):
            raise TypeError("StoredVectors takes row indices only: index the array it returns for columns")
        if isinstance(key, int | np.integer):
            row = int(key) + (len(self) if key < 0 else 0)
            self._read(np.array([row]))
            return self._buf[self._slot[row]]
        rows = np.arange(len(self))[key]
        self._read(rows)
        return self._buf[self._slot[rows]]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[:]
        return out if dtype is None else out.astype(dtype)

    def _read(self, rows: np.ndarray) -> None:
        missing = np.unique(rows[self._slot[rows] < 0])
        if not len(missing):
            return
        wanted: dict[str, list[int]] = {}
        for r in missing.tolist():
            wanted.setdefault(self.hashes[r], []).append(r)
        got = self.lookup(self.model, list(wanted))
        lacking = [h for h in wanted if h not in got]
        if lacking:
            raise MissingVectors(f"{len(lacking)} segment texts have no cached {self.model} vector (e.g. {lacking[0]})")
        self._grow(len(wanted))
        for h, rs in wanted.items():
            self._buf[self._used] = got[h]
            self._slot[rs] = self._used
            self._used += 1

    def _grow(self, more: int) -> None:
        need = self._used + more
        if need > len(self._buf):
            buf = np.empty((max(need, 2 * len(self._buf)), self.shape[1]), np.float32)
            buf[: self._used] = self._buf[: self._used]
            self._buf = buf
