"""A DuckLake store: ``--db ducklake:<catalog>`` keeps the same tables and views as a DuckDB file, with
the catalog in a DuckDB or SQLite file or in Postgres and the data as Parquet under ``lake_data_path``
(a folder, or ``s3://bucket/prefix``).

Why a lake: a DuckDB file has one writing process and nobody may read it while that process writes;
a DuckLake with a SQLite or Postgres catalog takes several writers and gives readers snapshot
isolation, and its data can sit on object storage. The catalog string after ``ducklake:`` is DuckLake's
own (``/path/meta.ducklake``, ``sqlite:/path/meta.sqlite``, ``postgres:dbname=pp host=…``).

Offline, DuckDB's extensions come only as PyPI wheels (pip extra ``[lake]``) built for exactly this
DuckDB version; ``install_extensions`` copies them into painpoints' own extension folder once, from
where ``ATTACH 'ducklake:…'`` and ``s3://`` paths load them (never from the internet).

S3 credentials and endpoint come from the standard AWS variables (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_REGION``, ``AWS_ENDPOINT_URL``) into a
temporary secret of the connection: never stored in the catalog or the settings.

DuckLake has no primary keys or ``ON CONFLICT``: ``lake_ddl`` drops the key clauses from the schema
files, and every upsert in ``sql/queries`` is a ``MERGE`` or an anti-join, so reruns stay idempotent
on both stores.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb

PREFIX = "ducklake:"
ALIAS = "lake"
# wheel module → extension name (the sqlite wheel's file is sqlite.duckdb_extension, installed as sqlite_scanner)
EXTENSIONS = {"ducklake": "ducklake", "httpfs": "httpfs", "sqlite": "sqlite_scanner", "postgres": "postgres_scanner"}


class LakeError(RuntimeError):
    """The lake cannot be opened as asked (extension missing, bad catalog string)."""


def is_lake(db: str | Path) -> bool:
    """Whether ``db`` names a DuckLake (``ducklake:<catalog>``) rather than a DuckDB file."""
    return str(db).startswith(PREFIX)


def catalog_file(db: str | Path) -> Path | None:
    """The catalog's file for a DuckDB or SQLite catalog; None for Postgres (a server)."""
    rest = str(db)[len(PREFIX) :]
    if rest.startswith("postgres:"):
        return None
    return Path(rest.removeprefix("sqlite:").removeprefix("duckdb:"))


def exists(db: str | Path) -> bool:
    """Whether the lake's catalog exists (a Postgres catalog is taken to exist: the server says)."""
    file = catalog_file(db)
    return file is None or file.exists()


def extension_dir() -> Path:
    """Where painpoints keeps the extensions it installed from the wheels (``PAINPOINTS_EXTENSION_DIR``)."""
    default = Path.home() / ".cache" / "painpoints" / "duckdb_extensions"
    return Path(os.environ.get("PAINPOINTS_EXTENSION_DIR") or default)


@functools.cache
def install_extensions() -> Path:
    """Copy each extension wheel's file into ``extension_dir()`` once per process (``INSTALL`` from a
    local path); returns the folder. The ducklake wheel is required, the others are used when present."""
    folder = extension_dir()
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"extension_directory": str(folder), "autoinstall_known_extensions": False})
    try:
        installed = {
            name
            for name, done in con.execute("SELECT extension_name, installed FROM duckdb_extensions()").fetchall()
            if done
        }
        for module_name, name in EXTENSIONS.items():
            if name in installed:
                continue
            file = _wheel_file(module_name)
            if file is None:
                if module_name == "ducklake":
                    raise LakeError(
                        f"a ducklake: store needs the DuckLake extension for DuckDB {duckdb.__version__}: "
                        "pip install 'painpoints[lake]'"
                    )
                continue
            con.execute(f"INSTALL {sql_literal(str(file))}")
    finally:
        con.close()
    return folder


def _wheel_file(module_name: str) -> Path | None:
    try:
        module = importlib.import_module(f"duckdb_extension_{module_name}")
    except ImportError:
        return None
    file = Path(list(module.__path__)[0]) / "extensions" / f"v{duckdb.__version__}" / f"{module_name}.duckdb_extension"
    return file if file.exists() else None


def connect(
    db: str | Path, read_only: bool, data_path: str | None, config: dict[str, Any]
) -> duckdb.DuckDBPyConnection:
    """A connection whose current database is the lake ``db`` (``USE``; a cursor of it must say
    ``USE`` again: ``cursor``). A new lake is created with ``data_path`` (kept in its catalog:
    later connections need not repeat it); a reader attaches read-only and then has the file system
    shut off, as the file store's readers do, except for the lake's own data.

    The lake is attached to a new in-memory DuckDB rather than opened as ``duckdb.connect(db)``:
    DuckDB keeps a database opened by its path in a per-process cache, and opening that path again
    while the previous instance is still referenced spins in ``DBInstanceCache`` until it is gone; a
    run that opened the lake once per stage hung there for good in 1 of 5 tries of
    ``tests/test_lake.py::test_two_writers_and_a_reader_share_a_sqlite_catalog`` (py-spy and gdb: no
    thread destroying it, no Python cycle keeping it; 2026-12-02). An in-memory database is never
    cached, so each connection is its own instance."""
    target = str(db)
    file = catalog_file(target)
    if file is not None:
        if read_only and not file.exists():
            raise LakeError(f"lake catalog {file} does not exist; ingest something first")
        file.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "temp_directory": spill_directory(),
        **config,
        "extension_directory": str(install_extensions()),
        "autoinstall_known_extensions": False,
    }
    options = ["READ_ONLY"] if read_only else []
    if data_path and not read_only and file is not None and not file.exists():
        options.append(f"DATA_PATH {sql_literal(data_path)}")  # a new lake keeps it in its catalog
    con = duckdb.connect(config=config)
    try:
        _s3_secret(con)
        option = f" ({', '.join(options)})" if options else ""
        con.execute(f"ATTACH {sql_literal(target)} AS {ALIAS}{option}")
        con.execute(f"USE {ALIAS}")
        if read_only:
            row = con.execute(
                f"SELECT value FROM __ducklake_metadata_{ALIAS}.ducklake_metadata WHERE key = ?", ["data_path"]
            ).fetchone()
            allowed = [config["extension_directory"] + "/", *(row or [])]
            if file is not None:  # a lake created without a data path keeps its files beside the catalog
                allowed.append(str(file.parent.resolve()) + "/")
            con.execute("SET allowed_directories = ?", [allowed])
            con.execute("SET enable_external_access = false")
    except BaseException:
        con.close()
        raise
    return con


def spill_directory() -> str:
    """Where the lake connection's in-memory DuckDB spills: a directory of its own under ``TMPDIR``,
    which DuckDB creates when it first spills and removes when the connection closes. Its default for an
    in-memory database is ``.tmp`` in the current directory, and under the write's 256 MB limit
    (``runstore.WRITE_MEMORY``) spilling is routine: it would litter wherever ``painpoints`` was started,
    and two processes started there would share one directory."""
    return os.path.join(tempfile.gettempdir(), f"painpoints-lake-{uuid.uuid4().hex}")


def _s3_secret(con: duckdb.DuckDBPyConnection) -> None:
    """A temporary S3 secret from the standard AWS variables (endpoint included), when any is set."""
    env = os.environ
    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if not (key or endpoint):
        return
    parts = ["TYPE s3"]
    if key and secret:
        parts += [f"KEY_ID {sql_literal(key)}", f"SECRET {sql_literal(secret)}"]
    if token := env.get("AWS_SESSION_TOKEN"):
        parts.append(f"SESSION_TOKEN {sql_literal(token)}")
    if region := env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"):
        parts.append(f"REGION {sql_literal(region)}")
    if endpoint:  # DuckDB wants host:port, TLS and the URL style separately; custom endpoints are path-style
        url = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        tls = str(url.scheme == "https").lower()
        parts += [f"ENDPOINT {sql_literal(url.netloc)}", f"USE_SSL {tls}", "URL_STYLE 'path'"]
    con.execute(f"CREATE TEMPORARY SECRET painpoints_s3 ({', '.join(parts)})")


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of ``con`` in the same current database. A cursor starts in its instance's default
    database, which for a lake connection (``connect``) is the empty in-memory one, so it says ``USE``."""
    cur = con.cursor()
    attached = "SELECT count(*) FROM duckdb_databases() WHERE database_name = ? AND type = 'ducklake'"
    if cur.execute(attached, [ALIAS]).fetchall()[0][0]:
        cur.execute(f"USE {ALIAS}")
    return cur


def is_lake_connection(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether ``con``'s default database is a DuckLake."""
    row = con.execute("SELECT type FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return row is not None and row[0] == "ducklake"


_COMMENT = re.compile(r"--[^\n]*")
_KEY_CLAUSE = re.compile(r",\s*(PRIMARY KEY|UNIQUE)\s*\([^)]*\)", re.I)
_INLINE_KEY = re.compile(r"[ \t]+(PRIMARY KEY|UNIQUE)\b", re.I)


NOT_ON_A_LAKE = "-- not on a lake"  # a schema file that only removes a key: nothing to do on a lake


def lake_ddl(ddl: str) -> str:
    """The schema file ``ddl`` without what DuckLake lacks: primary keys (their columns stay NOT NULL)
    and UNIQUE; comments go first, so a key clause after a commented line is seen. Uniqueness is kept
    by the writers instead: MERGE and anti-joins in ``sql/queries``, serialised by the write token
    (``store.transaction``). A file marked ``NOT_ON_A_LAKE`` (one that drops a key by rebuilding a
    table) becomes a no-op: the lake's table never had the key, and the rebuild would copy it whole."""
    if NOT_ON_A_LAKE in ddl:
        return "SELECT 1"

    def inline(match: re.Match[str]) -> str:  # a key column stays NOT NULL, as the key made it
        return " NOT NULL" if match.group(1).upper() == "PRIMARY KEY" else ""

    return _INLINE_KEY.sub(inline, _KEY_CLAUSE.sub("", _COMMENT.sub("", ddl)))


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal, for the statements that take no parameters (ATTACH in DuckDB 1.5)."""
    return "'" + text.replace("'", "''") + "'"
