"""Per-segment values of a few distinct kinds (a tone, a feedback type, how a segment got its theme)
as one-byte codes into those values, read and written as a sequence of them (issue 18).

As a Python list each row is an 8-byte pointer to a shared ``str``; as an object array the same. At
10M segments that is 80 MB a column, and a run held four of them through most of its stages. ``Coded``
holds a code per row (int8 while at most 127 values, wider past that) and the values once: 10 MB.
Reading a row gives the shared value object, never a copy; ``is_`` compares codes, not strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

import numpy as np
import pyarrow as pa

CHUNK = 65_536  # rows a pass over every row turns into Python values at a time


class Coded(Sequence[Any]):
    """A mutable column of few distinct values: ``codes`` per row into ``values`` (None may be one)."""

    __slots__ = ("codes", "values", "_index")

    def __init__(self, codes: np.ndarray, values: Sequence[Any]) -> None:
        self.codes = codes
        self.values = list(values)
        self._index = {v: i for i, v in enumerate(self.values)}

    @classmethod
    def filled(cls, n: int, value: Any) -> Coded:
        """``n`` rows of ``value``."""
        return cls(np.zeros(n, np.int8), [value])

    @classmethod
    def of(cls, values: Sequence[Any] | np.ndarray) -> Coded:
        """The rows of ``values`` coded (a ``Coded`` is copied)."""
        if isinstance(values, Coded):
            return values.copy()
        out = cls(np.zeros(0, np.int8), [])
        idx = np.fromiter((out.code(v) for v in values), np.int64, len(values))
        out.codes = idx.astype(out._dtype())
        return out

    @classmethod
    def of_codes(cls, codes: np.ndarray, values: Sequence[Any]) -> Coded:
        """Rows given as codes into ``values`` (−1 for None): the values are mapped once each, the
        rows by one array lookup. Values that repeat (two labels of one theme) share one code."""
        out = cls(np.zeros(0, np.int8), [])
        table = np.fromiter((out.code(v) for v in list(values) + [None]), np.int64, len(values) + 1)
        out.codes = table[np.asarray(codes)].astype(out._dtype())  # code −1 reads the last slot: None
        return out

    def mapped(self, mapping: Callable[[Any], Any]) -> Coded:
        """A new column with ``mapping`` applied to every value (called once per distinct value)."""
        return Coded.of_codes(self.codes, [mapping(v) for v in self.values])

    def used(self) -> list[Any]:
        """The values some row holds (a value whose rows were all set to another stays in ``values``)."""
        return [self.values[c] for c in np.unique(self.codes).tolist()]

    def _dtype(self) -> type[np.signedinteger[Any]]:
        return np.int8 if len(self.values) <= 127 else np.int16 if len(self.values) <= 32_767 else np.int32

    def code(self, value: Any) -> int:
        """``value``'s code, a new one (and wider codes when needed) if it is not held yet."""
        i = self._index.get(value)
        if i is None:
            i = self._index[value] = len(self.values)
            self.values.append(value)
            if self.codes.dtype != self._dtype():
                self.codes = self.codes.astype(self._dtype())
        return i

    def is_(self, value: Any) -> np.ndarray:
        """Per row, whether it holds ``value`` (a comparison of codes)."""
        i = self._index.get(value)
        return np.zeros(len(self.codes), bool) if i is None else self.codes == i

    def copy(self) -> Coded:
        return Coded(self.codes.copy(), self.values)

    def __len__(self) -> int:
        return len(self.codes)

    @overload
    def __getitem__(self, i: int) -> Any: ...

    @overload
    def __getitem__(self, i: slice | np.ndarray) -> Coded: ...

    def __getitem__(self, i: int | slice | np.ndarray) -> Any:
        """A row's value; the rows of a slice, a mask or positions as a ``Coded``."""
        if isinstance(i, slice | np.ndarray):
            return Coded(self.codes[i].copy(), self.values)
        return self.values[self.codes[i]]

    def __setitem__(self, rows: int | np.ndarray | slice, value: Any) -> None:
        """Row(s) ``rows`` set to one ``value``, or row by row to the rows of a ``Coded`` or an array."""
        if isinstance(value, Coded | np.ndarray):
            source = value if isinstance(value, Coded) else Coded.of(value)
            table = np.array([self.code(v) for v in source.values], np.int64)  # may widen self.codes first
            self.codes[rows] = table[source.codes] if len(table) else source.codes
            return
        code = self.code(value)
        self.codes[rows] = code

    def __iter__(self) -> Iterator[Any]:
        values = self.values
        for start in range(0, len(self.codes), CHUNK):
            for c in self.codes[start : start + CHUNK].tolist():
                yield values[c]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Coded | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Coded({len(self)} rows of {self.values!r})"

    def dictionary(self, type: pa.DataType = pa.string()) -> pa.DictionaryArray:
        """The column as an Arrow dictionary array (None rows null), int8 codes while they fit."""
        null = self._index.get(None, -1)
        values = [v for v in self.values if v is not None]
        remap = np.arange(len(self.values), dtype=np.int32)
        if null >= 0:  # the codes past None's shift down by one, None's rows become nulls
            remap[null + 1 :] -= 1
        idx = remap[self.codes] if null >= 0 else self.codes
        index_type = pa.int8() if len(values) <= 127 else pa.int32()
        indices = pa.array(np.asarray(idx).astype(index_type.to_pandas_dtype()), index_type,
                           mask=self.codes == null if null >= 0 else None)  # fmt: skip
        return pa.DictionaryArray.from_arrays(indices, pa.array(values, type))


def mask_of(values: Sequence[Any], value: Any) -> np.ndarray:
    """Per row of ``values``, whether it equals ``value``: codes compared for a ``Coded``, else one
    comparison over an object array."""
    if isinstance(values, Coded):
        return values.is_(value)
    return np.asarray(np.asarray(values, dtype=object) == value, dtype=bool)
