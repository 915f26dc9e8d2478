"""SaaS sources through dlt: a declarative REST API source (``dlt.sources.rest_api``) or an installed dlt
source, pulled incrementally into a staging DuckDB file that painpoints owns, then mapped to records.

Why dlt: it already has maintained paging (JSON link, cursor, offset, page number, Link header), auth,
retries with back-off and incremental state (``dlt.sources.incremental``), so a new SaaS source is a
config block instead of a hand-written API client.

How a pull works (``DltConnector``):

1. :meth:`fetch` runs the dlt pipeline. Each item is stored whole, as the API returned it, in a column
   ``_pp_raw`` of the staging table (a map step placed *after* dlt's incremental filter, so the cursor
   and the primary key are read from the original item). dlt keeps its incremental state and any
   unfinished load package in ``state_dir/pipelines`` and resumes them on the next run.
2. Iterating reads the rows of every completed dlt load newer than ``consumed`` (the load id the
   painpoints store committed last, kept in ``sync_state``), flattens them to dotted paths and maps
   them like file sources do (``connectors.files.row_to_item``); unmappable items become ``Rejected``.
3. The caller commits the records with :attr:`cursor` (the last load id read) in one transaction,
   then calls :meth:`prune` to drop the consumed rows from staging.

A crash before the commit leaves the staged rows to be read again; a crash after it is harmless
because rows up to the committed load id are skipped — nothing is lost or stored twice.
dlt is imported lazily: the core package does not need it (extra ``painpoints[dlt]``).
"""

from __future__ import annotations

import copy
import html
import importlib
import itertools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, cast

from painpoints.connectors.base import ColumnMap, Item, Rejected
from painpoints.connectors.files import detect_columns, flatten, row_to_item
from painpoints.connectors.readers import MAX_RAW, ConnectorError

RAW = "_pp_raw"
SEQ = "_pp_seq"
NOT_OBJECT = "_pp_not_object"
DATASET = "raw"
SAMPLE = 50
# dlt's anonymous usage telemetry would try the network on every run; off unless the user turned it on.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


@dataclass
class DltConnector:
    """Parameters: ``rest_api`` (a dlt ``RESTAPIConfig`` dict) or ``source_ref``
    (``"package.module:function"`` of an installed dlt source, called with ``args``); ``token`` (from
    the environment) fills the REST auth's secret field or ``token_arg``; ``state_dir`` holds dlt's
    state and the staging DuckDB; ``consumed`` is the last dlt load id already in the store."""

    source: str
    state_dir: Path
    kind: str = "ticket"
    columns: ColumnMap = ColumnMap()
    rest_api: dict[str, Any] | None = None
    source_ref: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    token: str | None = field(default=None, repr=False)
    token_arg: str | None = None
    consumed: str | None = None
    strip_html: bool = True

    def __post_init__(self) -> None:
        self._cursor = self.consumed
        self._pipeline: Any = None
        self.loads: list[str] = []

    @property
    def cursor(self) -> str | None:
        """The newest dlt load id read so far (the position to commit with the records)."""
        return self._cursor

    # -- 1. dlt: extract → normalize → load into staging ------------------------------------------

    def pipeline(self) -> Any:
        if self._pipeline is None:
            import dlt

            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._pipeline = dlt.pipeline(
                pipeline_name=_safe(f"painpoints_{self.source}"),
                pipelines_dir=str(self.state_dir / "pipelines"),
                destination=dlt.destinations.duckdb(str(self.state_dir / "staging.duckdb")),
                dataset_name=DATASET,
            )
        return self._pipeline

    def build_source(self) -> Any:
        """The dlt source with every resource storing its items whole (see module docstring)."""
        if self.rest_api is not None:
            from dlt.sources.rest_api import rest_api_source

            config = _with_secret(_rest_defaults(self.rest_api), self.token)
            dlt_source = rest_api_source(cast(Any, config), name=_safe(self.source))
        elif self.source_ref:
            module, _, func = self.source_ref.partition(":")
            if not func:
                raise ConnectorError(f"source {self.source_ref!r}: write it as 'package.module:function'")
            kwargs = dict(self.args)
            if self.token_arg and self.token is not None:
                kwargs[self.token_arg] = self.token
            dlt_source = getattr(importlib.import_module(module), func)(**kwargs)
        else:
            raise ConnectorError(f"dlt source {self.source!r}: set rest_api or source")
        from dlt.extract.items_transform import MapItem

        class _Raw(MapItem):
            placement_affinity = 2.0  # after incremental (1) and limit (1.1): they see the API's item

        counter = itertools.count()
        resources = getattr(dlt_source, "resources", None)
        for resource in resources.values() if resources is not None else [dlt_source]:
            resource.add_map(_guard(_key_columns(resource)))  # affinity 0: placed before the incremental step
            resource.add_step(_Raw(_wrapper(resource, counter)))
            resource.apply_hints(write_disposition="append")
        return dlt_source

    def fetch(self) -> list[str]:
        """Run the dlt pipeline once (finishing an earlier interrupted load first); the load ids."""
        from dlt.pipeline.exceptions import PipelineStepFailed

        try:
            info = self.pipeline().run(self.build_source())
        except PipelineStepFailed as err:
            cause = err.__cause__ or err.exception
            raise ConnectorError(f"dlt source {self.source!r} failed at {err.step}: {_clean(cause)}") from None
        return list(info.loads_ids)

    # -- 2. read the staged loads newer than `consumed` and map them ------------------------------

    def _tables(self) -> list[str]:
        schema = self.pipeline().default_schema if self.pipeline().default_schema_name else None
        if schema is None:
            return []
        return [t for t in schema.data_table_names() if RAW in schema.get_table_columns(t)]

    def staged(self) -> Iterator[tuple[str, str, dict[str, Any] | Rejected]]:
        """(table, load id, flattened item) of every unconsumed row, in load then arrival order."""
        tables = self._tables()
        if not tables:
            return
        union = " UNION ALL ".join(
            f"SELECT '{t}' AS t, {RAW}, {SEQ}, _dlt_load_id FROM {DATASET}.{_ident(t)}" for t in tables
        )
        query = (
            f"SELECT r.t, r.{RAW}, r._dlt_load_id FROM ({union}) r JOIN {DATASET}._dlt_loads l "
            "ON l.load_id = r._dlt_load_id AND l.status = 0 "
            "WHERE CAST(r._dlt_load_id AS DOUBLE) > CAST(%s AS DOUBLE) "
            f"ORDER BY CAST(r._dlt_load_id AS DOUBLE), r.{SEQ}"
        )
        with self.pipeline().sql_client() as client, client.execute_query(query, self.consumed or "0") as cur:
            while rows := cur.fetchmany(1000):
                for table, raw, load_id in rows:
                    yield table, load_id, self._parse(raw)

    def _parse(self, raw: str) -> dict[str, Any] | Rejected:
        item = json.loads(raw)
        if isinstance(item, dict) and list(item) == [NOT_OBJECT]:
            item = item[NOT_OBJECT]
            raw = json.dumps(item, ensure_ascii=False)
        if not isinstance(item, dict):
            return Rejected(self.source, f"item is {type(item).__name__}, not an object", raw[:MAX_RAW])
        return flatten(item)

    def __iter__(self) -> Iterator[Item]:
        if self._pipeline is None:
            self.fetch()
        cols: ColumnMap | None = None
        pending: list[tuple[str, dict[str, Any]]] = []
        for table, load_id, row in self.staged():
            if load_id not in self.loads:
                self.loads.append(load_id)
            self._cursor = load_id
            if isinstance(row, Rejected):
                yield row
                continue
            if cols is None:
                pending.append((table, row))
                if len(pending) < SAMPLE:
                    continue
                cols = self._detect([r for _, r in pending])
                yield from (self._map(r, cols, t) for t, r in pending)
                pending = []
                continue
            yield self._map(row, cols, table)
        if pending:
            cols = self._detect([r for _, r in pending])
            yield from (self._map(r, cols, t) for t, r in pending)

    def _detect(self, sample: list[dict[str, Any]]) -> ColumnMap:
        """Auto-detect unset fields on the first items; fields named in the config are trusted even
        when the sample lacks them (an optional API field), so such items are rejected one by one."""
        given = [c for c in (self.columns.id, self.columns.time, self.columns.rating, self.columns.author) if c]
        if self.columns.text:
            given.extend(p.strip() for p in self.columns.text.split("+"))
        names: list[str] = []
        for r in sample:
            names.extend(k for k in r if k not in names)
        names.extend(c for c in given if c not in names)
        cols = detect_columns(names, sample, self.columns)
        if cols.id is None:
            raise ConnectorError(f"dlt source {self.source!r}: no id field found among {names[:20]}; set id = ...")
        return cols

    def _map(self, row: dict[str, Any], cols: ColumnMap, table: str) -> Item:
        if row.get(cols.id or "") in (None, ""):
            return _reject(self.source, f"item without an id (field {cols.id!r})", row, table)
        item = row_to_item(row, cols, self.source, self.kind, table, 0)
        if isinstance(item, Rejected):
            item.line = None
            return item
        if self.strip_html and "<" in item.text:
            item.text = html_to_text(item.text)
            if not item.text:
                return _reject(self.source, "empty text", row, table)
        item.metadata["dlt_resource"] = table
        return item

    # -- 3. after the store committed ---------------------------------------------------------------

    def prune(self) -> None:
        """Drop staged rows the store has committed (up to :attr:`cursor`); they are never read again."""
        if self._cursor is None:
            return
        with self.pipeline().sql_client() as client:
            for t in self._tables():
                client.execute_sql(
                    f"DELETE FROM {DATASET}.{_ident(t)} WHERE CAST(_dlt_load_id AS DOUBLE) <= CAST(%s AS DOUBLE)",
                    self._cursor,
                )


def _rest_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of the REST config where an item missing its incremental cursor field is let through
    (dlt's default raises and fails the whole pull); the mapping then rejects it with its reason."""
    config = copy.deepcopy(config)
    endpoints = [r.get("endpoint") for r in config.get("resources", []) if isinstance(r, dict)]
    endpoints.append((config.get("resource_defaults") or {}).get("endpoint"))
    for ep in endpoints:
        if not isinstance(ep, dict):
            continue
        incs = [ep.get("incremental")] + [p for p in (ep.get("params") or {}).values() if isinstance(p, dict)]
        for inc in incs:
            if isinstance(inc, dict) and ("cursor_path" in inc):
                inc.setdefault("on_cursor_value_missing", "include")
    return config


def _with_secret(config: dict[str, Any], token: str | None) -> dict[str, Any]:
    """Put the token from the environment where the auth type wants it: bearer ``token``,
    ``api_key``, or the missing one of HTTP basic ``username``/``password`` (Freshdesk: the API key
    is the user name; Jira: the e-mail is the user name, the token the password)."""
    if token is None:
        return config
    client = config.setdefault("client", {})
    auth = client.get("auth")
    if auth is None:
        client["auth"] = {"type": "bearer", "token": token}
        return config
    if not isinstance(auth, dict):
        return config
    kind = auth.get("type", "bearer")
    if kind == "bearer":
        auth.setdefault("token", token)
    elif kind == "api_key":
        auth.setdefault("api_key", token)
    elif kind == "http_basic":
        auth.setdefault("password" if "username" in auth else "username", token)
        auth.setdefault("password", "X")
    elif kind == "oauth2_client_credentials":
        auth.setdefault("client_secret", token)
    return config


def _key_columns(resource: Any) -> list[str]:
    """Top-level columns of dlt's table hints (primary key, declared columns, and once extraction
    started the incremental cursor): copied beside the raw item, so loading neither fails on a
    required column nor warns about an empty one."""
    try:
        columns = resource.compute_table_schema().get("columns", {})
    except Exception:  # noqa: BLE001 - dynamic hints need an item; then there is nothing to copy
        return []
    return [name for name in columns if name not in (RAW, SEQ)]


def _guard(keys: list[str]) -> Any:
    """The map step *before* dlt's incremental filter: a non-object item is boxed and an object
    missing its primary key gets ``None`` there, so dlt lets it through (it raises on both and fails
    the whole pull) and the mapping rejects it with a reason."""

    def guard(item: Any) -> Any:
        if not isinstance(item, dict):
            return {NOT_OBJECT: item}
        missing = [k for k in keys if k not in item]
        return {**item, **dict.fromkeys(missing)} if missing else item

    return guard


def _wrapper(resource: Any, counter: Iterator[int]) -> Any:
    """The map step: the item as JSON text (``_pp_raw``), its arrival number, and the columns dlt's
    hints name (read at the first item, when the incremental has added its cursor column). One
    argument only: dlt passes ``meta`` to a second one."""
    keys: list[str] = []
    started = False

    def wrap(item: Any) -> dict[str, Any]:
        nonlocal keys, started
        if not started:
            keys, started = _key_columns(resource), True
        row: dict[str, Any] = {RAW: json.dumps(item, default=str, ensure_ascii=False), SEQ: next(counter)}
        for key in keys:
            value = item.get(key) if isinstance(item, dict) else None
            row[key] = "" if value is None else value
        return row

    return wrap


class _Text(HTMLParser):
    BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "blockquote", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(value: str) -> str:
    """Intercom, Freshdesk and Zendesk send message bodies as HTML; the segmenter wants plain text.
    Only strings that hold tags are parsed (``a < b`` stays as it is)."""
    if not re.search(r"</?[a-zA-Z][^>]*>", value):
        return value
    parser = _Text()
    parser.feed(value)
    parser.close()
    text = html.unescape("".join(parser.parts)).replace("\xa0", " ")
    lines = (re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _reject(source: str, reason: str, row: dict[str, Any], table: str) -> Rejected:
    raw = json.dumps(row, default=str, ensure_ascii=False)[:MAX_RAW]
    return Rejected(source=source, reason=reason, raw=raw, file=table)


def _safe(name: str) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "source"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _clean(err: BaseException | None) -> str:
    """The first line of dlt's error, with query strings cut (they may carry a token)."""
    text = str(err).strip().splitlines()[0] if err is not None and str(err).strip() else type(err).__name__
    return re.sub(r"\?\S*", "?…", text)[:500]
