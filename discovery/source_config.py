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
satisfaction_ratings = true      # CSAT comments too (admin token); comments = false skips follow-ups
```
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from painpoints.connectors.base import ColumnMap
from painpoints.connectors.speakers import SpeakerRules


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
    # transcripts with speakers named by person (docs/transcripts.md): who is agent, who is customer
    agents: list[str] | None = None
    customers: list[str] | None = None
    company: list[str] | None = Field(None, description='company names/domains, e.g. ["Acme", "acme.com"]')

    @property
    def columns(self) -> ColumnMap:
        """The column mapping as the connectors take it."""
        return ColumnMap(text=self.text, id=self.id, time=self.time, rating=self.rating, author=self.author)

    @property
    def speakers(self) -> SpeakerRules:
        """The speaker rules as the transcript connector takes them."""
        return SpeakerRules.build(self.agents, self.customers, self.company, self.customer_roles)


class ZendeskSource(BaseModel):
    type: Literal["zendesk"]
    name: str = "zendesk"
    url: str
    email: str | None = None
    token_env: str = "ZENDESK_API_TOKEN"
    start_time: int = Field(0, description="unix seconds; where the very first pull starts")
    per_page: int = Field(1000, description="tickets per page (Zendesk's maximum is 1000)")
    comments: bool = Field(True, description="append the requester's later public comments to the ticket text")
    satisfaction_ratings: bool = Field(False, description="CSAT comments as reviews (needs an admin token)")


class DltSource(BaseModel):
    """A dlt source (docs/sources_dlt.md): ``rest_api`` is a dlt ``RESTAPIConfig`` (client, resources,
    paginator, incremental) declared in the TOML; or ``source`` names an installed dlt source as
    ``package.module:function`` called with ``args``. The token comes only from ``token_env``."""

    type: Literal["dlt"]
    name: str
    kind: Literal["review", "ticket", "transcript"] = "ticket"
    rest_api: dict[str, Any] | None = None
    source: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    token_env: str | None = None
    token_arg: str | None = Field(None, description="keyword argument of `source` that receives the token")
    text: str | None = None
    id: str | None = None
    time: str | None = None
    rating: str | None = None
    author: str | None = None
    strip_html: bool = True
    state_dir: str | None = Field(None, description="dlt state + staging; default: beside the database file")

    @model_validator(mode="after")
    def _one_source_no_secrets(self) -> DltSource:
        if (self.rest_api is None) == (self.source is None):
            raise ValueError(f"dlt source {self.name!r}: set exactly one of rest_api or source")
        auth = ((self.rest_api or {}).get("client") or {}).get("auth")
        secret = {"token", "api_key", "client_secret", "access_token"} & set(auth if isinstance(auth, dict) else ())
        if secret:
            raise ValueError(f"dlt source {self.name!r}: put the secret in the environment (token_env), not {secret}")
        return self

    @property
    def columns(self) -> ColumnMap:
        return ColumnMap(text=self.text, id=self.id, time=self.time, rating=self.rating, author=self.author)


Source = FileSource | ZendeskSource | DltSource  # told apart by `type` (default "files")
