"""`painpoints run` with an OpenAI-compatible endpoint configured the openai client's way
(OPENAI_BASE_URL / OPENAI_API_KEY), against the local test server: names by LLM, caches, keeps PII in."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from painpoints.cli import main
from tests.helpers import rows
from tests.llm_server import FakeLLM

DATA = Path(__file__).resolve().parent / "data"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fake():
    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def db(prefect_harness, fake: FakeLLM, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("llm") / "llm.duckdb"
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENAI_BASE_URL", fake.base_url)
    mp.setenv("OPENAI_API_KEY", "sk-secret-test-key-123456")
    mp.setenv("PAINPOINTS_LLM_MODEL", "fake-model")
    mp.setenv("PAINPOINTS_LLM_MAX_RETRIES", "0")
    mp.setenv("PAINPOINTS_LLM_SEGMENT_SENTIMENT", "true")
    runner = CliRunner()
    for name, source, kind in [("chats_labelled.csv", "chat", "transcript"), ("reviews.jsonl", "play", "review")]:
        assert (
            runner.invoke(
                main, ["ingest", str(DATA / name), "--source", source, "--kind", kind, "--db", str(path)]
            ).exit_code
            == 0
        )
    result = runner.invoke(main, ["run", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert "LLM:" in result.output
    yield path
    mp.undo()


def test_themes_are_named_by_the_llm(db: Path, fake: FakeLLM) -> None:
    themes = rows(db, "select label, label_method, label_offline, grounding, severity from latest_themes")
    assert any(method == "llm" for _, method, _, _, _ in themes)
    for label, method, offline, grounding, severity in themes:
        assert grounding is not None and offline
        if method == "llm":
            assert label.startswith("Trouble with") and severity == "medium" and grounding >= -0.1
    stats = json.loads(rows(db, "select stats from latest_run")[0][0])
    batches = -(-stats["segments"] // 25)  # opt-in per-segment sentiment, 25 segments per request
    assert stats["llm_requests"] == len(themes) + batches == len(fake.chat_requests())
    ((with_llm,),) = rows(db, "select count(llm_sentiment) from feedback_themes")
    assert with_llm == stats["segments"]
    assert stats["llm_tokens_in"] == 100 * (len(themes) + batches) and stats["llm_cost_estimate"] > 0
    assert rows(db, "select count(*) from llm_calls where status = 'ok'") == [(len(themes) + batches,)]


def test_second_run_on_unchanged_data_sends_nothing(db: Path, fake: FakeLLM) -> None:
    """Unchanged data: the rerun is skipped; a full recluster of it answers from the LLM cache."""
    before = len(fake.chat_requests())
    env = {"OPENAI_BASE_URL": fake.base_url, "OPENAI_API_KEY": "sk-secret-test-key-123456"}
    for args, skipped in ((["run"], True), (["run", "--full"], False)):
        result = CliRunner().invoke(main, [*args, "--db", str(db)], env=env)
        assert result.exit_code == 0, result.output
        assert ("skipped" in result.output) is skipped
        assert len(fake.chat_requests()) == before
    stats = json.loads(rows(db, "select stats from latest_run")[0][0])
    assert stats["mode"] == "full" and stats["llm_requests"] == 0 and stats["llm_cache_hits"] > 0


def test_no_contact_details_from_the_chats_reach_the_endpoint(db: Path, fake: FakeLLM) -> None:
    with (DATA / "chats_labelled.csv").open(newline="") as fh:
        chats = "\n".join(r["transcript"] for r in csv.DictReader(fh))
    pii = (
        set(re.findall(r"[\w.+-]+@[\w-]+\.\w+", chats))
        | set(re.findall(r"\(\d{3}\) \d{3}-\d{4}", chats))
        | set(re.findall(r"\b\d{5,}\b", chats))
    )
    names = set(re.findall(r"pulled up for ([A-Za-z][\w' -]+?)\.", chats))  # the agent tool's log lines
    assert len(pii) > 50 and len(names) >= 10
    sent = json.dumps([r["body"] for r in fake.chat_requests()])
    leaked = sorted(p for p in pii if p in sent)
    assert leaked == []
    words = set(re.findall(r"[a-z]+", sent.lower()))
    leaked_names = sorted(n for n in names if all(part.lower() in words for part in n.split()))
    assert leaked_names == []


def test_the_api_key_is_never_stored(db: Path, tmp_path: Path) -> None:
    """Not in any table, not in the database file's bytes, not in Prefect's flow-run records or logs,
    not in the report."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter

    for table in ("llm_calls", "runs", "theme_snapshots", "themes", "assignments", "theme_events"):
        dump = json.dumps(rows(db, f"select * from {table}"), default=str)
        assert "sk-secret" not in dump, table
    assert b"sk-secret" not in db.read_bytes()

    async def prefect_records() -> str:
        async with get_client() as client:
            runs = await client.read_flow_runs()
            logs = await client.read_logs(LogFilter())
        return json.dumps([r.model_dump(mode="json") for r in runs] + [log.model_dump(mode="json") for log in logs])

    records = asyncio.run(prefect_records())
    assert json.dumps(str(db))[1:-1] in records  # this run's flow-run record (its db parameter) was read
    assert "sk-secret" not in records
    out = tmp_path / "report.html"
    assert CliRunner().invoke(main, ["report", "--db", str(db), "--out", str(out), "--no-map"]).exit_code == 0
    assert "sk-secret" not in out.read_text()


def test_a_failure_storm_still_completes_with_offline_names(prefect_harness, tmp_path: Path) -> None:
    storm = FakeLLM().start()
    try:
        storm.script = [
            {"status": 429, "headers": {"Retry-After": "0"}},
            {"status": 500},
            {"raw": "garbage{"},
            {"content": '{"label": ""}'},
            {"content": "I cannot help with that."},
        ] * 40
        db = tmp_path / "storm.duckdb"
        env = {
            "OPENAI_BASE_URL": storm.base_url,
            "OPENAI_API_KEY": "sk-x",
            "PAINPOINTS_LLM_MAX_RETRIES": "0",
            "PAINPOINTS_LLM_SEGMENT_SENTIMENT": "false",
        }
        runner = CliRunner()
        assert (
            runner.invoke(main, ["ingest", str(DATA / "reviews.jsonl"), "--source", "p", "--db", str(db)]).exit_code
            == 0
        )
        result = runner.invoke(main, ["run", "--db", str(db)], env=env)
        assert result.exit_code == 0, result.output
        stats = json.loads(rows(db, "select stats from latest_run")[0][0])
        themes = rows(db, "select label_method from latest_themes")
        assert stats["llm_themes_offline"] == sum(m != "llm" for (m,) in themes) >= 1
        assert stats["llm_fallbacks"] >= 1 and f"{stats['llm_themes_offline']} of" in result.output
    finally:
        storm.stop()
