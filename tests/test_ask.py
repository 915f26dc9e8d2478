"""``painpoints ask``: a tool-calling loop over the MCP server's tools, talking to a real HTTP server
on 127.0.0.1 (tests/llm_server.py) through the real ``openai`` client, on a private copy of the golden
DB; every cited id checked against the stored feedback with the real embedding model."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from painpoints.ask import NO_EVIDENCE, Budget, ask, redact_values
from painpoints.cli import main
from painpoints.discovery import store
from painpoints.discovery.citations import cited_ids, sentences
from painpoints.discovery.redact import EMAIL
from painpoints.workspace import connect
from tests.helpers import rows
from tests.llm_server import FakeLLM

FAKE_ID = "0123456789abcdef0123"
QUESTION = "What do customers say about refunds?"


# ------------------------------------------------------------------------------------------ fast
def test_sentences_keep_their_citations_and_masks_are_not_ids() -> None:
    text = (
        "Top refund complaints:\n"
        "- Refunds take weeks [a1b2c3d4e5f6a7b8c9d0]. Some were charged twice. [b1b2c3d4e5f6a7b8c9d0]\n"
        "My name is [NAME], see [the docs](http://x) [c1b2c3d4e5f6a7b8c9d0, d1b2c3d4e5f6a7b8c9d0:2]."
    )
    got = sentences(text)
    assert [(line, ids) for line, _, ids in got] == [
        (0, []),
        (1, ["a1b2c3d4e5f6a7b8c9d0"]),
        (1, ["b1b2c3d4e5f6a7b8c9d0"]),
        (2, ["c1b2c3d4e5f6a7b8c9d0", "d1b2c3d4e5f6a7b8c9d0"]),
    ]
    assert got[2][1] == "Some were charged twice. [b1b2c3d4e5f6a7b8c9d0]"
    assert cited_ids("Ask [ID] or [EMAIL] about [sic] it") == []


def test_tool_answers_are_redacted_except_ids() -> None:
    data = {
        "results": [{"feedback_id": "9f6e4334790589f81e7e", "text": "mail me at jane.doe@example.com or 555-867-5309"}],
        "rows": [["9f6e4334790589f81e7e", "call 555-867-5309"]],
    }
    out = redact_values(data)
    assert out["results"][0]["feedback_id"] == "9f6e4334790589f81e7e"
    assert out["results"][0]["text"] == "mail me at [EMAIL] or [PHONE]"
    assert out["rows"][0][1] == "call [PHONE]"  # SQL rows: every string is redacted, ids in cells too


def test_without_an_llm_ask_says_how_to_configure_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "empty.duckdb"
    store.connect(db).close()
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    result = CliRunner().invoke(main, ["ask", QUESTION, "--db", str(db)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: painpoints ask needs an LLM: set OPENAI_API_KEY")
    assert "OPENAI_BASE_URL" in result.output and len(result.output.strip().splitlines()) == 1


# ------------------------------------------------------------------------ loopback LLM, golden DB
@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch):
    with FakeLLM() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        monkeypatch.setenv("PAINPOINTS_LLM_MODEL", "fake-model")
        monkeypatch.setenv("PAINPOINTS_LLM_MAX_RETRIES", "2")
        yield server


def search(query: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "search_feedback", "arguments": {"query": query, "limit": 5}}]}


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The search results the model was shown (the latest tool answer holding results)."""
    for message in reversed(body["messages"]):
        if message["role"] == "tool" and "results" in message["content"]:
            return json.loads(message["content"])["results"]
    raise AssertionError("no search results in the conversation")


def first_id(body: dict[str, Any], word: str) -> str:
    return next(r["feedback_id"] for r in tool_results(body) if word in r["text"].lower())


def refund_answer(body: dict[str, Any]) -> str:
    return f"Customers ask about the status of their refund [{first_id(body, 'refund')}]."


def test_scripted_conversation_cites_real_supporting_ids(golden_db: Path, fake: FakeLLM) -> None:
    raw = "select text from feedback where text like '%@%' limit 3"  # unredacted: the feedback table
    sql_call = {"name": "query_sql", "arguments": {"sql": raw}}
    both = {"tool_calls": [*search("status of my refund")["tool_calls"], sql_call]}
    fake.script = [both, {"content": refund_answer}]
    answer = ask(connect(golden_db), QUESTION)
    first, second = (r["body"] for r in fake.chat_requests())
    # the model was offered exactly the MCP server's tools, and the tool answer went back by call id
    from painpoints.mcp_server import build_server

    mcp_tools = asyncio.run(build_server(connect(golden_db)).list_tools())
    assert [t["function"]["name"] for t in first["tools"]] == [t.name for t in mcp_tools]
    assert [t["function"]["parameters"] for t in first["tools"]] == [t.input_schema for t in mcp_tools]
    assert second["messages"][2]["tool_calls"][0]["function"]["name"] == "search_feedback"
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "tool", "tool"]
    assert [m["tool_call_id"] for m in second["messages"][3:]] == [c["id"] for c in second["messages"][2]["tool_calls"]]
    cited = first_id(second, "refund")
    assert answer.answer == f"Customers ask about the status of their refund [{cited}]."
    assert [(c.feedback_id, c.supported) for c in answer.citations] == [(cited, True)]
    assert answer.citations[0].support >= 0.45 and "refund" in answer.citations[0].text.lower()
    assert rows(golden_db, "select count(*) from feedback where feedback_id = ?", [cited]) == [(1,)]
    assert answer.dropped == [] and not answer.retried and answer.budget is None
    assert answer.tool_calls == [
        {"name": "search_feedback", "arguments": {"query": "status of my refund", "limit": 5}},
        {"name": "query_sql", "arguments": {"sql": raw}},
    ]
    assert answer.tokens == {"in": 200, "out": 40}
    # PII: the feedback table holds emails; the query answered, and none of them reached the server
    emailed = [t for (t,) in rows(golden_db, raw)]
    assert emailed and all(EMAIL.search(t) for t in emailed)
    assert len(json.loads(second["messages"][4]["content"])["rows"]) == len(emailed)
    assert not EMAIL.search(json.dumps([r["body"] for r in fake.chat_requests()]))


def test_invented_and_unrelated_citations_are_dropped(golden_db: Path, fake: FakeLLM) -> None:
    ws = connect(golden_db)
    crash = ws.search("the app keeps crashing while playing a podcast", limit=1)[0]
    assert "crash" in crash["text"].lower()

    def answer(body: dict[str, Any]) -> str:
        return (
            f"Customers ask about the status of their refund [{first_id(body, 'refund')}]. "
            f"Customers love the new dark mode [{FAKE_ID}]. "
            f"Customers were refunded twice for the same order [{crash['feedback_id']}]."
        )

    fake.script = [search("status of my refund"), {"content": answer}, {"content": answer}]  # the retry persists
    got = ask(ws, QUESTION)
    retry = fake.chat_requests()[2]["body"]["messages"][-1]["content"]
    assert f"cites {FAKE_ID}: not stored feedback" in retry and f"the text of {crash['feedback_id']}" in retry
    assert got.retried and len(fake.chat_requests()) == 3
    assert got.answer.startswith("Customers ask about the status of their refund [") and got.answer.count("[") == 1
    assert [d["sentence"] for d in got.dropped] == [
        f"Customers love the new dark mode [{FAKE_ID}].",
        f"Customers were refunded twice for the same order [{crash['feedback_id']}].",
    ]
    by_id = {c.feedback_id: c for c in got.citations}
    assert by_id[FAKE_ID].supported is False and by_id[FAKE_ID].text is None
    assert by_id[crash["feedback_id"]].supported is False and by_id[crash["feedback_id"]].support < 0.45
    assert [c.supported for c in got.citations].count(True) == 1


def test_a_retry_that_fixes_the_citations_is_kept(golden_db: Path, fake: FakeLLM) -> None:
    fake.script = [
        search("status of my refund"),
        {"content": f"Customers ask about the status of their refund [{FAKE_ID}]."},
        {"content": refund_answer},
    ]
    got = ask(connect(golden_db), QUESTION)
    assert got.retried and got.dropped == [] and [c.supported for c in got.citations] == [True]


def test_no_evidence_is_said_not_invented(golden_db: Path, fake: FakeLLM) -> None:
    fake.script = [search("pricing of the enterprise plan on Mars"), {"content": "I found no feedback about that."}]
    got = ask(connect(golden_db), "What do customers say about Mars pricing?")
    assert got.answer == NO_EVIDENCE and got.citations == []
    assert len(fake.chat_requests()) == 2  # an honest "nothing found" is not sent back for a retry
    # an uncited claim is not shown either
    fake.script = [{"content": "Customers love the dark mode. Everyone asks for it."}]
    got = ask(connect(golden_db), "Do customers like dark mode?")
    assert got.answer == NO_EVIDENCE and [d["reason"] for d in got.dropped] == ["cites no feedback"] * 2


def test_tool_call_budget(golden_db: Path, fake: FakeLLM) -> None:
    three = {
        "tool_calls": [
            {"name": "search_feedback", "arguments": {"query": "refund", "limit": 3}},
            {"name": "list_pain_points", "arguments": {"limit": 3}},
            {"name": "query_sql", "arguments": {"sql": "select count(*) from feedback"}},
        ]
    }
    fake.script = [three, {"content": refund_answer}]
    got = ask(connect(golden_db), QUESTION, budget=Budget(tool_calls=2))
    last = fake.chat_requests()[-1]["body"]
    assert [c["name"] for c in got.tool_calls] == ["search_feedback", "list_pain_points"]
    assert "budget (2) spent" in last["messages"][-1]["content"] and last["tool_choice"] == "none"
    assert got.budget == "tool_calls" and [c.supported for c in got.citations] == [True]


def test_token_budget(golden_db: Path, fake: FakeLLM) -> None:
    fake.script = [{**search("refund"), "usage": {"prompt_tokens": 5000, "completion_tokens": 50}}]
    got = ask(connect(golden_db), QUESTION, budget=Budget(tokens=6000))
    assert len(fake.chat_requests()) == 1 and got.budget == "tokens" and got.tokens == {"in": 5000, "out": 50}
    assert got.answer.startswith("The token budget ran out") and got.citations == []


def test_same_question_same_run_is_answered_from_the_cache(golden_db: Path, fake: FakeLLM) -> None:
    first = ask(connect(golden_db), QUESTION)  # the server's own agent: search, then cite the first hit
    assert len(fake.chat_requests()) == 2 and not first.cached and first.citations[0].supported
    again = ask(connect(golden_db), "  What do customers   say about refunds?")
    assert len(fake.chat_requests()) == 2 and again.cached
    assert (again.answer, again.citations) == (first.answer, first.citations)
    ((status, messages, run_id),) = rows(
        golden_db, "select status, messages, run_id from llm_calls where model = 'fake-model'"
    )
    assert status == "ok" and run_id == rows(golden_db, "select run_id from latest_run")[0][0]
    assert [m["role"] for m in json.loads(messages)] == ["system", "user", "assistant", "tool", "assistant"]
    ask(connect(golden_db), "Why do customers ask for refunds?")
    assert len(fake.chat_requests()) == 4  # another question is asked


def test_server_errors_are_retried_by_the_client_then_reported(golden_db: Path, fake: FakeLLM) -> None:
    fake.script = [{"status": 429, "headers": {"Retry-After": "0"}}, {"status": 503}]
    got = ask(connect(golden_db), QUESTION)
    assert len(fake.chat_requests()) == 4 and got.citations[0].supported  # 2 failures + tool call + answer
    fake.script = [{"status": 500}] * 3
    result = CliRunner().invoke(main, ["ask", "Which bugs hurt most?", "--db", str(golden_db)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: the LLM request failed: InternalServerError")
    assert "sk-test" not in result.output
    assert rows(golden_db, "select count(*) from llm_calls where status = 'error'") == [(1,)]


def test_cli_text_and_json(golden_db: Path, fake: FakeLLM) -> None:
    result = CliRunner().invoke(main, ["ask", QUESTION, "--db", str(golden_db), "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) >= {"answer", "citations", "tool_calls", "tokens", "dropped"}
    cited = out["citations"][0]
    assert set(cited) >= {"feedback_id", "external_id", "text", "supported"} and cited["supported"] is True
    assert re.search(rf"\[{cited['feedback_id']}\]", out["answer"])
    result = CliRunner().invoke(main, ["ask", QUESTION, "--db", str(golden_db)])
    assert result.exit_code == 0, result.output
    assert f"Sources:\n  [{cited['feedback_id']}] {cited['external_id']}: " in result.output
    assert "cached answer" in result.output
