"""Zendesk comments and CSAT: the requester's follow-up comments join the ticket's text, agents' replies
and internal notes do not; satisfaction ratings with a comment become reviews, incrementally. Against
the loopback Zendesk of tests/http_servers.py (documented paging), real httpx, real DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from painpoints.connectors.base import FeedbackRecord
from painpoints.connectors.zendesk import ZendeskConnector
from painpoints.discovery import ingeststore, store
from painpoints.discovery.sources import ZendeskSource, pull
from tests.http_servers import FakeZendesk


@pytest.fixture
def zendesk(monkeypatch: pytest.MonkeyPatch):
    with FakeZendesk() as server:
        monkeypatch.setenv("ZENDESK_API_TOKEN", server.token)
        for i in range(1, 4):
            server.put(i, f"Export fails {i}", f"The CSV export of report {i} times out.")
        yield server


def source(server: FakeZendesk, **kw) -> ZendeskSource:
    return ZendeskSource(type="zendesk", url=server.url, email=server.email, per_page=2, **kw)


def text_of(con, external_id: str) -> str:
    return con.execute("SELECT text FROM feedback WHERE external_id = ?", [external_id]).fetchone()[0]


def comment_requests(server: FakeZendesk) -> list[str]:
    return [r["path"] for r in server.requests if r["path"].endswith("/comments.json")]


def test_requester_followups_join_the_ticket_agent_replies_do_not(zendesk: FakeZendesk, db: Path) -> None:
    zendesk.comment(2, "Thanks for reporting, we are looking into it.", author_id=1)  # agent reply
    zendesk.comment(2, "Internal: known bug EXP-12", author_id=1, public=False)  # internal note
    zendesk.comment(2, "Still failing after your fix, and now the PDF export breaks too.")  # the customer
    for n in range(3, 6):
        zendesk.comment(2, f"Any news? ({n})")
    con = store.connect(db)
    counts = pull(con, source(zendesk), keep_original=True)
    assert counts.stored == 3
    assert comment_requests(zendesk) == ["/api/v2/tickets/2/comments.json"]  # only the ticket with replies
    assert all(r["query"].get("include") == ["comment_count"] for r in zendesk.requests if "incremental" in r["path"])
    text = text_of(con, "2")
    assert text.startswith("Export fails 2\n\nThe CSV export of report 2 times out.")
    assert "PDF export breaks too" in text and "Any news? (5)" in text
    assert "looking into it" not in text and "EXP-12" not in text
    assert text_of(con, "1") == "Export fails 1\n\nThe CSV export of report 1 times out."
    meta = json.loads(con.execute("SELECT metadata FROM feedback WHERE external_id = '2'").fetchone()[0])
    assert (meta["comment_count"], meta["customer_followups"]) == (7, 4)

    zendesk.requests.clear()
    zendesk.comment(1, "Also the XLSX export is empty.")
    again = pull(con, source(zendesk), keep_original=True)
    assert (again.read, again.updated) == (1, 1)
    assert text_of(con, "1").endswith("Also the XLSX export is empty.")
    assert comment_requests(zendesk) == ["/api/v2/tickets/1/comments.json"]
    con.close()


def test_comment_pages_are_followed(zendesk: FakeZendesk) -> None:
    for n in range(5):
        zendesk.comment(3, f"Follow-up {n}")
    connector = ZendeskConnector(
        zendesk.url, email=zendesk.email, token=zendesk.token, per_page=10, comment_page_size=2
    )
    (ticket,) = [r for r in connector if isinstance(r, FeedbackRecord) and r.external_id == "3"]
    assert [p for p in comment_requests(zendesk)] == ["/api/v2/tickets/3/comments.json"] * 3  # 6 comments, 2 a page
    assert [q["query"].get("page[after]") for q in zendesk.requests if "comments" in q["path"]] == [None, ["2"], ["4"]]
    assert ticket.text.endswith("Follow-up 4") and ticket.metadata["customer_followups"] == 5


def test_comments_can_be_turned_off(zendesk: FakeZendesk, db: Path) -> None:
    zendesk.comment(1, "Still broken.")
    con = store.connect(db)
    pull(con, source(zendesk, comments=False), keep_original=True)
    assert comment_requests(zendesk) == [] and "Still broken" not in text_of(con, "1")
    con.close()


def test_csat_comments_become_reviews_incrementally(zendesk: FakeZendesk, db: Path) -> None:
    zendesk.rate(1, "bad", "Took a week and the export still fails.")
    zendesk.rate(2, "good", "Fast and friendly, thanks!")
    zendesk.rate(3, "good")  # no comment: not asked for (score=received_with_comment)
    con = store.connect(db)
    counts = pull(con, source(zendesk, satisfaction_ratings=True), keep_original=True)
    assert counts.stored == 5  # 3 tickets + 2 CSAT comments
    rows = con.execute(
        "SELECT external_id, kind, rating, text, metadata->>'ticket_id' FROM feedback "
        "WHERE external_id LIKE 'csat-%' ORDER BY external_id"
    ).fetchall()
    assert rows == [
        ("csat-70001", "review", 1.0, "Took a week and the export still fails.", "1"),
        ("csat-70002", "review", 5.0, "Fast and friendly, thanks!", "2"),
    ]
    ratings_requests = [r["query"] for r in zendesk.requests if "satisfaction" in r["path"]]
    assert ratings_requests[0]["score"] == ["received_with_comment"]
    cursor = ingeststore.get_cursor(con, "zendesk#satisfaction_ratings")
    assert cursor == str(zendesk.ratings[1]["_created"])  # the newest with a comment

    zendesk.requests.clear()
    zendesk.rate(1, "bad", "Nobody answered my follow-up.")
    again = pull(con, source(zendesk, satisfaction_ratings=True), keep_original=True)
    sent = [r["query"]["start_time"] for r in zendesk.requests if "satisfaction" in r["path"]]
    assert sent == [[cursor]]
    assert (again.stored, again.duplicates) == (1, 1)  # the new one; the boundary rating again, unchanged
    assert con.execute("SELECT count(*) FROM feedback WHERE external_id LIKE 'csat-%'").fetchone() == (3,)
    con.close()


def test_csat_is_off_by_default(zendesk: FakeZendesk, db: Path) -> None:
    zendesk.rate(1, "bad", "Slow.")
    con = store.connect(db)
    pull(con, source(zendesk), keep_original=True)
    assert not [r for r in zendesk.requests if "satisfaction" in r["path"]]
    con.close()
