"""The nightly operation end to end: sources declared in painpoints.toml (files + a Zendesk-protocol
server on 127.0.0.1), the Prefect nightly flow, a webhook receiving emerging-theme alerts, and the
served deployment picking up a run through a real Prefect API."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import rows as q
from tests.http_servers import FakeZendesk, Webhook

DATA = Path(__file__).resolve().parent / "data"
pytestmark = pytest.mark.slow

DARK_MODE = [
    "Dark mode makes the text unreadable, grey on black.",
    "Since dark mode arrived I cannot read the labels at all.",
    "The new dark theme has terrible contrast, please fix the text colour.",
    "Dark mode: white icons vanish on the dark background.",
    "Text in dark mode is nearly invisible, contrast is far too low.",
    "Please add a way to turn off the forced dark mode, it is hard to read.",
    "Dark mode colours are unreadable on my phone.",
    "Contrast in the dark theme is awful, I squint to read anything.",
    "The dark mode update made menus unreadable.",
    "Low contrast text everywhere after switching to dark mode.",
    "Dark theme fonts are too dim to read at night.",
    "I can't read the buttons in dark mode, everything is grey.",
]


@pytest.fixture(scope="module")
def setup(prefect_harness, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("nightly")
    (root / "exports").mkdir()
    shutil.copy(DATA / "reviews.jsonl", root / "exports" / "reviews.jsonl")
    shutil.copy(DATA / "complaints.csv", root / "exports" / "complaints.csv")
    with FakeZendesk() as zendesk, Webhook() as hook:
        for i, (_, text) in enumerate(q_chats()):
            zendesk.put(1000 + i, "Support chat", text)
        config = root / "painpoints.toml"
        config.write_text(f"""
db = "{root / "nightly.duckdb"}"
alert_webhook = "{hook.url}/services/T000/B000/XXXX"
schedule_cron = "0 3 * * *"
schedule_timezone = "Europe/Berlin"

[[sources]]
name = "play"
kind = "review"
paths = ["exports/*.jsonl"]

[[sources]]
name = "cfpb"
kind = "ticket"
paths = ["exports/complaints.csv"]

[[sources]]
type = "zendesk"
name = "zendesk"
url = "{zendesk.url}"
email = "{zendesk.email}"
token_env = "TEST_ZENDESK_TOKEN"
per_page = 100
""")
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("PAINPOINTS_CONFIG", str(config))
            mp.setenv("TEST_ZENDESK_TOKEN", zendesk.token)
            yield root, zendesk, hook


def q_chats() -> list[tuple[str, str]]:
    """(label, customer side) of the bundled labelled chats, as ticket descriptions."""
    import csv

    with (DATA / "chats_labelled.csv").open() as fh:
        return [
            (
                r["subflow"],
                " ".join(line[4:].strip() for line in r["transcript"].splitlines() if line.startswith("USR:")),
            )
            for r in csv.DictReader(fh)
        ][:120]


def test_nightly_pulls_incrementally_and_alerts_on_a_new_theme(setup) -> None:
    from painpoints.flows.nightly import nightly_flow

    root, zendesk, hook = setup
    db = root / "nightly.duckdb"
    nightly_flow()
    assert q(db, "select source, count(*) from feedback group by all order by 1")[-1][0] == "zendesk"
    assert q(db, "select count(*) from ingested_files") == [(2,)]
    cursor = q(db, "select cursor from sync_state where source = 'zendesk'")[0][0]
    first = json.loads(q(db, "select stats from latest_run")[0][0])
    assert first["mode"] == "full"
    requests_before = len(zendesk.requests)

    for i, text in enumerate(DARK_MODE):
        zendesk.put(5000 + i, "Dark mode", text)
    nightly_flow()
    assert zendesk.requests[requests_before]["query"]["cursor"] == [cursor]
    assert q(db, "select count(*) from ingested_files") == [(2,)]  # files unchanged: skipped
    stats = json.loads(q(db, "select stats from latest_run")[0][0])
    assert stats["mode"] == "incremental" and stats["new_embeddings"] >= len(DARK_MODE)
    assert stats["same_theme_share"] == 1.0
    dark = q(
        db,
        "select theme_id, count(*) from feedback_themes where external_id like '50%' and source = 'zendesk' "
        "group by all order by 2 desc",
    )
    theme, n = dark[0]
    assert theme is not None and n >= 8
    alert = q(db, "select reason from theme_alerts where theme_id = ?", [theme])
    assert alert == [("new",)]
    posts = hook.posts()
    assert posts and theme in posts[-1]["text"]
    assert "XXXX" not in json.dumps(q(db, "select params, stats from runs"))  # the webhook secret is not stored
    names, artifact = _prefect_record()  # Prefect the Prefect way: readable run names, a pain-point artifact
    assert any(n.startswith("nightly nightly ") for n in names) and any(
        n.startswith("discover nightly ") for n in names
    )
    top = q(db, "select label from pain_points where rank = 1")[0][0]
    assert artifact is not None and top in artifact and q(db, "select run_id from latest_run")[0][0] in artifact


def test_a_failed_nightly_run_says_so_through_the_webhook(setup, monkeypatch: pytest.MonkeyPatch) -> None:
    from painpoints.flows.nightly import nightly_flow

    root, zendesk, hook = setup
    zendesk.put(9000, "Export", "The CSV export fails with an error every time")  # something new to run on
    monkeypatch.setenv("PAINPOINTS_EMBED_MODEL", str(root / "no-such-model"))
    before = len(hook.posts())
    with pytest.raises(Exception):  # noqa: B017 (whatever the model loader raises; the hook is the point)
        nightly_flow()
    posts = hook.posts()[before:]
    assert len(posts) == 1 and "failed" in posts[0]["text"] and "nightly nightly" in posts[0]["text"]


def _prefect_record() -> tuple[list[str], str | None]:
    """Flow-run names and the latest pain-point artifact on the test's Prefect API."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    async def read():
        async with get_client() as client:
            runs = await client.read_flow_runs()
            arts = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["painpoints-nightly"])),
                sort=ArtifactSort.CREATED_DESC,
            )
            return [r.name for r in runs], (str(arts[0].data) if arts else None)

    return asyncio.run(read())


def test_served_deployment_runs_on_request(setup) -> None:
    """`painpoints serve` registers the deployment with its cron schedule and executes a run the
    Prefect API hands it (a run triggered now rather than waiting for 03:00 Berlin)."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    root, _, _ = setup
    api = PREFECT_API_URL.value()
    env = {**os.environ, "PREFECT_API_URL": api, "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    log = (root / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "painpoints.cli", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deployment = _wait_for_deployment(get_client, "painpoints-nightly/painpoints-nightly", proc, root)
        crons = [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules]
        assert crons == [("0 3 * * *", "Europe/Berlin")]
        run = run_deployment("painpoints-nightly/painpoints-nightly", timeout=600, poll_interval=3)
        assert run.state is not None and run.state.is_completed(), (run.state, (root / "serve.log").read_text()[-3000:])
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _wait_for_deployment(get_client, name: str, proc: subprocess.Popen, root: Path, timeout: float = 180):
    import asyncio

    async def read():
        async with get_client() as client:
            return await client.read_deployment_by_name(name)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, (root / "serve.log").read_text()[-3000:]
        try:
            return asyncio.run(read())
        except Exception:  # noqa: BLE001 (not registered yet)
            time.sleep(2)
    raise AssertionError("deployment never appeared: " + (root / "serve.log").read_text()[-3000:])
