"""Real HTTP servers on 127.0.0.1 speaking the documented protocols our connectors talk to.

* :class:`FakeZendesk` — ``GET /api/v2/incremental/tickets/cursor.json`` with Zendesk's cursor-based
  incremental export: ``start_time`` (unix seconds, first request) or ``cursor``; pages of
  ``per_page`` tickets ordered by ``updated_at``; ``after_cursor``/``after_url``/``end_of_stream``;
  basic auth ``{email}/token:{token}``; a scripted 429 with ``Retry-After``. With ``include=comment_count``
  each ticket carries ``comment_count``; ``GET /api/v2/tickets/{id}/comments.json`` and
  ``GET /api/v2/satisfaction_ratings.json`` (``score``, ``start_time``) page with Zendesk's cursor
  pagination (``page[size]``/``page[after]`` → ``meta.has_more``/``meta.after_cursor``).
* :class:`Webhook` — accepts JSON POSTs (Slack incoming-webhook style), records them, scriptable
  failures.
"""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


class _Server:
    """A threaded HTTP server on a free 127.0.0.1 port that records requests; subclasses answer them
    (``respond``) or bring their own handler (``_handler``)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[dict[str, Any]] = []  # consumed one per request: {"status": 429, "headers": {...}}
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # a short poll interval: shutdown() waits for the next poll (0.5 s by default, per test)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def respond(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        raise NotImplementedError

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self, method: str) -> None:
                parsed = urlparse(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.requests.append(
                        {
                            "method": method,
                            "path": parsed.path,
                            "query": parse_qs(parsed.query),
                            "headers": dict(self.headers),
                            "body": body,
                        }
                    )
                    scripted = outer.script.pop(0) if outer.script else None
                if scripted:
                    status, headers, payload = scripted["status"], scripted.get("headers", {}), {"error": "scripted"}
                else:
                    status, headers, payload = outer.respond(
                        method, parsed.path, parse_qs(parsed.query), self.headers, body
                    )
                data = json.dumps(payload).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler


class FakeZendesk(_Server):
    """Tickets live in ``self.tickets`` (id → ticket dict with ``updated_at`` as unix seconds in
    ``_updated``); tests add, update and delete tickets between pulls."""

    def __init__(self, email: str = "bot@example.com", token: str = "s3cret-token") -> None:
        super().__init__()
        self.email, self.token = email, token
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.ratings: list[dict[str, Any]] = []
        self.clock = 1_700_000_000

    def put(self, ticket_id: int, subject: str, description: str, status: str = "open", **extra: Any) -> None:
        """Create or update a ticket (its ``updated_at`` moves forward, as in Zendesk)."""
        self.clock += 60
        old = self.tickets.get(ticket_id, {})
        created = old.get("created_at") or _iso(self.clock)
        self.tickets[ticket_id] = {
            "id": ticket_id,
            "subject": subject,
            "description": description,
            "status": status,
            "created_at": created,
            "updated_at": _iso(self.clock),
            "_updated": self.clock,
            "via": {"channel": "email"},
            "tags": ["billing"],
            "requester_id": 9000 + ticket_id,
            **extra,
        }
        if ticket_id not in self.comments:  # the description is the first comment, as in Zendesk
            self.comments[ticket_id] = []
            self._add_comment(ticket_id, description, 9000 + ticket_id, True)

    def _add_comment(self, ticket_id: int, body: str, author_id: int, public: bool) -> None:
        n = sum(len(c) for c in self.comments.values()) + 1
        self.comments[ticket_id].append(
            {
                "id": 50_000 + n,
                "type": "Comment",
                "author_id": author_id,
                "body": body,
                "html_body": f"<p>{body}</p>",
                "plain_body": body,
                "public": public,
                "created_at": _iso(self.clock),
            }
        )

    def comment(self, ticket_id: int, body: str, author_id: int | None = None, public: bool = True) -> None:
        """A new comment (the requester's by default) updates its ticket, as in Zendesk."""
        self.clock += 60
        self._add_comment(ticket_id, body, 9000 + ticket_id if author_id is None else author_id, public)
        self.tickets[ticket_id].update(updated_at=_iso(self.clock), _updated=self.clock)

    def rate(self, ticket_id: int, score: str, comment: str = "") -> None:
        self.clock += 60
        self.ratings.append(
            {
                "id": 70_000 + len(self.ratings) + 1,
                "ticket_id": ticket_id,
                "requester_id": 9000 + ticket_id,
                "assignee_id": 1,
                "group_id": 2,
                "score": score,
                "comment": comment or None,
                "reason": "The issue took too long to resolve" if score == "bad" else None,
                "created_at": _iso(self.clock),
                "updated_at": _iso(self.clock),
                "_created": self.clock,
            }
        )

    @staticmethod
    def _cursor_page(items: list[Any], query: dict[str, list[str]], key: str) -> dict[str, Any]:
        size = int(query.get("page[size]", ["100"])[0])
        start = int(query.get("page[after]", ["0"])[0])
        chunk = items[start : start + size]
        more = start + size < len(items)
        return {
            key: chunk,
            "meta": {"has_more": more, "after_cursor": str(start + size) if more else None, "before_cursor": None},
            "links": {"next": None, "prev": None},
        }

    def respond(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        expected = "Basic " + base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {}, {"error": "Couldn't authenticate you"}
        parts = path.split("/")
        if len(parts) == 6 and parts[:4] == ["", "api", "v2", "tickets"] and parts[5] == "comments.json":
            ticket = int(parts[4])
            if ticket not in self.comments:
                return 404, {}, {"error": "RecordNotFound"}
            return 200, {}, self._cursor_page(self.comments[ticket], query, "comments")
        if path == "/api/v2/satisfaction_ratings.json":
            since = int(query.get("start_time", ["0"])[0])
            found = [r for r in self.ratings if r["_created"] >= since]
            if query.get("score") == ["received_with_comment"]:
                found = [r for r in found if r["comment"]]
            public = [{k: v for k, v in r.items() if k != "_created"} for r in found]
            return 200, {}, self._cursor_page(public, query, "satisfaction_ratings")
        if path != "/api/v2/incremental/tickets/cursor.json":
            return 404, {}, {"error": "InvalidEndpoint"}
        per_page = int(query.get("per_page", ["1000"])[0])
        include = query.get("include", [""])[0].split(",")
        if "cursor" in query:  # our cursor encodes (updated_at, id) of the last ticket returned
            since = tuple(int(x) for x in base64.b64decode(query["cursor"][0]).decode().split(":"))
        elif "start_time" in query:
            since = (int(query["start_time"][0]) - 1, 10**12)
        else:
            return 400, {}, {"error": "start_time or cursor required"}
        todo = sorted(
            (t for t in self.tickets.values() if (t["_updated"], t["id"]) > since),
            key=lambda t: (t["_updated"], t["id"]),
        )
        page = todo[:per_page]
        last = (page[-1]["_updated"], page[-1]["id"]) if page else since
        cursor = base64.b64encode(f"{last[0]}:{last[1]}".encode()).decode()
        return (
            200,
            {},
            {
                "tickets": [
                    {k: v for k, v in t.items() if k != "_updated"}
                    | ({"comment_count": len(self.comments.get(t["id"], []))} if "comment_count" in include else {})
                    for t in page
                ],
                "after_cursor": cursor,
                "after_url": f"{self.url}{path}?cursor={cursor}",
                "before_cursor": None,
                "before_url": None,
                "end_of_stream": len(todo) <= per_page,
            },
        )


class Webhook(_Server):
    def respond(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], Any]:
        return 200, {}, {"ok": True}

    def posts(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.requests if r["method"] == "POST"]


def _iso(ts: int) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
