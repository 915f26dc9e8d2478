"""The dlt source (``type = "dlt"``): dlt's REST API source against a loopback server that pages like
Freshdesk's ticket list (a JSON array per page, ``Link: <…>; rel="next"``, ``updated_since`` inclusive,
basic auth with the API key as user name), and an installed dlt source named by import path.
Real HTTP, real dlt pipeline and staging, real DuckDB store."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import dlt
import pytest
from click.testing import CliRunner

from painpoints.cli import main
from painpoints.connectors.dlt_source import html_to_text
from painpoints.connectors.readers import ConnectorError
from painpoints.discovery import ingeststore, store
from painpoints.discovery.sources import DltSource, pull
from tests.http_servers import _iso, _Server

API_KEY = "fd-key-123"


class FakeFreshdesk(_Server):
    """``GET /api/v2/tickets?updated_since=ISO&order_by=updated_at&order_type=asc&per_page=N&page=P``:
    tickets updated at or after ``updated_since``, oldest first, ``per_page`` per page, the next page
    in the ``Link`` header. Tests add and change tickets between pulls."""

    def __init__(self) -> None:
        super().__init__()
        self.tickets: dict[int, dict[str, Any]] = {}
        self.extra: list[Any] = []  # malformed items served before the tickets
        self.clock = 1_700_000_000

    def put(self, ticket_id: int, subject: str, text: str, **extra: Any) -> None:
        self.clock += 60
        old = self.tickets.get(ticket_id, {})
        self.tickets[ticket_id] = {
            "id": ticket_id,
            "subject": subject,
            "description": f"<div><p>{text}</p></div>",
            "description_text": text,
            "created_at": old.get("created_at") or _iso(self.clock),
            "updated_at": _iso(self.clock),
            "requester_id": 5000 + ticket_id,
            "status": 2,
            "priority": 1,
            "custom_fields": {"cf_plan": "pro"},
            **extra,
        }

    def respond(self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes):
        expected = "Basic " + base64.b64encode(f"{API_KEY}:X".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {}, {"code": "invalid_credentials"}
        if path != "/api/v2/tickets":
            return 404, {}, {"code": "not_found"}
        since = query.get("updated_since", [""])[0]
        per_page, page = int(query.get("per_page", ["30"])[0]), int(query.get("page", ["1"])[0])
        todo = sorted((t for t in self.tickets.values() if t["updated_at"] >= since), key=lambda t: t["updated_at"])
        items: list[Any] = self.extra + todo
        chunk = items[(page - 1) * per_page : page * per_page]
        link = {}
        if page * per_page < len(items):
            nxt = {k: v[0] for k, v in query.items()} | {"page": str(page + 1)}
            link = {"Link": f'<{self.url}{path}?{urlencode(nxt)}>; rel="next"'}
        return 200, link, chunk


def freshdesk_config(url: str, per_page: int = 2) -> dict[str, Any]:
    """The documented Freshdesk example of docs/sources_dlt.md, pointed at the loopback server."""
    return {
        "client": {"base_url": f"{url}/api/v2/", "auth": {"type": "http_basic", "password": "X"}},
        "resource_defaults": {"primary_key": "id"},
        "resources": [
            {
                "name": "tickets",
                "endpoint": {
                    "path": "tickets",
                    "paginator": "header_link",
                    "params": {
                        "per_page": per_page,
                        "order_by": "updated_at",
                        "order_type": "asc",
                        "include": "description",
                        "updated_since": {
                            "type": "incremental",
                            "cursor_path": "updated_at",
                            "initial_value": "2020-01-01T00:00:00Z",
                        },
                    },
                },
            }
        ],
    }


def freshdesk_source(url: str, **kw: Any) -> DltSource:
    return DltSource(
        type="dlt",
        name="freshdesk",
        rest_api=freshdesk_config(url),
        token_env="FRESHDESK_API_KEY",
        text="subject+description",
        id="id",
        time="created_at",
        author="requester_id",
        **kw,
    )


@pytest.fixture
def freshdesk(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FRESHDESK_API_KEY", API_KEY)
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0")  # dlt's retry back-off: no waiting in tests
    with FakeFreshdesk() as server:
        for i in range(1, 6):
            server.put(i, f"Refund {i}", f"I was charged twice for order {i} &amp; need a refund.")
        yield server


def feedback(con) -> dict[str, tuple]:
    rows = con.execute("SELECT external_id, text, author, created_at, metadata FROM feedback").fetchall()
    return {r[0]: r[1:] for r in rows}


def ticket_requests(server: FakeFreshdesk) -> list[dict[str, list[str]]]:
    return [r["query"] for r in server.requests if r["path"] == "/api/v2/tickets"]


def staged_rows(db: Path) -> int:
    import duckdb

    with duckdb.connect(str(Path(f"{db}.dlt") / "freshdesk" / "staging.duckdb"), read_only=True) as staging:
        return staging.execute("SELECT count(*) FROM raw.tickets").fetchone()[0]


def test_first_pull_brings_all_second_only_new_and_updated(freshdesk: FakeFreshdesk, db: Path) -> None:
    con = store.connect(db)
    counts = pull(con, freshdesk_source(freshdesk.url), base=db.parent, keep_original=True)
    assert (counts.read, counts.stored, counts.rejected) == (5, 5, 0)
    assert [q.get("page", ["1"]) for q in ticket_requests(freshdesk)] == [["1"], ["2"], ["3"]]  # 5 tickets, 2 per page
    rows = feedback(con)
    assert sorted(rows) == ["1", "2", "3", "4", "5"]
    text, author, created, meta = rows["3"]
    assert text == "Refund 3\nI was charged twice for order 3 & need a refund."  # HTML → text
    assert author == "5003" and created is not None
    meta = json.loads(meta)
    assert meta["custom_fields.cf_plan"] == "pro" and meta["dlt_resource"] == "tickets"
    cursor = ingeststore.get_cursor(con, "freshdesk")
    assert cursor

    freshdesk.requests.clear()
    again = pull(con, freshdesk_source(freshdesk.url), base=db.parent, keep_original=True)
    assert (again.read, again.stored) == (0, 0)
    last = max(t["updated_at"] for t in freshdesk.tickets.values())
    assert ticket_requests(freshdesk)[0]["updated_since"] == [last]  # dlt's incremental state

    freshdesk.put(3, "Refund 3", "Update: only half of the refund arrived.")
    freshdesk.put(6, "Login", "Cannot log in since the update.")
    freshdesk.requests.clear()
    changed = pull(con, freshdesk_source(freshdesk.url), base=db.parent, keep_original=True)
    assert (changed.read, changed.stored, changed.updated, changed.duplicates) == (2, 1, 1, 0)
    rows = feedback(con)
    assert sorted(rows) == ["1", "2", "3", "4", "5", "6"] and "only half" in rows["3"][0]
    assert con.execute("SELECT count(*) FROM feedback WHERE external_id = '3'").fetchone() == (1,)
    assert ingeststore.get_cursor(con, "freshdesk") != cursor
    con.close()


def test_server_error_is_retried(freshdesk: FakeFreshdesk, db: Path) -> None:
    freshdesk.script.append({"status": 500})
    con = store.connect(db)
    counts = pull(con, freshdesk_source(freshdesk.url), base=db.parent, keep_original=True)
    assert counts.stored == 5
    pages = [q.get("page", ["1"]) for q in ticket_requests(freshdesk)]
    assert pages == [["1"], ["1"], ["2"], ["3"]]  # the 500, then page 1 again
    con.close()


def test_malformed_items_are_rejected_with_reasons(freshdesk: FakeFreshdesk, db: Path) -> None:
    freshdesk.extra = [
        {"subject": "no id", "description": "x", "updated_at": "2023-11-14T22:00:00Z"},
        {"id": 99, "subject": "", "description": "<p> </p>", "updated_at": "2023-11-14T22:00:00Z"},
        "not an object",
    ]
    con = store.connect(db)
    counts = pull(con, freshdesk_source(freshdesk.url), base=db.parent, keep_original=True)
    assert (counts.read, counts.stored, counts.rejected) == (8, 5, 3)
    rows = con.execute("SELECT reason FROM rejected_rows WHERE source = 'freshdesk'").fetchall()
    reasons = sorted(r[0] for r in rows)
    assert reasons == ["empty text", "item is str, not an object", "item without an id (field 'id')"]
    con.close()


def test_crash_before_commit_loses_nothing_and_rerun_does_not_double(
    freshdesk: FakeFreshdesk, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    con = store.connect(db)
    real = ingeststore.set_cursor

    def crash(*args: Any, **kw: Any) -> None:
        raise RuntimeError("killed between load and commit")

    monkeypatch.setattr(ingeststore, "set_cursor", crash)
    with pytest.raises(RuntimeError, match="killed"):
        pull(con, freshdesk_source(freshdesk.url), base=db.parent, keep_original=True)
    assert con.execute("SELECT count(*) FROM feedback").fetchone() == (0,)
    assert staged_rows(db) == 5  # kept in staging for the next pull
    monkeypatch.setattr(ingeststore, "set_cursor", real)

    # dlt's state moved on (its load completed), so the API returns nothing new: the items come from staging
    counts = pull(con, freshdesk_source(freshdesk.url), base=db.parent, keep_original=True)
    assert (counts.read, counts.stored) == (5, 5)
    again = pull(con, freshdesk_source(freshdesk.url), base=db.parent, keep_original=True)
    assert (again.read, again.stored) == (0, 0)
    assert con.execute("SELECT count(*) FROM feedback").fetchone() == (5,)
    assert staged_rows(db) == 0  # pruned once committed
    con.close()


def test_state_lives_beside_the_database_and_holds_no_token(freshdesk: FakeFreshdesk, db: Path) -> None:
    con = store.connect(db)
    pull(con, freshdesk_source(freshdesk.url), base=db.parent, keep_original=True)
    state = Path(f"{db}.dlt") / "freshdesk"
    assert (state / "staging.duckdb").is_file() and (state / "pipelines").is_dir()
    detail = con.execute("SELECT * FROM sync_state WHERE source = 'freshdesk'").fetchall()
    assert API_KEY not in str(detail)
    assert not any(API_KEY in p.read_text(errors="ignore") for p in state.rglob("*.json"))
    con.close()


def test_bad_key_fails_clearly_and_stores_nothing(freshdesk: FakeFreshdesk, db: Path, monkeypatch) -> None:
    monkeypatch.setenv("FRESHDESK_API_KEY", "wrong")
    con = store.connect(db)
    with pytest.raises(ConnectorError, match="401") as err:
        pull(con, freshdesk_source(freshdesk.url), base=db.parent, keep_original=True)
    assert "wrong" not in str(err.value)
    assert con.execute("SELECT count(*) FROM feedback").fetchone() == (0,)
    con.close()


def test_secrets_in_config_are_refused() -> None:
    config = freshdesk_config("http://127.0.0.1:1")
    config["client"]["auth"] = {"type": "bearer", "token": "literal"}
    with pytest.raises(ValueError, match="token_env"):
        DltSource(type="dlt", name="x", rest_api=config)
    with pytest.raises(ValueError, match="exactly one"):
        DltSource(type="dlt", name="x")


def test_pull_command_reads_the_toml(freshdesk: FakeFreshdesk, tmp_path: Path, monkeypatch) -> None:
    toml = tmp_path / "painpoints.toml"
    toml.write_text(
        f"""
[[sources]]
type = "dlt"
name = "freshdesk"
token_env = "FRESHDESK_API_KEY"
text = "subject+description_text"
id = "id"
time = "created_at"

[sources.rest_api.client]
base_url = "{freshdesk.url}/api/v2/"
auth = {{ type = "http_basic", password = "X" }}

[[sources.rest_api.resources]]
name = "tickets"
primary_key = "id"

[sources.rest_api.resources.endpoint]
path = "tickets"
paginator = "header_link"

[sources.rest_api.resources.endpoint.params]
per_page = 2
updated_since = {{ type = "incremental", cursor_path = "updated_at", initial_value = "2020-01-01T00:00:00Z" }}
"""
    )
    monkeypatch.setenv("PAINPOINTS_CONFIG", str(toml))
    db = tmp_path / "pp.duckdb"
    first = CliRunner().invoke(main, ["pull", "--db", str(db)])
    assert first.exit_code == 0, first.output
    assert "stored 5" in first.output
    freshdesk.put(7, "Export", "CSV export times out.")
    second = CliRunner().invoke(main, ["pull", "--db", str(db)])
    assert second.exit_code == 0, second.output
    assert "read 1, stored 1" in second.output
    monkeypatch.setenv("FRESHDESK_API_KEY", "wrong")
    failed = CliRunner().invoke(main, ["pull", "--db", str(db)])
    assert failed.exit_code == 1 and "Error: dlt source 'freshdesk' failed" in failed.output
    assert "Traceback" not in failed.output and "wrong" not in failed.output


@dlt.source(name="fake_tickets")
def fake_verified_source(base_url: str, api_key: str = dlt.secrets.value) -> Any:
    """A stand-in for an installed verified source: a generator resource with a declared cursor."""
    from dlt.sources.helpers.rest_client import RESTClient
    from dlt.sources.helpers.rest_client.auth import HttpBasicAuth
    from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

    @dlt.resource(primary_key="id", write_disposition="append")
    def tickets(
        updated_at: dlt.sources.incremental[str] = dlt.sources.incremental(
            "updated_at", initial_value="2020-01-01T00:00:00Z"
        ),
    ) -> Any:
        client = RESTClient(base_url=base_url, auth=HttpBasicAuth(api_key, "X"))
        params = {"per_page": 2, "updated_since": updated_at.last_value}
        yield from client.paginate("tickets", params=params, paginator=HeaderLinkPaginator())

    return tickets


def test_installed_source_by_import_path(freshdesk: FakeFreshdesk, db: Path) -> None:
    src = DltSource(
        type="dlt",
        name="fd_verified",
        source="tests.test_dlt_source:fake_verified_source",
        args={"base_url": f"{freshdesk.url}/api/v2/"},
        token_env="FRESHDESK_API_KEY",
        token_arg="api_key",
        text="subject+description_text",
    )
    con = store.connect(db)
    assert pull(con, src, base=db.parent, keep_original=True).stored == 5  # id auto-detected
    freshdesk.put(8, "Billing", "Invoice shows the wrong VAT number.")
    again = pull(con, src, base=db.parent, keep_original=True)
    assert (again.read, again.stored) == (1, 1)
    con.close()


def test_html_to_text() -> None:
    assert html_to_text("<p>Hi&nbsp;there</p><p>Second<br>line</p>") == "Hi there\nSecond\nline"
    assert html_to_text("a < b and c > d") == "a < b and c > d"


def test_core_import_does_not_load_dlt() -> None:
    """dlt is an optional extra: importing the CLI, the settings and the pull dispatch must not load it."""
    import subprocess
    import sys

    code = (
        "import sys, painpoints.cli, painpoints.discovery.sources, painpoints.discovery.settings; "
        "print(sorted(m for m in sys.modules if m == 'dlt' or m.startswith('dlt.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- the examples of docs/sources_dlt.md, run as written against loopback servers -------------------------

DOCS = Path(__file__).resolve().parents[1] / "docs" / "sources_dlt.md"


def documented(name: str, real_url: str, url: str) -> DltSource:
    """The ```toml block of docs/sources_dlt.md that declares source ``name``, pointed at ``url``."""
    import re
    import tomllib

    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(), re.S)
    (block,) = [b for b in blocks if f'name = "{name}"' in b]
    assert real_url in block
    (src,) = tomllib.loads(block.replace(real_url, url))["sources"]
    return DltSource(**src)


class FakeIntercom(_Server):
    """``POST /conversations/search`` with ``{"query": {"field": "updated_at", "operator": ">", "value": T},
    "pagination": {"per_page": N, "starting_after": C}}``; pages in ``pages.next.starting_after``."""

    def __init__(self) -> None:
        super().__init__()
        self.conversations: dict[str, dict[str, Any]] = {}
        self.clock = 1_700_000_000

    def put(self, cid: str, body: str, rating: int | None = None) -> None:
        self.clock += 60
        self.conversations[cid] = {
            "type": "conversation",
            "id": cid,
            "created_at": self.conversations.get(cid, {}).get("created_at", self.clock),
            "updated_at": self.clock,
            "state": "open",
            "source": {
                "type": "conversation",
                "delivered_as": "customer_initiated",
                "subject": "",
                "body": f"<p>{body}</p>",
                "author": {"type": "user", "id": f"u{cid}", "email": f"user{cid}@example.com"},
            },
            "conversation_rating": {"rating": rating, "remark": "meh"} if rating else None,
        }

    def respond(self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes):
        if headers.get("Authorization") != "Bearer ic-token":
            return 401, {}, {"type": "error.list", "errors": [{"code": "unauthorized"}]}
        if (method, path) != ("POST", "/conversations/search"):
            return 404, {}, {"type": "error.list"}
        req = json.loads(body)
        q, paging = req["query"], req.get("pagination", {})
        assert q["field"] == "updated_at" and q["operator"] == ">" and isinstance(q["value"], int)
        todo = sorted((c for c in self.conversations.values() if c["updated_at"] > q["value"]), key=lambda c: c["id"])
        start = int(paging.get("starting_after") or 0)
        per_page = int(paging.get("per_page", 20))
        chunk = todo[start : start + per_page]
        pages: dict[str, Any] = {"type": "pages", "per_page": per_page}
        if start + per_page < len(todo):
            pages["next"] = {"starting_after": str(start + per_page)}
        return 200, {}, {"type": "conversation.list", "conversations": chunk, "total_count": len(todo), "pages": pages}


def test_documented_intercom_example(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERCOM_TOKEN", "ic-token")
    with FakeIntercom() as server:
        for i in range(1, 5):
            server.put(str(i), f"The <b>mobile app</b> crashes on login ({i})", rating=2 if i == 1 else None)
        src = documented("intercom", "https://api.intercom.io/", server.url + "/")
        src.rest_api["resources"][0]["endpoint"]["json"]["pagination"]["per_page"] = 3
        con = store.connect(db)
        first = pull(con, src, base=db.parent, keep_original=True)
        assert (first.read, first.stored) == (4, 4)
        assert len(server.requests) == 2  # 4 conversations, 3 per page
        row = con.execute("SELECT text, author, rating FROM feedback WHERE external_id = '1'").fetchone()
        assert row == ("The mobile app crashes on login (1)", "user1@example.com", 2.0)
        server.put("5", "Billing page shows the wrong currency")
        server.requests.clear()
        second = pull(con, src, base=db.parent, keep_original=True)
        assert (second.read, second.stored) == (1, 1)
        sent = json.loads(server.requests[0]["body"])["query"]["value"]
        assert sent == server.conversations["4"]["updated_at"]  # dlt's last value, an int in the JSON body
        con.close()


def test_documented_freshdesk_example(freshdesk: FakeFreshdesk, db: Path) -> None:
    src = documented("freshdesk", "https://acme.freshdesk.com/api/v2/", f"{freshdesk.url}/api/v2/")
    con = store.connect(db)
    assert pull(con, src, base=db.parent, keep_original=True).stored == 5
    freshdesk.put(2, "Refund 2", "Still waiting for the refund.")
    again = pull(con, src, base=db.parent, keep_original=True)
    assert (again.read, again.updated) == (1, 1)
    con.close()


class FakeJira(_Server):
    """``GET /rest/api/2/search/jql?jql=…&nextPageToken=…&maxResults=N``: the JQL's rolling window is not
    evaluated (every issue is returned, as a window longer than the pull interval would), so the test
    shows dlt's incremental dropping what an earlier pull brought."""

    def __init__(self) -> None:
        super().__init__()
        self.issues: list[dict[str, Any]] = []

    def put(self, n: int, summary: str, description: str | None) -> None:
        stamp = f"2026-11-{n:02d}T10:00:00.000+0000"
        self.issues.append(
            {
                "id": str(10000 + n),
                "key": f"FEED-{n}",
                "fields": {
                    "summary": summary,
                    "description": description,
                    "created": stamp,
                    "updated": stamp,
                    "reporter": {"emailAddress": f"pm{n}@acme.com"},
                    "status": {"name": "Open"},
                },
            }
        )

    def respond(self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes):
        expected = "Basic " + base64.b64encode(b"bot@acme.com:jira-token").decode()
        if headers.get("Authorization") != expected:
            return 401, {}, {"errorMessages": ["unauthorized"]}
        if path != "/rest/api/2/search/jql" or "jql" not in query:
            return 400, {}, {"errorMessages": ["jql required"]}
        start, size = int(query.get("nextPageToken", ["0"])[0]), int(query["maxResults"][0])
        page: dict[str, Any] = {"issues": self.issues[start : start + size], "isLast": start + size >= len(self.issues)}
        if not page["isLast"]:
            page["nextPageToken"] = str(start + size)
        return 200, {}, page


def test_documented_jira_example(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIRA_API_TOKEN", "jira-token")
    with FakeJira() as server:
        for n in range(1, 4):
            server.put(n, f"Export to CSV fails ({n})", "Customers report the export spinner never stops.")
        server.put(4, "", None)  # no text at all: rejected
        src = documented("jira_feedback", "https://acme.atlassian.net/rest/api/2/", f"{server.url}/rest/api/2/")
        src.rest_api["resources"][0]["endpoint"]["params"]["maxResults"] = 2
        con = store.connect(db)
        first = pull(con, src, base=db.parent, keep_original=True)
        assert (first.read, first.stored, first.rejected) == (4, 3, 1)
        assert con.execute("SELECT author FROM feedback WHERE external_id = 'FEED-2'").fetchone() == ("pm2@acme.com",)
        server.put(5, "Dark mode", "Please add a dark mode.")
        second = pull(con, src, base=db.parent, keep_original=True)
        assert (second.read, second.stored) == (1, 1)  # the window returned all five; dlt kept the new one
        con.close()
