"""Incremental pulls: Zendesk cursor export against a local server that follows the documented
paging, file sources skipped by (path, hash), webhook alerts. Real httpx, real DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from painpoints.connectors.http import HttpError, retry_after_seconds
from painpoints.discovery import alerts, ingeststore, store
from painpoints.discovery.sources import FileSource, ZendeskSource, pull
from tests.http_servers import FakeZendesk, Webhook


@pytest.fixture
def zendesk(monkeypatch: pytest.MonkeyPatch):
    with FakeZendesk() as server:
        monkeypatch.setenv("ZENDESK_API_TOKEN", server.token)
        for i in range(1, 6):
            server.put(i, f"Refund problem {i}", f"I was charged twice for order {i} and need a refund.")
        yield server


def source(server: FakeZendesk) -> ZendeskSource:
    return ZendeskSource(type="zendesk", url=server.url, email=server.email, per_page=2)  # 5 tickets: 3 pages


def feedback(con) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in con.execute("SELECT external_id, text, metadata->>'status' FROM feedback").fetchall()}


def test_zendesk_pages_cursor_updates_and_deletes(zendesk: FakeZendesk, db: Path) -> None:
    con = store.connect(db)
    zendesk.script.append({"status": 429, "headers": {"Retry-After": "0"}})
    counts = pull(con, source(zendesk), keep_original=True)
    assert (counts.read, counts.stored) == (5, 5)
    first = [r for r in zendesk.requests]
    assert [r["query"].get("start_time") for r in first[:2]] == [["0"], ["0"]]  # the 429, then retried
    assert all("cursor" in r["query"] for r in first[2:]) and len(first) == 4
    cursor = ingeststore.get_cursor(con, "zendesk")
    assert cursor and feedback(con)["3"][0].startswith("Refund problem 3")

    zendesk.requests.clear()
    again = pull(con, source(zendesk), keep_original=True)
    assert (again.read, again.stored) == (0, 0)
    assert zendesk.requests[0]["query"]["cursor"] == [cursor]  # only what changed since

    con.execute(
        "INSERT INTO segments VALUES ('x:000', (SELECT feedback_id FROM feedback WHERE external_id = '3'), "
        "0, 'old', NULL, 'h', [])"
    )
    zendesk.put(3, "Refund problem 3", "Update: the refund arrived but only half of it.")
    zendesk.put(6, "App login", "Cannot log in since the update.")
    zendesk.put(2, "Refund problem 2", "", status="deleted")
    changed = pull(con, source(zendesk), keep_original=True)
    assert (changed.read, changed.stored, changed.updated, changed.deleted) == (3, 1, 1, 1)
    rows = feedback(con)
    assert sorted(rows) == ["1", "3", "4", "5", "6"]
    assert "only half" in rows["3"][0]
    assert con.execute("SELECT count(*) FROM segments WHERE segment_id = 'x:000'").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM feedback WHERE external_id = '3'").fetchone() == (1,)
    con.close()


def test_zendesk_bad_token_fails_clearly_and_stores_nothing(zendesk: FakeZendesk, db: Path, monkeypatch) -> None:
    monkeypatch.setenv("ZENDESK_API_TOKEN", "wrong")
    con = store.connect(db)
    with pytest.raises(HttpError, match="401") as err:
        pull(con, source(zendesk), keep_original=True)
    assert "wrong" not in str(err.value) and zendesk.token not in str(err.value)
    assert con.execute("SELECT count(*) FROM feedback").fetchone() == (0,)
    assert ingeststore.get_cursor(con, "zendesk") is None
    assert len(zendesk.requests) == 1  # a 401 is not retried
    con.close()


def test_zendesk_outage_mid_pull_keeps_old_cursor_and_rerun_completes(zendesk: FakeZendesk, db: Path) -> None:
    con = store.connect(db)
    zendesk.requests.clear()
    # page 1 succeeds, then the server keeps failing: the whole pull rolls back
    original = zendesk.respond
    calls = {"n": 0}

    def flaky(*args):
        calls["n"] += 1
        return original(*args) if calls["n"] == 1 else (503, {"Retry-After": "0"}, {"error": "down"})

    zendesk.respond = flaky
    with pytest.raises(HttpError, match="503"):
        pull(con, source(zendesk), keep_original=True)
    assert con.execute("SELECT count(*) FROM feedback").fetchone() == (0,)
    assert ingeststore.get_cursor(con, "zendesk") is None
    zendesk.respond = original
    assert pull(con, source(zendesk), keep_original=True).stored == 5
    con.close()


def test_file_source_skips_files_already_ingested(tmp_path: Path, db: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.csv").write_text("id,review\n1,Great app\n2,Crashes on start\n")
    (folder / "b.csv").write_text("id,review\n3,Too many ads\n")
    src = FileSource(name="play", paths=["exports/*.csv"])
    con = store.connect(db)
    first = pull(con, src, base=tmp_path, keep_original=True)
    assert (first.stored, first.skipped_files) == (3, 0)
    second = pull(con, src, base=tmp_path, keep_original=True)
    assert (second.read, second.skipped_files) == (0, 2)
    (folder / "a.csv").write_text("id,review\n1,Great app\n2,Crashes on start\n4,Battery drain\n")
    third = pull(con, src, base=tmp_path, keep_original=True)
    assert (third.stored, third.duplicates, third.skipped_files) == (1, 2, 1)
    rows = con.execute("SELECT path, counts FROM ingested_files ORDER BY ingested_at").fetchall()
    assert len(rows) == 3 and json.loads(rows[-1][1])["stored"] == 1
    con.close()


def test_retry_after_forms() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past: no wait


def test_webhook_gets_slack_compatible_alerts_with_retry() -> None:
    found = [
        {
            "theme_id": "T012",
            "label": "Dark mode unreadable",
            "reason": "new",
            "recent_items": 9,
            "growth": None,
            "zscore": 9.0,
            "negative_share": 0.9,
        },
        {
            "theme_id": "T003",
            "label": "Refund delays",
            "reason": "spike",
            "recent_items": 30,
            "growth": 2.0,
            "zscore": 4.2,
            "negative_share": 0.8,
        },
    ]
    with Webhook() as hook:
        hook.script.append({"status": 500})
        assert alerts.send(hook.url + "/services/T/B/X", found, "run-1")
        assert not alerts.send(hook.url, [], "run-1")  # nothing to say: no request
        posts = hook.posts()
    assert len(posts) == 2 and posts[0] == posts[1]  # the 500, then the same message again
    text = posts[0]["text"]
    assert "2 emerging themes" in text and "Dark mode unreadable" in text and "+200%" in text
    assert posts[0]["blocks"][0]["text"]["text"] == text
