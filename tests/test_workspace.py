"""The workspace read side (issue 19): search by meaning, the Workspace API, `painpoints search`, and
the MCP server driven by the official SDK's client over stdio (a real server process)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from painpoints.cli import main
from painpoints.connectors.base import FeedbackRecord
from painpoints.discovery import store
from painpoints.discovery.components import HashEncoder
from painpoints.discovery.embed_cache import embed_missing
from painpoints.discovery.ingest import ingest_items
from painpoints.discovery.pipeline import prepare_segments
from painpoints.discovery.search import SearchError, search, terms
from painpoints.discovery.settings import load_settings
from painpoints.workspace import Workspace, connect
from tests.helpers import rows as q

TEXTS = [
    ("app", "The refund never arrived after two weeks"),
    ("app", "Login fails every time I open the app"),
    ("app", "Search finds nothing when I type a product name"),
    ("shop", "My login code never comes by email"),
    ("shop", "I want my money back for the broken kettle"),
]


@pytest.fixture
def small_store(tmp_path: Path):
    """Five items ingested, segmented and embedded with a stand-in encoder; no run yet."""
    db = tmp_path / "s.duckdb"
    con = store.connect(db)
    ingest_items(con, [FeedbackRecord(source=s, kind="review", text=t) for s, t in TEXTS], keep_original=True)
    prepare_segments(con, load_settings(db=db))
    embed_missing(con, HashEncoder())
    yield con
    con.close()


def test_search_ranks_by_cosine_and_filters(small_store) -> None:
    hits = search(small_store, HashEncoder(), TEXTS[2][1], limit=3)
    assert hits[0].text == TEXTS[2][1] and hits[0].score >= 1.0  # same text, same vector (+ keyword bonus)
    assert len(hits) == 3 and [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert {h.source for h in search(small_store, HashEncoder(), "login", limit=10, source="shop")} == {"shop"}
    assert search(small_store, HashEncoder(), "login", theme_id="T001") == []  # no run: no theme yet
    assert all(h.theme_id is None for h in hits)


def test_keyword_bonus_lifts_exact_words(small_store) -> None:
    """With the stand-in's random vectors, only the keyword bonus can put both login texts first."""
    hits = search(small_store, HashEncoder(), "login", limit=2, keyword_weight=10.0)
    assert {h.text for h in hits} == {TEXTS[1][1], TEXTS[3][1]}
    assert terms("Why is THE login so slow?") == ["login", "slow"]


def test_search_errors_are_clear(small_store) -> None:
    with pytest.raises(SearchError, match="empty search"):
        search(small_store, HashEncoder(), "  ")
    with pytest.raises(SearchError, match="painpoints run"):  # vectors of another model/precision
        search(small_store, HashEncoder(dim=4), "refund")


def test_workspace_reads_and_guards(small_store, tmp_path: Path) -> None:
    small_store.close()
    ws = Workspace(load_settings(db=tmp_path / "s.duckdb"), encoder=HashEncoder())
    assert ws.search(TEXTS[0][1], limit=1)[0]["text"] == TEXTS[0][1]
    assert ws.query("select count(*) as n from feedback") == {"columns": ["n"], "rows": [[5]], "truncated": False}
    with pytest.raises(store.StoreError):
        ws.query("create table x (a int)")  # read-only, as `painpoints query`
    with pytest.raises(store.StoreError):
        ws.query("select * from read_csv('/etc/passwd')")  # no file access
    with pytest.raises(ValueError, match="unknown view"):
        ws.ranked("feedback")
    with pytest.raises(store.StoreError, match="no painpoints database"):
        connect(tmp_path / "missing.duckdb")


# ------------------------------------------------------------------ on a real run (model, UMAP, Prefect)


def test_search_and_theme_on_a_real_run(golden_db: Path) -> None:
    ws = connect(golden_db)
    hits = ws.search("money back for my order", limit=5)
    assert hits and any(w in hits[0]["text"].lower() for w in ("refund", "money back", "return"))
    pains = ws.ranked("pain_points", limit=3)
    assert [p["rank"] for p in pains] == [1, 2, 3]
    theme = ws.theme(pains[0]["theme_id"])
    assert theme is not None and theme["quotes"] and sum(theme["mix"]["sentiment"].values()) == theme["items"]
    ids = {r[0] for r in ws.query("select feedback_id from feedback")["rows"]}
    for quote in theme["quotes"]:  # every quote is real text of a real item of that theme
        assert quote["feedback_id"] in ids and quote["text"]
    assert ws.theme("T999") is None
    area = pains[0]["area_id"]
    assert {p["area_id"] for p in ws.ranked("pain_points", limit=50, area=area)} == {area}


def test_cli_search_json(golden_db: Path) -> None:
    out = CliRunner().invoke(main, ["search", "app keeps crashing", "--db", str(golden_db), "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert len(rows) == 10 and set(rows[0]) == {
        "feedback_id",
        "external_id",
        "source",
        "created_at",
        "text",
        "theme_id",
        "theme_label",
        "score",
    }
    assert "crash" in rows[0]["text"].lower()
    bad = CliRunner().invoke(main, ["search", " ", "--db", str(golden_db)])
    assert bad.exit_code != 0 and "empty search" in bad.output


def test_mcp_server_over_stdio(golden_db: Path) -> None:
    """The real `painpoints mcp` process, driven by the official SDK's client."""
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "painpoints.cli", "mcp", "--db", str(golden_db)], env=dict(os.environ)
    )

    def payload(result) -> dict:
        assert not result.is_error, result.content
        return json.loads(result.content[0].text)

    async def session() -> None:
        async with Client(params, read_timeout_seconds=120) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"list_pain_points", "get_theme", "search_feedback", "query_sql"} <= names
            pains = payload(await client.call_tool("list_pain_points", {"limit": 3}))["pain_points"]
            assert len(pains) == 3 and pains[0]["rank"] == 1
            theme = payload(await client.call_tool("get_theme", {"theme_id": pains[0]["theme_id"]}))
            assert theme["label"] == pains[0]["label"] and theme["quotes"][0]["feedback_id"]
            found = payload(await client.call_tool("search_feedback", {"query": "refund", "limit": 2}))["results"]
            assert len(found) == 2 and found[0]["feedback_id"]
            counted = payload(await client.call_tool("query_sql", {"sql": "select count(*) as n from feedback"}))
            assert counted["rows"][0][0] > 0
            refused = await client.call_tool("query_sql", {"sql": "drop view pain_points"})
            assert refused.is_error and "read-only" in refused.content[0].text.lower()
            missing = await client.call_tool("get_theme", {"theme_id": "T999"})
            assert missing.is_error and "T999" in missing.content[0].text
            uris = {str(r.uri) for r in (await client.list_resources()).resources}
            assert "painpoints://views/pain_points" in uris
            view = await client.read_resource("painpoints://views/pain_points")
            assert json.loads(view.contents[0].text)[0]["theme_id"] == pains[0]["theme_id"]

    asyncio.run(session())


def test_export_a_theme_as_markdown_and_csv(golden_db: Path, tmp_path: Path) -> None:
    import csv as csvlib

    theme, label, items = q(golden_db, "select theme_id, label, items from pain_points where rank = 1")[0]
    out = CliRunner().invoke(main, ["export", theme, "--db", str(golden_db), "--quotes", "3"])
    assert out.exit_code == 0, out.output
    md = out.output
    assert md.startswith(f"# {label} ({theme})") and md.count("\n> — ") == 3
    ids = {e for (e,) in q(golden_db, "select external_id from feedback_themes where theme_id = ?", [theme])}
    cited = [line.split("`")[1] for line in md.splitlines() if line.startswith("> — ")]
    assert cited and set(cited) <= ids  # every quote names a real item of that theme
    path = tmp_path / "theme.csv"
    out = CliRunner().invoke(main, ["export", theme, "--db", str(golden_db), "--format", "csv", "--out", str(path)])
    assert out.exit_code == 0, out.output
    rows = list(csvlib.DictReader(path.open()))
    assert len(rows) == q(golden_db, "select count(*) from feedback_themes where theme_id = ?", [theme])[0][0]
    assert {r["external_id"] for r in rows} == ids
    missing = CliRunner().invoke(main, ["export", "T999", "--db", str(golden_db)])
    assert missing.exit_code != 0 and "no theme 'T999'" in missing.output
