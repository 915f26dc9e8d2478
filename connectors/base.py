"""The record every connector yields, and the connector protocol.

A connector is an iterator of :class:`FeedbackRecord` (a row it could read) or :class:`Rejected`
(a row it could not, with the reason). Yielding rejections instead of raising keeps the good rows of a
partly broken export and gives the store one place to record what was refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

Kind = Literal["review", "ticket", "transcript"]
KINDS: tuple[str, ...] = ("review", "ticket", "transcript")


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which input column feeds which record field; ``None`` means auto-detect. Built in one place
    per surface (CLI options, a declared source, a flow parameter) and passed as one value.

    Nested fields are named by dotted paths (``attributes.createdDate``); ``text`` may join several
    columns with ``+`` (``attributes.title+attributes.body``), empty ones skipped."""

    text: str | None = None
    id: str | None = None
    time: str | None = None
    rating: str | None = None
    author: str | None = None


@dataclass(slots=True)
class FeedbackRecord:
    """One piece of customer feedback as read from a source.

    ``segments`` is set only by connectors that already know the units of meaning (transcript turns);
    otherwise the normaliser segments ``text`` itself.
    """

    source: str
    kind: str
    text: str
    external_id: str | None = None
    created_at: datetime | None = None
    author: str | None = None
    rating: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    segments: list[str] | None = None


@dataclass(slots=True)
class Rejected:
    """An input row that could not become a record; stored in ``rejected_rows``."""

    source: str
    reason: str
    raw: str
    file: str | None = None
    line: int | None = None


Item = FeedbackRecord | Rejected


@runtime_checkable
class Connector(Protocol):
    """Anything that yields records; ``cursor`` is the incremental position after iteration (or None)."""

    def __iter__(self) -> Iterator[Item]: ...

    @property
    def cursor(self) -> str | None: ...
