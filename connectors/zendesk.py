"""Zendesk Support tickets through the cursor-based Incremental Ticket Export.

``GET /api/v2/incremental/tickets/cursor.json?start_time=T`` on the first pull, then
``?cursor=<after_cursor>``; each page holds ``tickets``, ``after_cursor`` and ``end_of_stream``
(Zendesk's documented shape). The connector follows pages until ``end_of_stream`` and exposes the
last ``after_cursor`` as :attr:`cursor`; the caller stores it with the tickets in one transaction
(``discovery.ingest.ingest_incremental``), so the next pull asks only for what changed since.
An updated ticket comes back with the same id and replaces its earlier version; a deleted one is
yielded with ``metadata['status'] == 'deleted'`` so the store can drop it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from painpoints.connectors.base import FeedbackRecord, Item, Rejected
from painpoints.connectors.http import RetryingClient

EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"


@dataclass
class ZendeskConnector:
    """Parameters: ``base_url`` (https://acme.zendesk.com), ``email`` + ``token`` (API token auth:
    ``{email}/token:{token}``) or ``token`` alone as an OAuth bearer token, ``start_time`` (unix
    seconds) for the very first pull, ``cursor`` from the previous pull."""

    base_url: str
    source: str = "zendesk"
    email: str | None = None
    token: str | None = field(default=None, repr=False)
    start_time: int = 0
    cursor_in: str | None = None
    per_page: int = 1000
    max_pages: int = 10_000
    max_retries: int = 5

    def __post_init__(self) -> None:
        self._cursor = self.cursor_in
        self.pages = 0

    @property
    def cursor(self) -> str | None:
        return self._cursor

    def _client(self) -> RetryingClient:
        if self.token and self.email:
            auth: Any = httpx.BasicAuth(f"{self.email}/token", self.token)
            headers = None
        else:
            auth, headers = None, ({"Authorization": f"Bearer {self.token}"} if self.token else None)
        return RetryingClient(self.base_url, auth=auth, headers=headers, max_retries=self.max_retries)

    def __iter__(self) -> Iterator[Item]:
        with self._client() as client:
            params: dict[str, Any] = {"cursor": self._cursor} if self._cursor else {"start_time": self.start_time}
            params["per_page"] = self.per_page
            for _ in range(self.max_pages):
                page = client.get_json(EXPORT_PATH, params=params)
                self.pages += 1
                for ticket in page.get("tickets") or []:
                    yield self._record(ticket)
                if page.get("after_cursor"):
                    self._cursor = page["after_cursor"]
                if page.get("end_of_stream", True) or not page.get("after_cursor"):
                    return
                params = {"cursor": self._cursor, "per_page": self.per_page}

    def _record(self, t: dict[str, Any]) -> Item:
        if not isinstance(t, dict) or t.get("id") is None:
            return Rejected(self.source, "ticket without an id", str(t)[:10_000])
        subject, body = (t.get("subject") or "").strip(), (t.get("description") or "").strip()
        text = f"{subject}\n\n{body}" if subject and body and not body.startswith(subject) else body or subject
        status = t.get("status")
        if not text and status != "deleted":
            return Rejected(self.source, "ticket without subject or description", str(t)[:10_000])
        meta = {
            k: t.get(k)
            for k in ("status", "priority", "type", "tags", "updated_at", "group_id", "organization_id", "brand_id")
            if t.get(k) is not None
        }
        if isinstance(t.get("via"), dict) and t["via"].get("channel"):
            meta["channel"] = t["via"]["channel"]
        return FeedbackRecord(
            source=self.source,
            kind="ticket",
            text=text,
            external_id=str(t["id"]),
            created_at=_time(t.get("created_at")),
            author=_str(t.get("requester_id")),
            metadata=meta,
        )


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp.astimezone(UTC).replace(tzinfo=None) if stamp.tzinfo else stamp


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
