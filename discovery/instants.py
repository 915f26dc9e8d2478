"""A run's timestamps (``RunInput.created_at``) in four bytes a row instead of eight.

Arrow and NumPy hold a timestamp as 64-bit microseconds: 77 MB for the 10M segments of a big run, held
from its load to the end of its discover (issue 18: what a run holds per segment is what makes its
memory grow with the store). The run reads them only to place segments in trend and recency windows of
days, so whole seconds from the earliest one do: an ``int32`` spans 68 years. Wider spans (a bogus
year 1900 among 2026 dates) stay as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, overload

import numpy as np

NULL = np.iinfo(np.int32).min  # an undated row
_SPAN = np.iinfo(np.int32).max  # seconds the codes reach above the base
_US = 1_000_000


class Instants(Sequence["datetime | None"]):
    """Timestamps as whole seconds (``int32``) after ``base`` (microseconds since the epoch, UTC),
    ``NULL`` for none; ``datetime64`` gives them back as ``datetime64[us]`` (NaT for none), rounded down
    to the second."""

    __slots__ = ("base", "seconds")

    def __init__(self, seconds: np.ndarray, base: int) -> None:
        self.seconds, self.base = seconds, base

    @classmethod
    def of(cls, times: np.ndarray) -> Instants | None:
        """``times`` (``datetime64[us]``, NaT for none) as instants; None when they span more than
        ``int32`` seconds (keep them as they are)."""
        us = times.view(np.int64)
        dated = ~np.isnat(times)
        if not dated.any():
            return cls(np.full(len(times), NULL, np.int32), 0)
        base = int(us[dated].min())
        if (int(us[dated].max()) - base) // _US >= _SPAN:
            return None
        seconds = np.full(len(times), NULL, np.int32)
        seconds[dated] = (us[dated] - base) // _US
        return cls(seconds, base)

    def datetime64(self) -> np.ndarray:
        """The timestamps as ``datetime64[us]``, NaT where undated (a new array, eight bytes a row)."""
        us = self.seconds.astype(np.int64) * _US + self.base
        out = us.view("datetime64[us]")
        out[self.seconds == NULL] = np.datetime64("NaT")
        return out

    def __len__(self) -> int:
        return len(self.seconds)

    @overload
    def __getitem__(self, i: int) -> datetime | None: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[datetime | None]: ...
    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return Instants(self.seconds[i], self.base)
        value = self.seconds[i]
        if value == NULL:
            return None
        return np.datetime64(int(value) * _US + self.base, "us").item()
