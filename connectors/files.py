"""Review and ticket exports → records: column mapping and auto-detection over the rows that
``connectors.readers`` reads from CSV, JSON, JSONL and Parquet.

Columns are mapped explicitly (``ColumnMap``) or auto-detected from the alias table below (documented
in docs/ingest_formats.md); every unmapped column is kept in ``metadata``. Nested objects are flattened
to dotted paths (``{"attributes": {"body": …}}`` → column ``attributes.body``), so a mapping can name
any nested field, and the text may join several columns (``title+body``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from painpoints.connectors.base import ColumnMap, FeedbackRecord, Item, Rejected
from painpoints.connectors.readers import MAX_RAW, ConnectorError, detect_encoding, read_tabular

__all__ = [
    "ColumnMap",
    "ConnectorError",
    "FileConnector",
    "detect_columns",
    "detect_encoding",
    "flatten",
    "parse_rating",
    "parse_time",
    "row_to_item",
    "text_columns",
]

# The alias table: normalised column names (lower case, camelCase split, non-alphanumerics → "_") that
# each field is taken from when no mapping is given, in order of preference. Keep docs/ingest_formats.md
# in step with it.

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
# A title found beside the text is put before it on its own line (app-store reviews, Jira, e-mail).
TITLE_NAMES = ("review_title", "title", "subject", "headline", "summary")
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
    "review_link",
)
TIME_NAMES = (
    "review_submit_date_and_time",
    "review_submit_millis_since_epoch",
    "created_at",
    "created_date",
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
RATING_NAMES = ("rating", "star_rating", "stars", "score", "satisfaction")
AUTHOR_NAMES = (
    "author",
    "author_name",
    "reviewer_nickname",
    "nickname",
    "user",
    "username",
    "user_name",
    "customer",
    "customer_name",
    "reviewer",
    "name",
)
BLANK = {"", "n/a", "na", "none", "null", "-", "nan"}
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
    "%b %d, %Y %I:%M %p",
    "%a %b %d %H:%M:%S %z %Y",  # Twitter's created_at
)
# Past the alias table, a column is an id or a time by the shape of its name and of its sample values.
# An id is named after the feedback object and its sample values are distinct: the finest object first
# (a comments export's ``comment_id`` before its ``post_id``, which repeats further down the file), and
# never another object's id (``clothing_id``, ``user_id`` repeat across rows and would merge them). A
# time is named as one and its sample values parse as dates after 1990 (``user_timezone`` does not, nor
# does a duration such as ``time_taken`` = 120); creation words first, ``updated`` last, and never a
# date of birth or a due date. Exports name these after their object, so no alias list holds them all.
ID_OBJECTS = (
    "tweet status comment reply message msg review response answer survey_response feedback submission entry "
    "record interaction note post ticket case conversation chat call issue complaint"
).split()
ID_SHAPE = re.compile(rf"^({'|'.join(ID_OBJECTS)})_?(id|uuid|key|number|no)$")
TIME_SHAPES = (
    re.compile(r"(^|_)(created|posted|submitted|published|received|sent|written)(_|$)"),
    re.compile(r"(^|_)(date|time|datetime|timestamp)(_|$)"),
    re.compile(r"(^|_)(updated|modified)(_|$)"),
)
NOT_TIME = re.compile(r"(^|_)(birth|dob|due|expiry|expires|expiration|zone|timezone|taken|duration|spent)(_|$)")
EARLIEST_TIME = datetime(1990, 1, 1)


def _norm(name: str) -> str:
    """``"Review Submit Date and Time"`` → ``review_submit_date_and_time``, ``createdDate`` → ``created_date``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name).strip())
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    """Nested objects → dotted keys: ``{"attributes": {"body": "x"}}`` → ``{"attributes.body": "x"}``.
    Lists stay values; a literal key wins over a nested path that spells the same name. Iterative, so
    any depth the JSON parser accepted is fine."""
    if not any(isinstance(v, dict) and v for v in row.values()):
        return row
    out: dict[str, Any] = {}
    stack: list[tuple[str, Iterator[tuple[Any, Any]]]] = [("", iter(row.items()))]
    while stack:
        prefix, entries = stack[-1]
        for key, value in entries:
            name = f"{prefix}{key}"
            if isinstance(value, dict) and value:
                stack.append((f"{name}.", iter(value.items())))
                break
            out.setdefault(name, value)
        else:
            stack.pop()
    return out


def text_columns(spec: str, columns: Iterable[str]) -> tuple[str, ...]:
    """The columns a text mapping names: one column, or several joined by ``+`` (``title+body``).
    A column whose own name holds ``+`` is taken whole."""
    columns = list(columns)
    present = set(columns)
    if spec in present:
        return (spec,)
    parts = tuple(p.strip() for p in spec.split("+"))
    if len(parts) > 1 and all(parts) and all(p in present for p in parts):
        return parts
    missing = [p for p in parts if p not in present] or [spec]
    raise _not_found("text", missing[0], columns)


def _not_found(field_name: str, col: str, columns: list[str]) -> ConnectorError:
    fields = [c for c in columns if c.startswith(f"{col}.")]
    if fields:
        return ConnectorError(
            f"--{field_name} column {col!r} holds an object; name one of its fields with a dotted path: "
            + ", ".join(fields[:10])
        )
    return ConnectorError(f"--{field_name} column {col!r} not found; columns are {columns}")


def _candidates(columns: list[str], names: tuple[str, ...], taken: set[str]) -> list[str]:
    """Columns matching the aliases ``names``, best first: whole (normalised) names in alias order, then
    nested paths by their last part (``attributes.createdDate`` as ``created_date``), shallow first."""
    free = [c for c in columns if c not in taken]
    whole: dict[str, str] = {}
    for c in free:
        whole.setdefault(_norm(c), c)
    out = [whole[n] for n in names if n in whole]
    nested = sorted((c for c in free if "." in c and c not in out), key=lambda c: c.count("."))
    for name in names:
        out.extend(c for c in nested if _norm(c.rsplit(".", 1)[1]) == name and c not in out)
    return out


def _pick(columns: list[str], names: tuple[str, ...], taken: set[str]) -> str | None:
    found = _candidates(columns, names, taken)
    return found[0] if found else None


def _numeric(column: str, sample: list[dict[str, Any]]) -> bool:
    """Does the sample show a rating column (mostly numbers, or blank), not labels that merely share the
    name? A few bad cells in a rating column are then rejected row by row, with the reason."""
    values = [r.get(column) for r in sample if not _blank(r.get(column))]
    return sum(parse_rating(v) is not None for v in values) * 2 > len(values)


def _by_shape(field_name: str, columns: list[str], sample: list[dict[str, Any]], taken: set[str]) -> str | None:
    """An id or time column the alias table does not name (``ID_SHAPE``, ``TIME_SHAPES``), judged by
    its sample values; the best-ranked such column, then the first in column order."""
    names = {c: _norm(c.rsplit(".", 1)[-1]) for c in columns if c not in taken}
    found: list[tuple[int, int, str]] = []
    for order, (c, name) in enumerate(names.items()):
        values = [r.get(c) for r in sample if not _blank(r.get(c))]
        if not values:
            continue
        if field_name == "id" and (m := ID_SHAPE.match(name)) and len(values) == len(sample):
            if len({str(v) for v in values}) == len(values):
                found.append((ID_OBJECTS.index(m.group(1)), order, c))
        if field_name == "time" and not NOT_TIME.search(name):
            rank = next((i for i, shape in enumerate(TIME_SHAPES) if shape.search(name)), None)
            if rank is not None and not isinstance(values[0], bool):
                parsed = [parse_time(v) for v in values]
                if sum(p is not None and p >= EARLIEST_TIME for p in parsed) * 2 > len(values):
                    found.append((rank, order, c))
    return min(found)[2] if found else None


def detect_columns(columns: list[str], sample: list[dict[str, Any]], given: ColumnMap) -> ColumnMap:
    """Fill the unset fields of ``given`` from the alias table; the text column falls back to the
    string column with the longest average value in ``sample``. An auto-detected text is prefixed by a
    title column when there is one (``title+text``); a rating column is auto-detected only when its
    sample values are numbers."""
    for field_name in ("id", "time", "rating", "author"):
        col = getattr(given, field_name)
        if col is not None and col not in columns:
            raise _not_found(field_name, col, columns)
    taken = {c for c in (given.id, given.time, given.rating, given.author) if c}
    if given.text is not None:
        taken.update(text_columns(given.text, columns))
        text = given.text
    else:
        found = _pick(columns, TEXT_NAMES, taken)
        if found is None:
            lengths = {c: sum(len(str(r.get(c) or "")) for r in sample) for c in columns if c not in taken}
            found = max(lengths, key=lambda c: lengths[c]) if lengths and max(lengths.values()) > 0 else None
        if found is None:
            raise ConnectorError(f"no text column found among {columns}; pass --text COLUMN")
        taken.add(found)
        title = _pick(columns, TITLE_NAMES, taken)
        if title is not None and "+" not in title + found:
            taken.add(title)
            found = f"{title}+{found}"
        text = found
    out: dict[str, str | None] = {"text": text}
    for field_name, names in (
        ("id", ID_NAMES),
        ("time", TIME_NAMES),
        ("rating", RATING_NAMES),
        ("author", AUTHOR_NAMES),
    ):
        col = getattr(given, field_name)
        if col is None:
            found_cols = _candidates(columns, names, taken)
            if field_name == "rating":
                found_cols = [c for c in found_cols if _numeric(c, sample)]
            col = found_cols[0] if found_cols else _by_shape(field_name, columns, sample, taken)
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
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    return None


RATING_NUMBER = re.compile(r"\s*([-+]?\d+(?:[.,]\d+)?)\s*(?:/\s*\d+|stars?|%)?\s*$", re.IGNORECASE)


def parse_rating(value: Any) -> float | None:
    """Numbers, ``"4"``, ``"4.5"``, ``"4,5"``, ``"4/5"``, ``"4 stars"``, ``"★★★★☆"``; None when blank or
    not a rating (``"five"``: the caller rejects the row)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value == value else None  # NaN → None
    text = str(value).strip()
    if text and set(text) <= {"★", "☆"}:
        return float(text.count("★"))
    match = RATING_NUMBER.fullmatch(text)
    return float(match.group(1).replace(",", ".")) if match else None


def _blank(value: Any) -> bool:
    if value is None or (isinstance(value, float) and value != value):
        return True
    return isinstance(value, str) and value.strip().lower() in BLANK


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def row_to_item(row: dict[str, Any], cols: ColumnMap, source: str, kind: str, file: str, line: int) -> Item:
    """Map one input row to a record, or reject it with the reason. The text is the mapped column, or
    the non-empty ones of ``a+b+…`` joined by newlines (a review's title alone when its body is empty)."""
    parts = (cols.text,) if not cols.text or cols.text in row else tuple(p.strip() for p in cols.text.split("+"))
    texts: list[str] = []
    for col in parts:
        raw = row.get(col) if col else None
        if raw is None or (isinstance(raw, float) and raw != raw):
            nested = sorted(k for k in row if col and str(k).startswith(f"{col}."))
            if nested:
                return _reject(
                    source,
                    f"text column {col!r} holds an object, not text; map a field of it with a dotted path "
                    f"such as {nested[0]!r}",
                    row,
                    file,
                    line,
                )
            continue
        if not isinstance(raw, str):
            if isinstance(raw, (dict, list)):
                return _reject(source, f"text column {col!r} holds {type(raw).__name__}, not text", row, file, line)
            raw = str(raw)
        if any("\udc80" <= ch <= "\udcff" for ch in raw):
            return _reject(source, "undecodable bytes in text", row, file, line)
        if raw.replace("\x00", "").strip():
            texts.append(raw.replace("\x00", ""))
    if not texts:
        return _reject(source, "empty text", row, file, line)
    text = "\n".join(texts)
    rating_raw = row.get(cols.rating) if cols.rating else None
    rating = parse_rating(rating_raw)
    if rating is None and not _blank(rating_raw):
        return _reject(
            source, f"unparseable rating: {str(rating_raw)[:40]!r} in column {cols.rating!r}", row, file, line
        )
    mapped = {c for c in (*parts, cols.id, cols.time, cols.rating, cols.author) if c}
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
        rating=rating,
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
        """The file's rows, nested objects flattened to dotted columns."""
        for line, row in read_tabular(Path(self.path)):
            if isinstance(row, Rejected):
                yield line, replace(row, source=self.source)
            else:
                yield line, flatten(row)

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
