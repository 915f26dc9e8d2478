"""Sources declared in ``painpoints.toml`` and pulled incrementally by the nightly flow.

```toml
[[sources]]                      # files: globs, skipped when already ingested with the same hash
name = "app_store"
kind = "review"
paths = ["exports/app_store/*.csv"]
text = "content"                 # optional column mapping (else auto-detected)

[[sources]]                      # Zendesk incremental ticket export, cursor kept in sync_state
type = "zendesk"
name = "zendesk"
url = "https://acme.zendesk.com"
email = "bot@acme.com"           # with an API token; omit for an OAuth bearer token
token_env = "ZENDESK_API_TOKEN"  # the token itself never goes into a file or the database
```
"""

from __future__ import annotations

import glob
import hashlib
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from connectors.files import ColumnMap
from connectors.zendesk import ZendeskConnector
from discovery import store
from discovery.ingest import IngestCounts, connector_for, ingest_items


class FileSource(BaseModel):
    type: Literal["files"] = "files"
    name: str
    kind: Literal["review", "ticket", "transcript"] = "review"
    paths: list[str]
    text: str | None = None
    id: str | None = None
    time: str | None = None
    rating: str | None = None
    author: str | None = None
    customer_roles: list[str] | None = None


class ZendeskSource(BaseModel):
    type: Literal["zendesk"]
    name: str = "zendesk"
    url: str
    email: str | None = None
    token_env: str = "ZENDESK_API_TOKEN"
    start_time: int = Field(0, description="unix seconds; where the very first pull starts")
    per_page: int = Field(1000, description="tickets per page (Zendesk's maximum is 1000)")


Source = FileSource | ZendeskSource  # told apart by `type` (default "files")


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def pull_files(con: store.duckdb.DuckDBPyConnection, src: FileSource, base: Path = Path("."),
               keep_original: bool = True) -> IngestCounts:
    """Ingest every file matching the source's globs that was not ingested before with the same
    content; each file commits with its (path, sha256) record, so a crash re-reads only that file."""
    total = IngestCounts()
    columns = ColumnMap(text=src.text, id=src.id, time=src.time, rating=src.rating, author=src.author)
    paths = sorted({p for pattern in src.paths for p in glob.glob(str(base / pattern), recursive=True)})
    for name in paths:
        path = Path(name)
        if not path.is_file():
            continue
        digest = sha256_file(path)
        if store.file_ingested(con, src.name, str(path.resolve()), digest):
            total.skipped_files += 1
            continue
        def remember(c: store.duckdb.DuckDBPyConnection, counts: IngestCounts, path: Path = path,
                     digest: str = digest) -> None:
            store.record_file(c, src.name, str(path.resolve()), digest, path.stat().st_size, counts.__dict__)

        counts = ingest_items(con, connector_for(path, src.name, src.kind, columns, src.customer_roles),
                              before_commit=remember, keep_original=keep_original)
        total.add(counts)
    return total


def pull_zendesk(con: store.duckdb.DuckDBPyConnection, src: ZendeskSource, max_retries: int = 5,
                 keep_original: bool = True) -> IngestCounts:
    """Tickets changed since the stored cursor (or ``start_time``); updated tickets replace their
    earlier version; the new cursor commits with the tickets."""
    connector = ZendeskConnector(base_url=src.url, source=src.name, email=src.email,
                                 token=os.environ.get(src.token_env), start_time=src.start_time,
                                 cursor_in=store.get_cursor(con, src.name), per_page=src.per_page,
                                 max_retries=max_retries)
    return ingest_items(con, connector, replace=True, keep_original=keep_original,
                        before_commit=lambda c, _counts: store.set_cursor(
                            c, src.name, connector.cursor, {"type": "zendesk", "pages": connector.pages}))


def config_dir() -> Path:
    """Relative paths in painpoints.toml are relative to the file itself."""
    return Path(os.environ.get("PAINPOINTS_CONFIG", "painpoints.toml")).resolve().parent


def pull(con: store.duckdb.DuckDBPyConnection, src: FileSource | ZendeskSource, base: Path | None = None,
         keep_original: bool = True) -> IngestCounts:
    """Pull one declared source incrementally (``keep_original``: the ``store_original`` setting)."""
    if isinstance(src, FileSource):
        return pull_files(con, src, config_dir() if base is None else base, keep_original)
    return pull_zendesk(con, src, keep_original=keep_original)
