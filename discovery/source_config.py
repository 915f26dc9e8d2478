"""The sources declared in ``painpoints.toml`` as typed settings (pydantic models only).

Kept apart from ``discovery.sources`` (which pulls them) so that reading the settings never imports
ingest, connectors' readers, DuckDB or HTTP clients.

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

from typing import Literal

from pydantic import BaseModel, Field

from painpoints.connectors.base import ColumnMap


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

    @property
    def columns(self) -> ColumnMap:
        """The column mapping as the connectors take it."""
        return ColumnMap(text=self.text, id=self.id, time=self.time, rating=self.rating, author=self.author)


class ZendeskSource(BaseModel):
    type: Literal["zendesk"]
    name: str = "zendesk"
    url: str
    email: str | None = None
    token_env: str = "ZENDESK_API_TOKEN"
    start_time: int = Field(0, description="unix seconds; where the very first pull starts")
    per_page: int = Field(1000, description="tickets per page (Zendesk's maximum is 1000)")


Source = FileSource | ZendeskSource  # told apart by `type` (default "files")
