"""Pull the sources declared in ``painpoints.toml`` (see ``discovery.source_config``) incrementally.

``pull_source(settings, src)`` is the one entry every surface uses (``painpoints pull``, the nightly
flow's task): it opens the database the way every ingest path does (``discovery.ingest.ingest_session``),
so ``store_original``, ``lock_wait`` and the ingest memory limit hold the same everywhere.
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from painpoints.connectors.dlt_source import DltConnector
from painpoints.connectors.zendesk import ZendeskConnector, ZendeskSatisfaction
from painpoints.discovery import ingeststore, store
from painpoints.discovery.ingest import IngestCounts, connector_for, ingest_items, ingest_session
from painpoints.discovery.settings import Settings
from painpoints.discovery.source_config import DltSource, FileSource, Source, ZendeskSource

__all__ = ["DltSource", "FileSource", "Source", "ZendeskSource", "config_dir", "pull", "pull_source", "sha256_file"]


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def pull_files(
    con: duckdb.DuckDBPyConnection, src: FileSource, base: Path = Path("."), *, keep_original: bool
) -> IngestCounts:
    """Ingest every file matching the source's globs that was not ingested before with the same
    content; each file commits with its (path, sha256) record, so a crash re-reads only that file."""
    total = IngestCounts()
    paths = sorted({p for pattern in src.paths for p in glob.glob(str(base / pattern), recursive=True)})
    for name in paths:
        path = Path(name)
        if not path.is_file():
            continue
        digest = sha256_file(path)
        if ingeststore.file_ingested(con, src.name, str(path.resolve()), digest):
            total.skipped_files += 1
            continue

        def remember(
            c: duckdb.DuckDBPyConnection, counts: IngestCounts, path: Path = path, digest: str = digest
        ) -> None:
            ingeststore.record_file(c, src.name, str(path.resolve()), digest, path.stat().st_size, counts.__dict__)

        counts = store.retry_conflicts(  # the file is read again if its commit lost a race (DuckLake writers)
            lambda path=path, remember=remember: ingest_items(  # type: ignore[misc]
                con,
                connector_for(path, src.name, src.kind, src.columns, src.customer_roles, src.speakers),
                before_commit=remember,
                keep_original=keep_original,
            )
        )
        total.add(counts)
    return total


def ingest_with_cursor(
    con: duckdb.DuckDBPyConnection,
    connector: Any,
    key: str,
    state: Callable[[], dict[str, Any]],
    keep_original: bool,
) -> IngestCounts:
    """Ingest a pulled source's items (a changed item replaces its stored version) and store the
    connector's ``cursor`` under ``key`` in the same transaction, so a crash keeps neither; ``state``
    (pages, loads… read once the pull is done) goes beside the cursor."""
    return ingest_items(
        con,
        connector,
        replace=True,
        keep_original=keep_original,
        before_commit=lambda c, _counts: ingeststore.set_cursor(c, key, connector.cursor, state()),
    )


def pull_zendesk(
    con: duckdb.DuckDBPyConnection, src: ZendeskSource, max_retries: int = 5, *, keep_original: bool
) -> IngestCounts:
    """Tickets changed since the stored cursor (or ``start_time``); updated tickets replace their
    earlier version; the new cursor commits with the tickets."""
    connector = ZendeskConnector(
        base_url=src.url,
        source=src.name,
        email=src.email,
        token=os.environ.get(src.token_env),
        start_time=src.start_time,
        cursor_in=ingeststore.get_cursor(con, src.name),
        per_page=src.per_page,
        max_retries=max_retries,
        comments=src.comments,
    )
    counts = ingest_with_cursor(
        con,
        connector,
        src.name,
        lambda: {"type": "zendesk", "pages": connector.pages, "comment_requests": connector.comment_requests},
        keep_original,
    )
    if src.satisfaction_ratings:
        counts.add(pull_zendesk_csat(con, src, max_retries, keep_original=keep_original))
    return counts


def pull_zendesk_csat(
    con: duckdb.DuckDBPyConnection, src: ZendeskSource, max_retries: int = 5, *, keep_original: bool
) -> IngestCounts:
    """CSAT comments created since the last pull (their own position in ``sync_state``, under
    ``<source>#satisfaction_ratings``), stored as reviews of the same source."""
    key = f"{src.name}#satisfaction_ratings"
    stored = ingeststore.get_cursor(con, key)
    ratings = ZendeskSatisfaction(
        base_url=src.url,
        source=src.name,
        email=src.email,
        token=os.environ.get(src.token_env),
        start_time=int(stored) if stored else src.start_time,
        max_retries=max_retries,
    )
    return ingest_with_cursor(
        con, ratings, key, lambda: {"type": "zendesk_satisfaction_ratings", "pages": ratings.pages}, keep_original
    )


def dlt_state_dir(con: duckdb.DuckDBPyConnection, src: DltSource, base: Path) -> Path:
    """Where dlt keeps this source's state and staging: ``state_dir`` (relative to painpoints.toml),
    else ``<database>.dlt/<source>`` beside the database file (in-memory stores: beside the config)."""
    if src.state_dir:
        return base / src.state_dir
    db = ingeststore.database_path(con)
    return (Path(f"{db}.dlt") if db else base / ".painpoints.dlt") / src.name


def pull_dlt(con: duckdb.DuckDBPyConnection, src: DltSource, base: Path, *, keep_original: bool) -> IngestCounts:
    """Run the dlt source (its incremental state kept by dlt), then store the items of every dlt load
    not yet committed here; the last load id commits with them, and only then is staging pruned."""
    connector = DltConnector(
        source=src.name,
        state_dir=dlt_state_dir(con, src, base),
        kind=src.kind,
        columns=src.columns,
        rest_api=src.rest_api,
        source_ref=src.source,
        args=src.args,
        token=os.environ.get(src.token_env) if src.token_env else None,
        token_arg=src.token_arg,
        consumed=ingeststore.get_cursor(con, src.name),
        strip_html=src.strip_html,
    )
    connector.fetch()  # network first, outside the store's write transaction
    counts = ingest_with_cursor(
        con, connector, src.name, lambda: {"type": "dlt", "loads": connector.loads}, keep_original
    )
    connector.prune()
    return counts


def config_dir() -> Path:
    """Relative paths in painpoints.toml are relative to the file itself."""
    return Path(os.environ.get("PAINPOINTS_CONFIG", "painpoints.toml")).resolve().parent


def pull(con: duckdb.DuckDBPyConnection, src: Source, base: Path | None = None, *, keep_original: bool) -> IngestCounts:
    """Pull one declared source incrementally over an open connection (``keep_original``: the
    ``store_original`` setting). Surfaces call ``pull_source``, which passes the settings."""
    if isinstance(src, FileSource):
        return pull_files(con, src, config_dir() if base is None else base, keep_original=keep_original)
    if isinstance(src, DltSource):
        return pull_dlt(con, src, config_dir() if base is None else base, keep_original=keep_original)
    return pull_zendesk(con, src, keep_original=keep_original)


def pull_source(settings: Settings, src: Source, base: Path | None = None) -> IngestCounts:
    """Pull one declared source into ``settings.db`` with the settings every ingest path shares."""
    with ingest_session(settings) as con:
        return pull(con, src, base, keep_original=settings.store_original)
