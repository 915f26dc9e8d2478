"""File formats → rows: CSV/TSV (any delimiter, encoding, with or without header), JSON, JSONL and
Parquet. Rows come out as dicts, or as ``Rejected`` with the reason when a row cannot be read.

Files are streamed row by row (Parquet in batches), so a large export never has to fit in memory;
JSON arrays are the exception (use JSONL for big files).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

from painpoints.connectors.base import Rejected

csv.field_size_limit(2**31 - 1)  # 10 MB cells are legitimate (pasted logs); the store truncates raw only
MAX_RAW = 10_000


class ConnectorError(ValueError):
    """A whole file cannot be read (unknown format, no text column); rows are never lost silently."""


MULTIBYTE = {
    "shift_jis",
    "cp932",
    "euc_jp",
    "gb2312",
    "gb18030",
    "gbk",
    "big5",
    "euc_kr",
    "cp949",
    "utf_16",
    "utf_32",
    "iso2022_jp",
    "hz",
}


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
        try:  # a tab in the first line wins: tabs are rare in text, commas are not ("very, very slow")
            delimiter = "\t" if "\t" in header_line else csv.Sniffer().sniff(header_line, delimiters=",;|").delimiter
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
        header = (
            [h.strip() or f"column_{i}" for i, h in enumerate(first)]
            if has_header
            else [f"column_{i}" for i in range(len(first))]
        )
        if not has_header:
            yield reader.line_num, dict(zip(header, first, strict=True))
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
                yield (
                    reader.line_num,
                    Rejected(
                        "",
                        f"expected {len(header)} fields, got {len(values)}",
                        raw.encode("utf-8", "replace").decode("utf-8")[:MAX_RAW],
                        str(path),
                        reader.line_num,
                    ),
                )
                continue
            yield reader.line_num, dict(zip(header, values, strict=True))


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
                yield (
                    number,
                    Rejected(
                        "", f"expected a JSON object, got {type(obj).__name__}", _clean_raw(line), str(path), number
                    ),
                )
                continue
            yield number, obj


def _clean_raw(line: str) -> str:
    return line.encode("utf-8", "replace").decode("utf-8").strip()[:MAX_RAW]


def _read_json(path: Path) -> Iterator[tuple[int, dict[str, Any] | Rejected]]:
    """A JSON array of rows, a JSON:API document (its ``data`` resources), or an object holding arrays
    (``{"data": [...]}``, or named splits such as ``{"train": [...], "test": [...]}``, whose name is kept
    as ``_group``). Rows may be objects or arrays of values (``["text", "label"]`` → ``column_0``,
    ``column_1``)."""
    text = path.read_text(encoding=detect_encoding(path), errors="surrogateescape")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise ConnectorError(f"{path}: invalid JSON: {err}") from err
    groups: list[tuple[str | None, Any]]
    if _is_jsonapi(data):  # {"data": [...], "links": …, "meta": …, "included": […]}: the records are data
        primary = data["data"]
        groups = [(None, primary if isinstance(primary, list) else [primary])]
    elif isinstance(data, dict):
        lists = {k: v for k, v in data.items() if isinstance(v, list)}
        groups = (
            [(None, next(iter(lists.values())))]
            if len(lists) == 1
            else [(k, v) for k, v in lists.items()]
            if lists
            else [(None, [data])]
        )
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
                yield (
                    number,
                    Rejected(
                        "",
                        f"expected a JSON object, got {type(obj).__name__}",
                        _clean_raw(json.dumps(obj, default=str)),
                        str(path),
                        number,
                    ),
                )


JSONAPI_KEYS = {"data", "links", "meta", "included", "jsonapi", "errors"}


def _is_jsonapi(data: Any) -> bool:
    """A JSON:API document (App Store Connect, many REST APIs): top-level ``data`` holding resource
    objects (``type`` + ``id``/``attributes``) beside only JSON:API members. ``included`` holds related
    resources (e.g. developer responses), not feedback, and is not read."""
    if not isinstance(data, dict) or "data" not in data or not set(data) <= JSONAPI_KEYS:
        return False
    primary = data["data"]
    items = primary if isinstance(primary, list) else [primary]
    return bool(items) and all(
        isinstance(i, dict) and "type" in i and ("attributes" in i or "id" in i) for i in items[:50]
    )


def _read_parquet(path: Path) -> Iterator[tuple[int, dict[str, Any] | Rejected]]:
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
        for row in batch.to_pylist():
            number += 1
            yield number, row
