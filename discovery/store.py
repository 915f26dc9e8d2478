"""The DuckDB store: connection, schema migrations and named SQL from ``sql/``, transactions, the
Arrow helpers the other store modules write and read through, queries.

Every write to DuckDB goes through this module, ``discovery.ingeststore`` (feedback, rejected rows,
sync cursors), ``discovery.segmentstore`` (segments, the embeddings cache) or ``discovery.runstore``
(a run's input, the run log, theme state, curation); outside them only the report reads the views.
Writes that belong together happen in one transaction, so a crash leaves either the old state or the
new one, never half of each.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential,
    wait_random_exponential,
)

from painpoints.discovery import lake

log = logging.getLogger(__name__)
T = TypeVar("T")
_HERE = "database_name = current_database()"  # catalog queries look at the store, not an attached lake's metadata


class StoreError(RuntimeError):
    """The database cannot be opened or used as asked."""


def sql_dir() -> Path:
    """``sql/`` of a source checkout, else the copy packed into the wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "sql", here / "_sql"):
        if (candidate / "schema").is_dir():
            return candidate
    raise StoreError("sql/ directory not found next to the discovery package")


def connect(
    path: str | Path, read_only: bool = False, lock_wait: float = 60.0, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Open (and, for writers, create or migrate) the database at ``path``.

    DuckDB allows one writing process, and any connection held by another process (a PM's notebook,
    the duckdb CLI, even read-only) blocks a writer. A writer therefore waits with backoff for up to
    ``lock_wait`` seconds, saying once what it waits for, then fails with a clear ``StoreError``;
    nothing is written before the lock is held, so waiting never corrupts anything.
    """
    path = Path(path)
    in_lake = lake.is_lake(path)
    if read_only and not exists(path):
        raise StoreError(f"database {path} does not exist; ingest something first")
    if not in_lake:
        path.parent.mkdir(parents=True, exist_ok=True)
    # readers may not touch the file system either: `COPY ... TO`, `read_csv('/etc/...')` are refused
    # (a lake reader is shut off once its data is attached: lake.connect)
    config: dict[str, Any] = {"enable_external_access": False} if read_only and not in_lake else {}
    if memory_limit:  # DuckDB spills to disk beyond it (ingest: a big file's transaction)
        config["memory_limit"] = memory_limit

    def warn_once(state: RetryCallState) -> None:
        if state.attempt_number == 1:
            log.warning(
                "%s is locked by another process (%s); waiting up to %.0f s. Close that connection "
                "or open the database read-only.",
                path,
                _lock_holder(state),
                lock_wait,
            )

    opener = Retrying(
        retry=retry_if_exception(_is_lock_error),
        stop=stop_after_delay(lock_wait),
        wait=wait_exponential(multiplier=0.2, max=5),
        before_sleep=warn_once,
        reraise=True,
    )
    try:
        if in_lake:
            con = opener(lake.connect, path, read_only, lake_data_path(), config)
        else:
            con = opener(duckdb.connect, str(path), read_only=read_only, config=config)
    except duckdb.IOException as err:
        if "created with an newer version" in str(err) or "created with a newer version" in str(err):
            raise StoreError(NEWER_FILE.format(path=path, version=duckdb.__version__)) from err
        hint = f" (waited {lock_wait:.0f} s for another process to release it)" if _is_lock_error(err) else ""
        raise StoreError(f"cannot open {path}{hint}: {err}") from err
    except (duckdb.Error, lake.LakeError) as err:
        raise StoreError(f"cannot open {path}: {err}") from err
    try:
        if read_only:
            if check_version(con) < len(migrations()) or not _views_current(con):
                con.close()  # made by an older painpoints: upgrade it once, as a writer would, then read
                _upgrade(path, lock_wait)
                return connect(path, read_only=True, lock_wait=lock_wait, memory_limit=memory_limit)
        else:
            migrate(con)
    except BaseException:
        con.close()
        raise
    return con


NEWER_FILE = (
    "{path} was written by a newer DuckDB than the {version} painpoints pins (DuckLake's extensions exist only "
    "for it). Convert it once in a DuckDB 2.x session: ATTACH '{path}' AS src; ATTACH '{path}.v15' AS dst "
    "(STORAGE_VERSION 'v1.5.0'); COPY FROM DATABASE src TO dst; then use {path}.v15 (docs/scale.md)"
)


def exists(path: str | Path) -> bool:
    """Whether the database exists: the DuckDB file, or a DuckLake's catalog."""
    return lake.exists(path) if lake.is_lake(path) else Path(path).exists()


def lake_data_path() -> str | None:
    """``lake_data_path`` of the settings (``PAINPOINTS_LAKE_DATA_PATH``): where a new lake keeps its
    Parquet files. Read here, not passed in, because every opener of the store would have to carry it."""
    from painpoints.discovery.settings import load_settings

    return load_settings().lake_data_path


def _upgrade(path: Path, lock_wait: float) -> None:
    """Migrate a database a reader found older than this code (schema or views)."""
    try:
        connect(path, lock_wait=lock_wait).close()
    except StoreError as err:
        raise StoreError(
            f"{path} was made by an older painpoints and must be upgraded once before it can be read, "
            f"but another process holds it; try again when it is done ({err})"
        ) from err


def _views_digest() -> tuple[str, str]:
    views = "\n".join(f.read_text() for f in sorted((sql_dir() / "views").glob("*.sql")))
    return views, hashlib.sha256(views.encode()).hexdigest()


def _views_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database's views are this code's (view SQL changes without a migration)."""
    if not scalar(con, f"SELECT count(*) FROM duckdb_tables() WHERE {_HERE} AND table_name = 'schema_views'"):
        return False
    return bool(scalar(con, "SELECT count(*) FROM schema_views WHERE sha256 = ?", [_views_digest()[1]]))


# ----------------------------------------------------------------------------------------- schema
@functools.cache
def migrations() -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` of ``sql/schema/NNN_name.sql`` in version order. A migration is
    applied once per database; files are only ever added, never edited in meaning."""
    found = []
    for file in sorted((sql_dir() / "schema").glob("*.sql")):
        match = re.fullmatch(r"(\d+)_(\w+)\.sql", file.name)
        if not match:
            raise StoreError(f"migration file name must be NNN_name.sql: {file.name}")
        found.append((int(match.group(1)), match.group(2), file.read_text()))
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(found) + 1)):
        raise StoreError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The newest migration applied to this database; 0 for an empty (or pre-versioning) one."""
    if not scalar(con, f"SELECT count(*) FROM duckdb_tables() WHERE {_HERE} AND table_name = 'schema_version'"):
        return 0
    return int(scalar(con, "SELECT coalesce(max(version), 0) FROM schema_version"))


def check_version(con: duckdb.DuckDBPyConnection) -> int:
    """The database's schema version; a ``StoreError`` when it is newer than this code knows, since
    older code could misread or damage tables it does not know."""
    have, known = schema_version(con), len(migrations())
    if have > known:
        raise StoreError(
            f"this database has schema version {have}, newer than this painpoints knows "
            f"({known}); upgrade painpoints to use it"
        )
    return have


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply pending migrations in order, each with its version row in one transaction, then
    (re)create the views when their SQL changed; returns how many migrations ran.

    Databases made before versioning hold the tables of migrations 1–3 already: those files are
    idempotent (``IF NOT EXISTS``), so they run again harmlessly and get recorded."""
    have = check_version(con)
    applied = 0
    adapt = lake.lake_ddl if lake.is_lake_connection(con) else str
    for version, name, ddl in migrations()[have:]:
        with transaction(con, token=False):
            con.execute(adapt(SCHEMA_VERSION_DDL))
            con.execute(adapt(ddl))
            con.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)", [version, name, utc_now()]
            )
        applied += 1
    views, digest = _views_digest()
    if applied or not scalar(con, "SELECT count(*) FROM schema_views WHERE sha256 = ?", [digest]):
        with transaction(con, token=False):
            con.execute(views)
            con.execute("DELETE FROM schema_views")
            con.execute("INSERT INTO schema_views (sha256, applied_at) VALUES (?, ?)", [digest, utc_now()])
    return applied


SCHEMA_VERSION_DDL = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
    "applied_at TIMESTAMP NOT NULL); "
    "CREATE TABLE IF NOT EXISTS schema_views (sha256 VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
)


@functools.cache
def _named_queries() -> dict[str, str]:
    queries: dict[str, str] = {}
    for file in sorted((sql_dir() / "queries").glob("*.sql")):
        for block in re.split(r"^-- name: ", file.read_text(), flags=re.M)[1:]:
            name, _, body = block.partition("\n")
            if name.strip() in queries:
                raise StoreError(f"query {name.strip()!r} defined twice in sql/queries/")
            queries[name.strip()] = body.strip().rstrip(";")
    # a statement may include another (a shared FROM … WHERE) as {{name}}, one level deep
    return {k: re.sub(r"\{\{(\w+)\}\}", lambda m: queries[m.group(1)], q) for k, q in queries.items()}


def sql(name: str) -> str:
    """The named statement ``-- name: NAME`` from ``sql/queries/*.sql``: SQL longer than a line
    lives there, next to the schema it reads, not inside Python strings."""
    try:
        return _named_queries()[name]
    except KeyError:
        raise StoreError(f"no query named {name!r} in sql/queries/") from None


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **tables: pa.Table) -> Iterator[duckdb.DuckDBPyConnection]:
    """Arrow tables visible to SQL under the given names for the ``with`` block (explicitly
    registered: DuckDB can also read Python locals by name, which hides the data flow).

    Not for data registered block after block inside one transaction: a registered object stays alive
    until the transaction ends, unregistered or not (duckdb-python issue 469). Such writes go through a
    relation (``append``) or read a local by name (``runstore.write_assignments``)."""
    for name, table in tables.items():
        con.register(name, table)
    try:
        yield con
    finally:
        for name in tables:
            con.unregister(name)


def _is_lock_error(err: BaseException) -> bool:
    return isinstance(err, duckdb.IOException) and "lock" in str(err).lower()


def _lock_holder(state: RetryCallState) -> str:
    err = state.outcome.exception() if state.outcome else None
    match = re.search(r"PID \d+", str(err)) if err else None
    return match.group(0) if match else "unknown process"


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, token: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction. On a DuckLake it first takes the write token (updates ``write_token``'s one
    row): DuckLake lets two transactions that only insert both commit, each having checked "not there
    yet" in its own snapshot, so the same key could land twice; two updates of one row conflict, so
    the later commit fails and ``retry_conflicts`` runs it again on a snapshot that has the other's
    rows. ``token=False`` for the migrations that create the table."""
    con.execute("BEGIN TRANSACTION")
    try:
        if token and lake.is_lake_connection(con):
            con.execute("UPDATE write_token SET writes = writes + 1")
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    try:
        con.execute("COMMIT")
    except duckdb.Error:  # a commit that lost a race (DuckLake): leave the connection usable
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise


def _is_conflict(err: BaseException) -> bool:
    """A commit that lost a race with another writer (not any transaction error: those are bugs)."""
    text = str(err).lower()
    return isinstance(err, duckdb.Error) and ("transaction conflict" in text or "database is locked" in text)


def atomic(con: duckdb.DuckDBPyConnection, call: Callable[[], T]) -> T:
    """``call()`` in one transaction, run again when its commit loses a race (``retry_conflicts``)."""

    def once() -> T:
        with transaction(con):
            return call()

    return retry_conflicts(once)


CHECKPOINT_ROWS = 200_000  # rows a long writing step commits between its checkpoints (``Checkpoints``)


class Checkpoints:
    """Checkpoint a DuckDB file every ``every`` rows a long step commits (``wrote``), and at its end.

    Why: prepare and embed write millions of rows while a cursor streams what they read, and
    DuckDB's automatic checkpoint did not run meanwhile, so the index entries of every row written
    stayed in memory: 42 MB after a 600k-item prepare, and the embed step after it ran out of a 100 MB
    ``memory_limit`` (the proportion of 10M items to the 1 GB default). An explicit ``CHECKPOINT``
    runs beside the open cursor and frees them. A DuckLake has no such index (nothing to do)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, every: int = CHECKPOINT_ROWS) -> None:
        self.con, self.every, self.pending = con, every, 0
        self.enabled = not lake.is_lake_connection(con)

    def wrote(self, rows: int) -> None:
        """``rows`` more rows committed; checkpoint when ``every`` have been since the last one."""
        self.pending += rows
        if self.pending >= self.every:
            self.now()

    def now(self) -> None:
        if self.enabled and self.pending:
            self.con.execute("CHECKPOINT")
        self.pending = 0


def retry_conflicts(call: Callable[[], T], wait_up_to: float = 120.0) -> T:
    """``call()`` — one transaction, safe to repeat because a failed commit rolled it back — again,
    after a random back-off, when it lost a commit race with another writer. Only a DuckLake with a
    SQLite or Postgres catalog has several writers (a DuckDB file has one); its own retries miss a
    SQLite catalog's "database is locked" (duckdb/ducklake#1309), so painpoints retries the whole
    transaction, up to ``wait_up_to`` seconds."""

    def say(state: RetryCallState) -> None:
        log.info(
            "commit conflict with another writer (attempt %d), retrying: %s",
            state.attempt_number,
            state.outcome.exception() if state.outcome else "",
        )

    retrying = Retrying(
        retry=retry_if_exception(_is_conflict),
        stop=stop_after_delay(wait_up_to),
        wait=wait_random_exponential(multiplier=0.05, max=2),
        before_sleep=say,
        reraise=True,
    )
    return retrying(call)


# ---------------------------------------------------------------------------------------------- arrow
def append(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, columns: str | None = None) -> None:
    """Insert an Arrow table into ``table`` (its columns in the table's order, or the SQL ``columns``
    list computed from them). Through a relation, not ``registered``: a registered table stays alive
    until the transaction commits (DuckDB keeps the dropped view for it), so a 1M-segment prepare in
    one transaction held every batch it had inserted — 0.4 KB a segment of Arrow memory."""
    relation = con.from_arrow(rows)
    (relation.project(columns) if columns else relation).insert_into(table)


def fetch_arrow(cur: duckdb.DuckDBPyConnection) -> pa.Table:
    """The result as an Arrow table (DuckDB 2 renamed ``fetch_arrow_table``; either works here)."""
    import warnings

    fetch = getattr(cur, "to_arrow_table", None) or cur.fetch_arrow_table
    with warnings.catch_warnings():  # "extra copy" advice: irrelevant at our sizes, parameters need execute()
        warnings.simplefilter("ignore", UserWarning)
        return fetch()


DUCKDB_1 = int(duckdb.__version__.split(".")[0]) < 2  # the 1.5 line: what the [lake] extra pins


def arrow_reader(
    con: duckdb.DuckDBPyConnection, query: str, params: Sequence[Any] | None = None, batch_rows: int = 65_536
) -> pa.RecordBatchReader:
    """The result of ``query`` as Arrow record batches, never all at once. DuckDB 2 streams a relation
    (an ``execute()`` result would be materialised first); DuckDB 1.5's relation reader is ~10x slower
    on the run input (5.3 s vs 0.46 s for 40k segments' vectors here, 2026-12-01) and its ``execute()``
    reader is not, so on the 1.5 line the batches come through ``execute()``."""
    if DUCKDB_1:
        return con.execute(query, list(params or [])).to_arrow_reader(batch_rows)
    return con.sql(query, params=list(params or [])).to_arrow_reader(batch_rows)


def streamed(
    con: duckdb.DuckDBPyConnection, query: str, params: Sequence[Any] | None = None, batch_rows: int = 8_192
) -> Generator[tuple[Any, ...], None, None]:
    """The rows of ``query`` as tuples, read ``batch_rows`` at a time on a cursor of ``con``: memory
    stays flat however many rows there are (a ``fetchall`` of 1M segment texts held ~1.6 GB), and
    ``con`` stays free to write while they are read. The cursor reads the snapshot of the moment the
    query starts, so rows ``con`` writes meanwhile are not read back."""
    cur = lake.cursor(con)
    try:
        for batch in arrow_reader(cur, query, params, batch_rows):
            yield from zip(*(column.to_pylist() for column in batch.columns), strict=True)
    finally:
        cur.close()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None) -> Any:
    """The first column of the first row of ``sql`` (None when there is no row). Reads the result to
    the end: a half-read result keeps the connection busy, and DuckDB 2 then refuses ``register()``."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def utc_now() -> datetime:
    """Naive UTC: DuckDB TIMESTAMP columns hold no zone, and every writer must agree on it."""
    return datetime.now(UTC).replace(tzinfo=None)


# ------------------------------------------------------------------------------------------ query
def query(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | None = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run ``sql``; returns column names and rows."""
    try:
        cur = con.execute(sql, params or [])
    except duckdb.Error as err:
        raise StoreError(str(err)) from err
    if cur.description is None:
        return [], []
    return [d[0] for d in cur.description], cur.fetchall()


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _bytes(size: str) -> float:
    """A DuckDB memory size ('1GB', '953.6 MiB') in bytes."""
    number, unit = re.fullmatch(r"\s*([\d.]+)\s*([a-zA-Z]*)\s*", size).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit.lower()]


def _restorable(reported: str) -> int:
    """A byte count that DuckDB reports as ``reported`` again: the reported value rounded up to a whole
    1/1024 of its unit (DuckDB cuts a 1/1024 unit before the tenth: 953.6 MiB set as bytes reads back
    953.5 unless its last KiB is whole). At most that 1/1024 above what it stood for."""
    unit = _UNITS[re.sub(r"[\d.\s]", "", reported).lower()]
    step = max(1, unit // 1024)
    return math.ceil(_bytes(reported) / step) * step


SCAN_MEMORY = "256MB"  # DuckDB's memory limit while a run scans a big table (``scanning``)


@contextmanager
def memory_at_most(con: duckdb.DuckDBPyConnection, limit: str) -> Iterator[None]:
    """DuckDB's memory limit lowered to ``limit`` (never raised) for the block, then back. For steps
    whose scans and joins need less than the connection's limit: DuckDB's buffer pool keeps what they
    read up to the limit, and spills what does not fit.

    The limit belongs to the database instance, so it is set on a cursor of its own: on ``con`` a
    statement that failed inside a transaction would make the ``SET`` fail too (hiding the error and
    leaving the lower limit), and a ``SET`` that fails (below the blocks a query holds: then the limit
    stays as it was) would abort ``con``'s transaction. DuckDB reports the limit cut to 0.1 of its unit
    (1 GB reads 953.6 MiB), and setting that string lost a little each time (953.5): it is set back
    as ``_restorable`` says."""
    side = con.cursor()
    try:
        current = side.execute("select current_setting('memory_limit')").fetchone()[0]  # type: ignore[index]
        with suppress(duckdb.Error):
            if _bytes(limit) < _bytes(current):
                side.execute(f"set memory_limit = '{limit}'")
        try:
            yield
        finally:
            side.execute(f"set memory_limit = '{_restorable(current)}B'")
    finally:
        side.close()


def release_cache(con: duckdb.DuckDBPyConnection) -> None:
    """Evict the blocks DuckDB's buffer pool keeps from earlier reads, by lowering its memory limit for a
    moment (``memory_at_most``): a full run's load passes, or a lookup's scan of the embedding cache, left
    up to ``db_memory_limit`` of them (1 GB at 10M segments) held through every later stage. Nothing is
    evicted while a query holds its blocks (the limit cannot drop below them). Evicts every unpinned
    block, not only the last statement's: a run keeps no table cached between its steps."""
    with memory_at_most(con, "16MB"):
        pass


@contextmanager
def scanning(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Plain scans of big tables, under ``SCAN_MEMORY``, the pool emptied after (``release_cache``).

    A plain scan pins a few blocks at a time whatever the table's size, but the buffer pool keeps what it
    read up to the limit. The load's passes (last run's rows, the vectors, the texts) filled it to
    0.77–0.95 of the 1 GB ``db_memory_limit`` at 3M segments, most of the load's 1.7 GB peak (1.3 GB at
    256 MB; ``benchmarks.scale_stages discover``, 2026-12-04). An embedding-cache lookup joins a few
    keys with every cached vector (15 GB at 10M segments): the label phrases' lookup left +850 MB held
    from naming to the run's end at 10M (2026-12-04). Joins and sorts elsewhere keep the full limit."""
    with memory_at_most(con, SCAN_MEMORY):
        yield
    release_cache(con)
