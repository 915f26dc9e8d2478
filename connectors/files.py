"""Review and ticket exports: CSV (any dialect/encoding), JSON, JSONL and Parquet.

Columns are mapped explicitly (``ColumnMap``) or auto-detected from common names; every unmapped
column is kept in ``metadata``. Files are streamed row by row (Parquet in batches), so a large export
never has to fit in memory; JSON arrays are the exception (use JSONL for big files).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

from connectors.base import FeedbackRecord, Item, Rejected

csv.field_size_limit(2**31 - 1)  # 10 MB cells are legitimate (pasted logs); the store truncates raw only

TEXT_NAMES = ("text", "body", "review", "review_text", "comment", "comments", "content", "description",
              "narrative", "consumer_complaint_narrative", "message", "feedback", "customer_service",
              "transcript", "conversation", "customer_text", "utterance", "complaint", "summary")
ID_NAMES = ("id", "external_id", "review_id", "reviewid", "ticket_id", "complaint_id", "conversation_id",
            "convo_id", "uuid", "key")
TIME_NAMES = ("created_at", "created", "date", "timestamp", "time", "date_received", "submitted_at",
              "review_date", "updated_at", "at")
RATING_NAMES = ("rating", "stars", "score", "star_rating", "satisfaction")
AUTHOR_NAMES = ("author", "user", "username", "user_name", "customer", "customer_name", "reviewer", "name")
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%d.%m.%Y", "%Y/%m/%d",
                "%m/%d/%Y %H:%M", "%d %b %Y", "%b %d, %Y")
MAX_RAW = 10_000


class ConnectorError(ValueError):
    """A whole file cannot be read (unknown format, no text column); rows are never lost silently."""


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which input column feeds which record field; ``None`` means auto-detect."""

    text: str | None = None
    id: str | None = None
    time: str | None = None
    rating: str | None = None
    author: str | None = None


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
        text = max(lengths, key=lengths.get) if lengths and max(lengths.values()) > 0 else None
    if text is None:
        raise ConnectorError(f"no text column found among {columns}; pass --text COLUMN")
    taken.add(text)
    out = {"text": text}
    for field_name, names in (("id", ID_NAMES), ("time", TIME_NAMES), ("rating", RATING_NAMES),
                              ("author", AUTHOR_NAMES)):
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
        return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc).replace(tzinfo=None)
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


def row_to_item(row: dict[str, Any], cols: ColumnMap, source: str, kind: str, file: str,
                line: int) -> Item:
    """Map one input row to a record, or reject it with the reason."""
    raw = row.get(cols.text)
    if raw is None or (isinstance(raw, float) and raw != raw):
        return _reject(source, "empty text", row, file, line)
    if not isinstance(raw, str):
        if isinstance(raw, (dict, list)):
            return _reject(source, f"text column {cols.text!r} holds {type(raw).__name__}, not text",
                           row, file, line)
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
        source=source, kind=kind, text=text,
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


MULTIBYTE = {"shift_jis", "cp932", "euc_jp", "gb2312", "gb18030", "gbk", "big5", "euc_kr", "cp949", "utf_16",
             "utf_32", "iso2022_jp", "hz"}


def detect_encoding(path: Path) -> str:
    """BOM first; UTF-8 when the sample holds valid multibyte UTF-8 (corrupt bytes are then rejected
    per row); a multibyte encoding when charset-normalizer finds one; else cp1252/latin-1, the usual
    legacy export encodings (short samples make single-byte guesses unreliable)."""
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    decoded = head.decode("utf-8", errors="replace")
    errors = decoded.count("\ufffd")
    valid_multibyte = sum(1 for ch in decoded if ord(ch) > 0x7F and ch != "\ufffd")
    if errors == 0 or valid_multibyte > 0:  # legacy 8-bit text almost never forms valid UTF-8 sequences
        return "utf-8"
    best = from_bytes(head).best()
    if best is not None and best.encoding.replace("-", "_") in MULTIBYTE:
        return best.encoding
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def read_tabular(path: Path) -> Iterator[tuple[int, dict[str, Any] | Rejected]]:
    """Yield ``(line, row)`` for any supported file; unreadable rows come back as ``Rejected``
    with source left empty (the caller fills it)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        yield from _read_csv(path)
    elif suffix in (".jsonl", ".ndjson"):
        yield from _read_jsonl(path)
    elif suffix == ".json":
        yield from _read_json(path)
    elif suffix in (".parquet", ".pq"):
        yield from _read_parquet(path)
    else:
        raise ConnectorError(f"{path}: unsupported file type {suffix!r} (csv, tsv, json, jsonl, parquet)")


def _read_csv(path: Path) -> Iterator[tuple[int, dict[str, Any] | Rejected]]:
    encoding = detect_encoding(path)
    with path.open("r", encoding=encoding, errors="surrogateescape", newline="") as fh:
        header_line = fh.readline().replace("\x00", "")
        fh.seek(0)
        # Sniff the delimiter on the header only: multi-line quoted cells (transcripts) mislead the
        # sniffer on longer samples. Quoting follows RFC 4180 (excel dialect: "" escapes a quote).
        try:
            delimiter = csv.Sniffer().sniff(header_line, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        dialect: Any = type("Dialect", (csv.excel,), {"delimiter": delimiter})
        has_header = path.suffix.lower() == ".csv" or _sniff_header(fh, dialect)
        reader = csv.reader((line.replace("\x00", "") for line in fh), dialect)
        try:
            first = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise ConnectorError(f"{path}: cannot read CSV header: {err}") from err
        header = [h.strip() or f"column_{i}" for i, h in enumerate(first)] if has_header else \
            [f"column_{i}" for i in range(len(first))]
        if not has_header:
            yield reader.line_num, dict(zip(header, first))
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                yield reader.line_num, Rejected("", f"malformed CSV row: {err}", "", str(path), reader.line_num)
                continue
            if not values or all(not v.strip() for v in values):
                continue
            if len(values) != len(header):
                raw = dialect.delimiter.join(values) if hasattr(dialect, "delimiter") else str(values)
                yield reader.line_num, Rejected(
                    "", f"expected {len(header)} fields, got {len(values)}",
                    raw.encode("utf-8", "replace").decode("utf-8")[:MAX_RAW], str(path), reader.line_num)
                continue
            yield reader.line_num, dict(zip(header, values))


def _sniff_header(fh: Any, dialect: Any) -> bool:
    """``.csv`` files always have a header; ``.txt``/``.tsv`` exports often do not ("text<TAB>label")."""
    sample = "".join(fh.readline() for _ in range(50)).replace("\x00", "")
    fh.seek(0)
    try:
        return csv.Sniffer().has_header(sample)
    except csv.Error:
        return True


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | Rejected]]:
    with path.open("r", encoding=detect_encoding(path), errors="surrogateescape") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (json.JSONDecodeError, RecursionError) as err:
                yield number, Rejected("", f"invalid JSON: {err}", _clean_raw(line), str(path), number)
                continue
            if not isinstance(obj, dict):
                yield number, Rejected("", f"expected a JSON object, got {type(obj).__name__}",
                                       _clean_raw(line), str(path), number)
                continue
            yield number, obj


def _clean_raw(line: str) -> str:
    return line.encode("utf-8", "replace").decode("utf-8").strip()[:MAX_RAW]


def _read_json(path: Path) -> Iterator[tuple[int, dict[str, Any] | Rejected]]:
    """A JSON array of rows, or an object holding arrays (``{"data": [...]}``, or named splits such as
    ``{"train": [...], "test": [...]}``, whose name is kept as ``_group``). Rows may be objects or
    arrays of values (``["text", "label"]`` → ``column_0``, ``column_1``)."""
    text = path.read_text(encoding=detect_encoding(path), errors="surrogateescape")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise ConnectorError(f"{path}: invalid JSON: {err}") from err
    groups: list[tuple[str | None, Any]]
    if isinstance(data, dict):
        lists = {k: v for k, v in data.items() if isinstance(v, list)}
        groups = ([(None, next(iter(lists.values())))] if len(lists) == 1
                  else [(k, v) for k, v in lists.items()] if lists else [(None, [data])])
    elif isinstance(data, list):
        groups = [(None, data)]
    else:
        raise ConnectorError(f"{path}: expected a JSON array of objects")
    number = 0
    for group, rows in groups:
        for obj in rows:
            number += 1
            if isinstance(obj, list) and all(not isinstance(v, (dict, list)) for v in obj):
                obj = {f"column_{i}": v for i, v in enumerate(obj)}
            if isinstance(obj, dict):
                yield number, obj if group is None else {**obj, "_group": group}
            else:
                yield number, Rejected("", f"expected a JSON object, got {type(obj).__name__}",
                                       _clean_raw(json.dumps(obj, default=str)), str(path), number)


def _read_parquet(path: Path) -> Iterator[tuple[int, dict[str, Any] | Rejected]]:
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
        for row in batch.to_pylist():
            number += 1
            yield number, row


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
