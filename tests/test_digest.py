"""The weekly digest: `painpoints digest` and the nightly flow post the week's top pain points,
new/emerging themes, top feature requests and praise to a Slack-compatible webhook (a real HTTP
receiver on 127.0.0.1), once per week."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from painpoints.cli import main
from painpoints.discovery import digest, store
from painpoints.discovery.settings import load_settings
from tests.helpers import rows as q
from tests.http_servers import Webhook

SECRET = "/services/T000/B000/s3cretpath"


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    with Webhook() as server:
        monkeypatch.setenv("PAINPOINTS_CONFIG", str(tmp_path / "none.toml"))  # no stray painpoints.toml
        monkeypatch.setenv("PAINPOINTS_ALERT_WEBHOOK", server.url + SECRET)
        yield server


def write(db: Path, sql: str, params: list | None = None) -> None:
    with store.connect(db) as con:
        con.execute(sql, params or [])


def mark_emerging(db: Path) -> tuple[str, str]:
    """One theme emerging in the latest run (a spike) and one new earlier this week in another run."""
    spike, earlier = [
        r[0]
        for r in q(
            db,
            "select theme_id from latest_themes where theme_type = 'problem' order by overall_rank limit 2 offset 2",
        )
    ]
    latest = q(db, "select run_id from latest_run")[0][0]
    write(
        db,
        "UPDATE theme_snapshots SET emerging = true, emerging_reason = 'spike', recent_items = 9 "
        "WHERE run_id = ? AND theme_id = ?",
        [latest, spike],
    )
    with store.connect(db) as con:
        finished = store.utc_now() - timedelta(days=2)
        con.execute(
            "INSERT INTO runs (run_id, started_at, finished_at, status) VALUES ('R-old', ?, ?, 'success')",
            [finished, finished],
        )
        con.execute(
            "INSERT INTO theme_snapshots SELECT * REPLACE ('R-old' AS run_id, true AS emerging, "
            "'new' AS emerging_reason, 6 AS recent_items) FROM theme_snapshots WHERE run_id = ? AND theme_id = ?",
            [latest, earlier],
        )
    return spike, earlier


def digests_of(hook: Webhook) -> list[dict]:
    return [p for p in hook.posts() if "weekly digest" in p.get("text", "")]


def test_digest_posts_the_weeks_lists_once(golden_db: Path, hook: Webhook) -> None:
    pain_id, pain_label, pain_items = q(golden_db, "select theme_id, label, items from pain_points where rank = 1")[0]
    write(golden_db, "INSERT INTO theme_issues VALUES (?, 'jira', 'ENG-7', 'u', 'ENG', 'l', NULL, now())", [pain_id])
    spike, earlier = mark_emerging(golden_db)
    runner = CliRunner()

    result = runner.invoke(main, ["digest", "--db", str(golden_db)])
    assert result.exit_code == 0, result.output
    assert "sent" in result.output
    (post,) = hook.posts()
    text = post["text"]
    assert f"1. *{pain_label}* ({pain_id}): {pain_items} items" in text and "→ ENG-7" in text
    emerging = text.split("*New and emerging*")[1].split("*Top feature requests*")[0]
    assert f"({spike}): spiking, 9 this period" in emerging and f"({earlier}): new theme, 6 this period" in emerging
    for view, heading in (("feature_requests", "*Top feature requests*"), ("praise", "*Praise*")):
        top = q(golden_db, f"select label, items from {view} order by rank limit 1")
        if top:
            section = text.split(heading)[1]
            assert f"1. *{top[0][0]}*" in section and f"{top[0][1]} items" in section
    kinds = [b["type"] for b in post["blocks"]]
    assert kinds == ["header", "section", "section", "section", "section", "context"]
    assert all(len(b["text"]["text"]) <= 3000 for b in post["blocks"] if b["type"] == "section")
    assert q(golden_db, "select sent_by, themes > 0 from digests") == [("cli", True)]

    again = runner.invoke(main, ["digest", "--db", str(golden_db)])
    assert again.exit_code == 0 and "already sent" in again.output and len(hook.posts()) == 1
    shown = runner.invoke(main, ["digest", "--db", str(golden_db), "--dry-run", "--json"])
    assert json.loads(shown.output)["blocks"][0]["type"] == "header" and len(hook.posts()) == 1
    forced = runner.invoke(main, ["digest", "--db", str(golden_db), "--again"])
    assert forced.exit_code == 0 and len(hook.posts()) == 2


def test_digest_retries_a_busy_webhook_and_hides_its_secret_when_it_fails(
    golden_db: Path, hook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    hook.script = [{"status": 503}, {"status": 429, "headers": {"Retry-After": "0"}}]
    with caplog.at_level("WARNING"):
        ok = CliRunner().invoke(main, ["digest", "--db", str(golden_db)])
    assert ok.exit_code == 0, ok.output
    assert len(hook.requests) == 3 and q(golden_db, "select count(*) from digests") == [(1,)]
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 2 and not any("s3cretpath" in m for m in retries)  # logged, the secret not

    hook.script = [{"status": 404}]
    failed = CliRunner().invoke(main, ["digest", "--db", str(golden_db), "--again"])
    assert failed.exit_code == 1 and "HTTP 404" in failed.output
    assert "s3cretpath" not in failed.output  # the webhook's path is its secret


def test_the_nightly_step_sends_on_its_weekday_once_per_week(golden_db: Path, hook: Webhook) -> None:
    url = hook.url + SECRET
    settings = load_settings(db=golden_db, alert_webhook=url, digest_weekday="Wednesday")
    tuesday, wednesday = date(2026, 12, 1), date(2026, 12, 2)
    assert digest.week_of(tuesday, "wednesday") == date(2026, 11, 25)
    assert not digest.send_weekly(settings, tuesday) and hook.posts() == []
    assert digest.send_weekly(settings, wednesday)
    assert not digest.send_weekly(settings, wednesday)  # a second run that day
    assert len(hook.posts()) == 1
    assert digest.send_weekly(settings, wednesday + timedelta(days=7)) and len(hook.posts()) == 2
    assert q(golden_db, "select week, sent_by from digests order by week") == [
        (wednesday, "nightly"),
        (wednesday + timedelta(days=7), "nightly"),
    ]
    off = load_settings(db=golden_db, alert_webhook=url, digest_weekday="off")
    assert off.digest_weekday is None and not digest.send_weekly(off, wednesday + timedelta(days=14))
    hook.script = [{"status": 400}]  # a failing webhook is logged, not raised, and not recorded
    assert not digest.send_weekly(settings, wednesday + timedelta(days=21))
    assert len(q(golden_db, "select * from digests")) == 2


def test_nightly_flow_sends_the_digest_once_and_settings_keep_the_rerun_a_no_op(
    golden_db: Path, hook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    from painpoints.flows.nightly import nightly_flow

    today = digest.local_today(load_settings())
    monkeypatch.setenv("PAINPOINTS_DIGEST_WEEKDAY", today.strftime("%A"))
    monkeypatch.setenv("PAINPOINTS_DIGEST_TOP", "3")
    nightly_flow(db=str(golden_db))
    nightly_flow(db=str(golden_db))
    (sent,) = digests_of(hook)
    assert "\n3. " in sent["text"] and "\n4. " not in sent["text"]  # digest_top themes per list
    assert q(golden_db, "select count(*) from digests where sent_by = 'nightly'") == [(1,)]
    statuses = [r[0] for r in q(golden_db, "select status from runs order by started_at")]
    assert statuses[0] == "success" and statuses[1:] == ["skipped", "skipped"]  # digest settings are operational


def test_digest_of_a_database_without_a_run_says_so(db: Path, hook: Webhook) -> None:
    duckdb.connect(str(db)).close()
    store.connect(db).close()
    result = CliRunner().invoke(main, ["digest", "--db", str(db)])
    assert result.exit_code == 1 and "no successful run yet" in result.output and hook.posts() == []
