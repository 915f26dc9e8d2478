"""Zendesk Support tickets through the cursor-based Incremental Ticket Export.

``GET /api/v2/incremental/tickets/cursor.json?start_time=T`` on the first pull, then
``?cursor=<after_cursor>``; each page holds ``tickets``, ``after_cursor`` and ``end_of_stream``
(Zendesk's documented shape). The connector follows pages until ``end_of_stream`` and exposes the
last ``after_cursor`` as :attr:`cursor`; the caller stores it with the tickets in one transaction
(``discovery.ingest.ingest_incremental``), so the next pull asks only for what changed since.
An updated ticket comes back with the same id and replaces its earlier version; a deleted one is
yielded with ``metadata['status'] == 'deleted'`` so the store can drop it.

Comments (``comments=True``): the export is asked for ``include=comment_count``; a ticket with more than
one comment (the first is the description) has its comments read from
``GET /api/v2/tickets/{id}/comments`` (cursor pages, ``meta.has_more``/``after_cursor``), and the
requester's later public comments are appended to its text — the customer's own follow-ups ("still
broken after the update") are feedback; agents' replies and internal notes are not.

CSAT (:class:`ZendeskSatisfaction`): ``GET /api/v2/satisfaction_ratings?score=received_with_comment&
start_time=T`` (admin only, hence opt-in); each rating with a comment becomes a review whose rating is
``good`` → 5, ``bad`` → 1 (the 1-5 scale of star ratings), linked to its ticket in ``metadata``.
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
COMMENTS_PATH = "/api/v2/tickets/{id}/comments.json"
RATINGS_PATH = "/api/v2/satisfaction_ratings.json"
SCORES = {"good": 5.0, "bad": 1.0}


def client_for(base_url: str, email: str | None, token: str | None, max_retries: int) -> RetryingClient:
    """API token auth (``{email}/token:{token}``) when an e-mail is given, else an OAuth bearer token."""
    if token and email:
        auth: Any = httpx.BasicAuth(f"{email}/token", token)
        headers = None
    else:
        auth, headers = None, ({"Authorization": f"Bearer {token}"} if token else None)
    return RetryingClient(base_url, auth=auth, headers=headers, max_retries=max_retries)


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
    comments: bool = True
    comment_page_size: int = 100

    def __post_init__(self) -> None:
        self._cursor = self.cursor_in
        self.pages = 0
        self.comment_requests = 0

    @property
    def cursor(self) -> str | None:
        return self._cursor

    def _client(self) -> RetryingClient:
        return client_for(self.base_url, self.email, self.token, self.max_retries)

    def __iter__(self) -> Iterator[Item]:
        with self._client() as client:
            params: dict[str, Any] = {"cursor": self._cursor} if self._cursor else {"start_time": self.start_time}
            params["per_page"] = self.per_page
            extra = {"include": "comment_count"} if self.comments else {}
            for _ in range(self.max_pages):
                page = client.get_json(EXPORT_PATH, params=params | extra)
                self.pages += 1
                for ticket in page.get("tickets") or []:
                    item = self._record(ticket)
                    if self.comments and isinstance(item, FeedbackRecord) and _int(ticket.get("comment_count")) > 1:
                        self._add_followups(client, ticket, item)
                    yield item
                if page.get("after_cursor"):
                    self._cursor = page["after_cursor"]
                if page.get("end_of_stream", True) or not page.get("after_cursor"):
                    return
                params = {"cursor": self._cursor, "per_page": self.per_page}

    def _add_followups(self, client: RetryingClient, ticket: dict[str, Any], item: FeedbackRecord) -> None:
        """Append the requester's public comments after the first (the description) to the text."""
        if ticket.get("status") == "deleted":
            return
        comments: list[dict[str, Any]] = []
        params: dict[str, Any] = {"page[size]": self.comment_page_size}
        for _ in range(self.max_pages):
            page = client.get_json(COMMENTS_PATH.format(id=ticket["id"]), params=params)
            self.comment_requests += 1
            comments.extend(c for c in page.get("comments") or [] if isinstance(c, dict))
            meta = page.get("meta") or {}
            if not meta.get("has_more") or not meta.get("after_cursor"):
                break
            params = {"page[size]": self.comment_page_size, "page[after]": meta["after_cursor"]}
        requester = ticket.get("requester_id")
        followups = [
            body
            for c in comments[1:]
            if c.get("public", True)
            and requester is not None
            and c.get("author_id") == requester
            and (body := (c.get("plain_body") or c.get("body") or "").strip())
        ]
        if followups:
            item.text = "\n\n".join([item.text, *followups])
        item.metadata["comment_count"] = len(comments)
        item.metadata["customer_followups"] = len(followups)

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


@dataclass
class ZendeskSatisfaction:
    """CSAT ratings that came with a comment, created at or after ``start_time`` (unix seconds; the
    previous pull's newest ``created_at``, so a rating on the boundary is read again and counts as a
    duplicate). :attr:`cursor` is that newest time as a string."""

    base_url: str
    source: str = "zendesk"
    email: str | None = None
    token: str | None = field(default=None, repr=False)
    start_time: int = 0
    per_page: int = 100
    max_pages: int = 10_000
    max_retries: int = 5

    def __post_init__(self) -> None:
        self._cursor = str(self.start_time)
        self.pages = 0

    @property
    def cursor(self) -> str | None:
        return self._cursor

    def __iter__(self) -> Iterator[Item]:
        newest = self.start_time
        with client_for(self.base_url, self.email, self.token, self.max_retries) as client:
            params: dict[str, Any] = {
                "score": "received_with_comment",
                "start_time": self.start_time,
                "page[size]": self.per_page,
            }
            for _ in range(self.max_pages):
                page = client.get_json(RATINGS_PATH, params=params)
                self.pages += 1
                for rating in page.get("satisfaction_ratings") or []:
                    item = self._record(rating)
                    if isinstance(item, FeedbackRecord) and item.created_at is not None:
                        newest = max(newest, int(item.created_at.replace(tzinfo=UTC).timestamp()))
                    yield item
                meta = page.get("meta") or {}
                if not meta.get("has_more") or not meta.get("after_cursor"):
                    break
                params = {k: v for k, v in params.items() if k != "page[after]"} | {"page[after]": meta["after_cursor"]}
        self._cursor = str(newest)

    def _record(self, r: Any) -> Item:
        if not isinstance(r, dict) or r.get("id") is None:
            return Rejected(self.source, "satisfaction rating without an id", str(r)[:10_000])
        comment = (r.get("comment") or "").strip()
        if not comment:
            return Rejected(self.source, "satisfaction rating without a comment", str(r)[:10_000])
        score = r.get("score")
        meta = {
            "csat": True,
            "score": score,
            **{
                k: r[k]
                for k in ("ticket_id", "reason", "assignee_id", "group_id", "updated_at")
                if r.get(k) is not None
            },
        }
        return FeedbackRecord(
            source=self.source,
            kind="review",
            text=comment,
            external_id=f"csat-{r['id']}",
            created_at=_time(r.get("created_at")),
            author=_str(r.get("requester_id")),
            rating=SCORES.get(str(score).removesuffix("_with_comment")),
            metadata=meta,
        )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


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
