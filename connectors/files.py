"""Review and ticket exports → records: column mapping and auto-detection over the rows that
``connectors.readers`` reads from CSV, JSON, JSONL and Parquet.

Columns are mapped explicitly (``ColumnMap``) or auto-detected from common names; every unmapped
column is kept in ``metadata``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import ColumnMap, FeedbackRecord, Item, Rejected
from connectors.readers import MAX_RAW, ConnectorError, detect_encoding, read_tabular

__all__ = [
    "ColumnMap",
    "ConnectorError",
    "FileConnector",
    "detect_columns",
    "detect_encoding",
    "parse_time",
    "row_to_item",
]

TEXT_NAMES = (
    "text",
    "body",
    "review",
    "review_text",
    "comment",
    "comments",
    "content",
    "description",
    "narrative",
    "consumer_complaint_narrative",
    "message",
    "feedback",
    "customer_service",
    "transcript",
    "conversation",
    "customer_text",
    "utterance",
    "complaint",
    "summary",
)
ID_NAMES = (
    "id",
    "external_id",
    "review_id",
    "reviewid",
    "ticket_id",
    "complaint_id",
    "conversation_id",
    "convo_id",
    "uuid",
    "key",
)
TIME_NAMES = (
    "created_at",
    "created",
    "date",
    "timestamp",
    "time",
    "date_received",
    "submitted_at",
    "review_date",
    "updated_at",
    "at",
)
RATING_NAMES = ("rating", "stars", "score", "star_rating", "satisfaction")
AUTHOR_NAMES = ("author", "user", "username", "user_name", "customer", "customer_name", "reviewer", "name")
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%m/%d/%Y %H:%M",
    "%d %b %Y",
    "%b %d, %Y",
)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def _pick(columns: list[str], names: tuple[str, ...], taken: set[str]) -> str | None:
    by_norm = {_norm(c): c for c in columns if c not in taken}
    for name in names:
        if name in by_norm:
            return by_norm[name]
    return None


def detect_columns(columns: list[str], sample: list[dict[str, Any]], given: ColumnMap) -> ColumnMap:
    """Fill the unset fields of ``given`` from column names; the text column falls back to the
    string column with the longest average value in ``sample``."""
    for field_name in ("text", "id", "time", "rating", "author"):
        col = getattr(given, field_name)
        if col is not None and col not in columns:
            raise ConnectorError(f"--{field_name} column {col!r} not found; columns are {columns}")
    taken = {c for c in (given.text, given.id, given.time, given.rating, given.author) if c}
    text = given.text or _pick(columns, TEXT_NAMES, taken)
    if text is None:
        lengths = {c: sum(len(str(r.get(c) or "")) for r in sample) for c in columns if c not in taken}
        text = max(lengths, key=lambda c: lengths[c]) if lengths and max(lengths.values()) > 0 else None
    if text is None:
        raise ConnectorError(f"no text column found among {columns}; pass --text COLUMN")
    taken.add(text)
    out: dict[str, str | None] = {"text": text}
    for field_name, names in (
        ("id", ID_NAMES),
        ("time", TIME_NAMES),
        ("rating", RATING_NAMES),
        ("author", AUTHOR_NAMES),
    ):
        col = getattr(given, field_name) or _pick(columns, names, taken)
        if col:
            taken.add(col)
        out[field_name] = col
    return ColumnMap(**out)


def parse_time(value: Any) -> datetime | None:
    """Parse ISO strings, common date formats and epoch seconds/milliseconds; None when unparseable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return parse_time(float(text))
    try:
        return parse_time(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        pass
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def parse_rating(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        rating = float(str(value).strip().split("/")[0])
    except ValueError:
        return None
    return rating if rating == rating else None  # NaN → None


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def row_to_item(row: dict[str, Any], cols: ColumnMap, source: str, kind: str, file: str, line: int) -> Item:
    """Map one input row to a record, or reject it with the reason."""
    raw = row.get(cols.text) if cols.text else None
    if raw is None or (isinstance(raw, float) and raw != raw):
        return _reject(source, "empty text", row, file, line)
    if not isinstance(raw, str):
        if isinstance(raw, (dict, list)):
            return _reject(source, f"text column {cols.text!r} holds {type(raw).__name__}, not text", row, file, line)
        raw = str(raw)
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        return _reject(source, "undecodable bytes in text", row, file, line)
    text = raw.replace("\x00", "")
    if not text.strip():
        return _reject(source, "empty text", row, file, line)
    mapped = {c for c in (cols.text, cols.id, cols.time, cols.rating, cols.author) if c}
    metadata = {str(k): _jsonable(v) for k, v in row.items() if k not in mapped and v not in (None, "")}
    time_raw = row.get(cols.time) if cols.time else None
    created = parse_time(time_raw)
    if time_raw not in (None, "") and created is None:
        metadata[f"{cols.time}_unparsed"] = str(time_raw)
    ext = row.get(cols.id) if cols.id else None
    return FeedbackRecord(
        source=source,
        kind=kind,
        text=text,
        external_id=None if ext in (None, "") else str(ext),
        created_at=created,
        author=None if not cols.author or row.get(cols.author) in (None, "") else str(row[cols.author]),
        rating=parse_rating(row.get(cols.rating)) if cols.rating else None,
        metadata=metadata,
    )


def _reject(source: str, reason: str, row: Any, file: str, line: int) -> Rejected:
    try:
        raw = json.dumps(_jsonable(row), ensure_ascii=False)
    except (TypeError, ValueError):
        raw = repr(row)
    raw = raw.encode("utf-8", "replace").decode("utf-8")
    return Rejected(source=source, reason=reason, raw=raw[:MAX_RAW], file=file, line=line)


@dataclass
class FileConnector:
    """Reviews or tickets from one file. Iterating yields records and rejections."""

    path: Path
    source: str
    kind: str = "review"
    columns: ColumnMap = ColumnMap()
    cursor: str | None = None

    def rows(self) -> Iterator[tuple[int, dict[str, Any] | Rejected]]:
        for line, row in read_tabular(Path(self.path)):
            if isinstance(row, Rejected):
                yield line, replace(row, source=self.source)
            else:
                yield line, row

    def __iter__(self) -> Iterator[Item]:
        cols: ColumnMap | None = None
        pending: list[tuple[int, dict[str, Any]]] = []
        for line, row in self.rows():
            if isinstance(row, Rejected):
                yield row
                continue
            if cols is None:  # detect on the first rows, then stream
                pending.append((line, row))
                if len(pending) < 50:
                    continue
                cols = self._detect(pending)
                for ln, r in pending:
                    yield row_to_item(r, cols, self.source, self.kind, str(self.path), ln)
                pending = []
                continue
            yield row_to_item(row, cols, self.source, self.kind, str(self.path), line)
        if pending:
            cols = self._detect(pending)
            for ln, r in pending:
                yield row_to_item(r, cols, self.source, self.kind, str(self.path), ln)

    def _detect(self, pending: list[tuple[int, dict[str, Any]]]) -> ColumnMap:
        columns: list[str] = []
        for _, r in pending:
            columns.extend(k for k in r if k not in columns)
        return detect_columns(columns, [r for _, r in pending], self.columns)
