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

import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from painpoints.discovery.columns import ArrowColumn, take

BLOCK_ROWS = 65_536  # rows per read in a whole-window pass (96 MB of 384-d vectors)
Lookup = Callable[[str, Sequence[str]], dict[str, np.ndarray]]  # (model key, hashes) → cached vectors
# (hashes, model key, dim, out) → ``out`` (a new array when None) with row i the cached vector of hashes[i],
# read in one pass over the cache (``runinput.read_vectors``)
Scan = Callable[..., Any]
GATHER_MIN = 4_096  # fewer rows than this are read by a lookup: a pass over the whole cache would cost more
WINDOW_BYTES = 64 << 20  # of a scratch file mapped at once (``FileVectors``)
SPILLED = -2  # ``StoredVectors._slot`` of a row held in the scratch file


class MissingVectors(LookupError):
    """A segment's vector was not in the cache when the run needed it (the cache was pruned mid-run)."""


class StoredVectors:
    """Read-only ``(len(hashes), dim)`` float32 rows, row ``i`` the cached vector of ``hashes[i]``.

    Indexing returns NumPy arrays (``X[i]`` a vector, anything else a 2-D array in the order asked), so
    code written for an in-memory array runs unchanged; ``np.asarray(X)`` reads every row. Rows read are
    kept, up to ``keep`` of them (None: all); past that they are read again when asked again, so a full
    run over more vectors than memory holds reads them in passes (``blocks``) instead of all at once.

    A read of rows not held is a join with the cache, and it scans the whole cache whatever it is asked
    for (15 GB at 10M segments): a stage that reads many rows block by block (the leftovers an
    incremental run reclusters, the members of the themes it re-measures) first ``gather``s them, in
    one pass (``scan``), instead of one scan a block.
    """

    ndim = 2
    dtype = np.dtype(np.float32)

    def __init__(
        self,
        hashes: Sequence[str],
        dim: int,
        model: str,
        lookup: Lookup,
        keep: int | None = None,
        scan: Scan | None = None,
        gather_min: int | None = None,
    ) -> None:
        # an ArrowColumn stays one (a list of 10M hashes would hold ~1 GB); anything else becomes a list
        self.hashes = hashes if isinstance(hashes, ArrowColumn) else list(hashes)
        self.model, self.lookup, self.keep, self.scan = model, lookup, keep, scan
        self.gather_min = GATHER_MIN if gather_min is None else gather_min
        self.shape = (len(self.hashes), dim)
        self._slot = np.full(len(self.hashes), -1, np.int64)  # row → index into _buf, -1 = not kept, SPILLED
        self._buf = np.empty((0, dim), np.float32)
        self._spill: FileVectors | None = None  # gathered rows past ``keep``, at their own row (a sparse file)
        self._used = 0
        self.rows_read = 0  # rows fetched from the cache, a row read twice counted twice
        self.passes = 0  # passes over the whole cache (``gather``)

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def rows_kept(self) -> int:
        """Rows held in memory now."""
        return self._used

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, tuple):
            raise TypeError("StoredVectors takes row indices only: index the array it returns for columns")
        if isinstance(key, int | np.integer):
            return self._rows(np.array([int(key) + (len(self) if key < 0 else 0)]))[0]
        return self._rows(np.arange(len(self))[key])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[:]
        return out if dtype is None else out.astype(dtype)

    def gather(self, rows: np.ndarray) -> None:
        """Hold ``rows`` from now on, those not held yet read in one pass over the cache: in memory as far
        as ``keep`` allows, the rest in a scratch file (``FileVectors``, sparse: only these rows take disk).
        Without a ``scan``, or for fewer than ``gather_min`` rows, nothing is read here."""
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        rows = rows[self._slot[rows] == -1]
        if self.scan is None or len(rows) < self.gather_min:
            return
        hashes = self.hashes.subset(rows) if isinstance(self.hashes, ArrowColumn) else take(self.hashes, rows)
        room = len(rows) if self.keep is None else max(0, self.keep - self._used)
        self.passes += 1
        self.rows_read += len(rows)
        if len(rows) <= room:
            self._hold(rows, self.scan(hashes, self.model, self.shape[1], out=None))
            return
        if self._spill is None:
            self._spill = FileVectors(*self.shape)
        self.scan(hashes, self.model, self.shape[1], out=_Placed(self._spill, rows))
        self._slot[rows] = SPILLED

    def _rows(self, rows: np.ndarray) -> np.ndarray:
        slots = self._slot[rows]
        have = slots >= 0
        if have.all():
            return self._buf[slots]
        out = np.empty((len(rows), self.shape[1]), np.float32)
        out[have] = self._buf[slots[have]]
        spilled = slots == SPILLED
        if spilled.any():
            assert self._spill is not None
            out[spilled] = self._spill[rows[spilled]]
        todo = np.flatnonzero(slots == -1)
        if not len(todo):
            return out
        wanted: dict[str, list[int]] = {}  # content hash → positions in out
        for pos, h in zip(todo.tolist(), take(self.hashes, rows[todo]), strict=True):
            wanted.setdefault(h, []).append(pos)
        got = self.lookup(self.model, list(wanted))
        lacking = [h for h in wanted if h not in got]
        if lacking:
            raise MissingVectors(f"{len(lacking)} segment texts have no cached {self.model} vector (e.g. {lacking[0]})")
        for h, positions in wanted.items():
            out[positions] = got[h]
        new, first = np.unique(rows[todo], return_index=True)
        self.rows_read += len(new)
        self._hold(new, out[todo[first]])
        return out

    def _hold(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        """Keep what the budget allows of rows just read."""
        room = len(rows) if self.keep is None else max(0, min(len(rows), self.keep - self._used))
        if not room:
            return
        need = self._used + room
        if need > len(self._buf):  # grow by doubling, never past the budget (need ≤ keep here)
            cap = max(need, 2 * len(self._buf))
            buf = np.empty((cap if self.keep is None else min(cap, self.keep), self.shape[1]), np.float32)
            buf[: self._used] = self._buf[: self._used]
            self._buf = buf
        self._buf[self._used : need] = vectors[:room]
        self._slot[rows[:room]] = np.arange(self._used, need)
        self._used = need


class FileVectors:
    """The ``(n, dim)`` float32 rows of a full run past ``vectors_in_memory``, in a scratch file in row
    order: read from the store once (``runinput.read_vectors`` writes them here), then every block a stage
    reads costs its own size. Read by content hash instead (``StoredVectors``), each block was a join
    against the whole embedding cache: at 1M segments 0.6–1.1 s a block of 65,536, ~10× that at 10M,
    ~150 blocks a pass and several passes a run.

    The file is unlinked when made (``TemporaryFile`` under ``TMPDIR`` or ``directory``), so a crash
    leaves nothing behind; 1.5 KB a 384-d row on disk (15 GB at 10M). A read or write maps one window of
    ``WINDOW_BYTES`` of the file at a time, for that window only: mapped pages count in the process's
    resident memory while mapped, and the kernel maps cached neighbours of every page touched
    (fault-around), so reading a sparse sample through one mapping of the whole file (the 50k-row fit
    sample, a theme's members) held most of the file in RSS — +1.1 GB at 1M segments, ~2 GB at 3M and
    10M, 2026-12-03. Indexing is ``StoredVectors``'; ``rows_read`` counts the rows read."""

    ndim = 2
    dtype = np.dtype(np.float32)

    def __init__(self, n: int, dim: int, directory: str | None = None) -> None:
        self.shape = (n, dim)
        self._file = tempfile.TemporaryFile(dir=directory)
        self._file.truncate(max(1, n * dim * 4))  # a zero-length file cannot be mapped
        self.rows_read = 0

    def __len__(self) -> int:
        return self.shape[0]

    def _windows(self, rows: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """``rows`` grouped by the window of the file that holds them: ``(first row of the window, the
        positions in rows, those rows mapped into the window)``, windows in file order."""
        per = max(1, WINDOW_BYTES // (self.shape[1] * 4 or 1))
        order = np.argsort(rows, kind="stable")
        window = rows[order] // per
        for part in np.split(order, np.flatnonzero(np.diff(window)) + 1):
            if len(part):
                lo = int(rows[part[0]]) // per * per
                yield lo, part, rows[part] - lo

    def _map(self, mode: str, lo: int, hi: int) -> np.ndarray:
        offset = lo * self.shape[1] * 4
        return np.memmap(self._file, np.float32, mode, offset=offset, shape=(hi - lo, self.shape[1]))  # type: ignore[call-overload]

    def _rows(self, key: Any) -> np.ndarray:
        """Row indices of an int array, a slice or a boolean mask (negative indices count from the end)."""
        if isinstance(key, slice):
            return np.arange(*key.indices(len(self)))
        rows = np.asarray(key)
        if rows.dtype == bool:
            return np.flatnonzero(rows) if len(rows) == len(self) else np.arange(len(self))[rows]
        rows = rows.astype(np.int64, copy=False).ravel()
        if len(rows) and (rows.min() < -len(self) or rows.max() >= len(self)):
            raise IndexError(f"row index out of range for {len(self)} rows")
        return np.where(rows < 0, rows + len(self), rows)

    def __setitem__(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        if not len(self):
            return
        rows = self._rows(rows)
        vectors = np.asarray(vectors, np.float32)
        for lo, at, local in self._windows(rows):
            mapped = self._map("r+", lo, int(local.max()) + lo + 1)
            mapped[local] = vectors[at]
            del mapped  # unmapped: the written pages leave this process's resident set

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, tuple):
            raise TypeError("FileVectors takes row indices only: index the array it returns for columns")
        if isinstance(key, int | np.integer):
            return self[np.array([int(key)])][0]
        rows = self._rows(key)
        out = np.empty((len(rows), self.shape[1]), np.float32)
        if not len(self) or not len(rows):
            return out
        for lo, at, local in self._windows(rows):
            mapped = self._map("r", lo, int(local.max()) + lo + 1)
            out[at] = mapped[local]  # a copy: the mapping goes with ``mapped``
            del mapped
        self.rows_read += len(rows)
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[:]
        return out if dtype is None else out.astype(dtype)


class RowView:
    """Rows ``rows`` of ``X`` (a ``StoredVectors``) as an array-like that reads only what is indexed:
    an incremental run clusters its leftovers (last run's unassigned plus what fits no theme, 10% of a
    2M-segment store) through one, so a fit on ``max_fit`` of them and an assignment in blocks never
    hold all their vectors at once. ``np.asarray`` reads every row."""

    dtype = np.dtype(np.float32)

    def __init__(self, X: Any, rows: np.ndarray) -> None:
        self.X, self.rows = X, np.asarray(rows, dtype=np.int64)
        self.shape = (len(self.rows), X.shape[1])

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key: Any) -> np.ndarray:
        return self.X[self.rows[key]]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.X[self.rows]
        return out if dtype is None else out.astype(dtype)


class MaskedRows(RowView):
    """``RowView`` whose rows outside ``keep`` read as zero vectors, without being read: an incremental
    run names only the themes that changed, and the context rows of the others need no vector. A dense
    copy of that context (every member of every renamed theme) held 3.4 GB in a 1M-segment rerun."""

    def __init__(self, X: Any, rows: np.ndarray, keep: np.ndarray) -> None:
        super().__init__(X, rows)
        self.keep = np.asarray(keep, dtype=bool)

    def __getitem__(self, key: Any) -> np.ndarray:
        at = np.arange(len(self.rows))[key]
        if np.ndim(at) == 0:
            return self[np.array([at])][0]
        out = np.zeros((len(at), self.shape[1]), np.float32)
        read = self.keep[at]
        if read.any():
            out[read] = self.X[self.rows[at[read]]]
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[:]
        return out if dtype is None else out.astype(dtype)


class _Placed:
    """``scan``'s ``out`` for gathered rows: its row i is window row ``rows[i]`` of ``target``."""

    def __init__(self, target: FileVectors, rows: np.ndarray) -> None:
        self.target, self.rows = target, rows

    def __setitem__(self, at: np.ndarray, vectors: np.ndarray) -> None:
        rows = self.rows[at]
        order = np.argsort(rows, kind="stable")  # written in row order: the file's pages in sequence
        self.target[rows[order]] = vectors[order]


def prefetch(X: Any, rows: np.ndarray) -> None:
    """Before reading ``rows`` of ``X`` in many pieces: gather them in one pass when ``X`` reads from the
    store (``StoredVectors`` or a view of one); nothing to do for arrays and scratch files."""
    if isinstance(X, MaskedRows):
        rows = np.asarray(rows, dtype=np.int64)
        prefetch(X.X, X.rows[rows[X.keep[rows]]])
    elif isinstance(X, RowView):
        prefetch(X.X, X.rows[np.asarray(rows, dtype=np.int64)])
    elif isinstance(X, StoredVectors):
        X.gather(rows)


def rows_of(X: Any, rows: np.ndarray) -> Any:
    """``X[rows]``: read now from an array, a ``RowView`` of ``StoredVectors`` (read as used)."""
    return X[rows] if isinstance(X, np.ndarray) else RowView(X, rows)


def blocks(n: int, size: int = BLOCK_ROWS) -> Iterator[np.ndarray]:
    """Row indices ``0..n-1`` in consecutive blocks of ``size``: how whole-window passes read vectors."""
    for start in range(0, n, size):
        yield np.arange(start, min(n, start + size))


def in_memory(X: Any) -> bool:
    """True for a NumPy array; False for ``StoredVectors`` or ``FileVectors`` (read them by rows or in
    ``blocks``)."""
    return isinstance(X, np.ndarray)
