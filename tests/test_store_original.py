"""``store_original = false`` holds on every ingest path: the CLI, ``painpoints pull`` (files and the
Zendesk API), the nightly flow's pull task, the Prefect ingest flow and the demo loader all store the
text PII-redacted, and a run's segments keep no original text. Issue 21 found the Prefect ingest flow
ignoring the setting; this test is what keeps the paths from drifting apart again."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from painpoints.cli import main
from painpoints.discovery import store
from painpoints.discovery.settings import load_settings
from painpoints.discovery.source_config import FileSource
from tests.helpers import rows
from tests.http_servers import FakeZendesk

SECRETS = ("jane.doe@example.com", "415-555-0134")
TEXT = "Refund never arrived. Email me at jane.doe@example.com or call 415-555-0134 please."


@pytest.fixture
def private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """``store_original = false`` from the environment; a CSV holding an email and a phone number."""
    monkeypatch.setenv("PAINPOINTS_STORE_ORIGINAL", "false")
    monkeypatch.setenv("PAINPOINTS_CONFIG", str(tmp_path / "painpoints.toml"))
    path = tmp_path / "exports" / "tickets.csv"
    path.parent.mkdir()
    path.write_text(f'id,text\n1,"{TEXT}"\n2,"The app logs me out every hour, it is maddening."\n')
    return path


def assert_redacted(db: Path) -> None:
    texts = [t for (t,) in rows(db, "select text from feedback")]
    assert texts and any("[EMAIL]" in t for t in texts)
    assert not any(s in t for t in texts for s in SECRETS)


def test_cli_ingest(private: Path, db: Path) -> None:
    result = CliRunner().invoke(main, ["ingest", str(private), "--source", "t", "--kind", "ticket", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert_redacted(db)


def test_cli_pull_files_and_zendesk(private: Path, db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeZendesk() as zendesk:
        monkeypatch.setenv("ZENDESK_API_TOKEN", zendesk.token)
        zendesk.put(7, "Refund", TEXT)
        (tmp_path / "painpoints.toml").write_text(
            f'[[sources]]\nname = "files"\nkind = "ticket"\npaths = ["exports/*.csv"]\n\n'
            f'[[sources]]\ntype = "zendesk"\nname = "zd"\nurl = "{zendesk.url}"\nemail = "{zendesk.email}"\n'
        )
        result = CliRunner().invoke(main, ["pull", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert rows(db, "select count(*) from feedback where source = 'zd'") == [(1,)]
    assert_redacted(db)


@pytest.mark.slow  # imports Prefect
def test_nightly_pull_task(private: Path, db: Path) -> None:
    from prefect.logging import disable_run_logger

    from painpoints.flows.nightly import pull_source

    settings = load_settings(db=db)
    src = FileSource(name="files", kind="ticket", paths=[str(private)])
    with disable_run_logger():  # the task body, as the nightly flow runs it, without a flow run
        assert pull_source.fn(settings, src)["stored"] == 2
    assert_redacted(db)


def test_demo_loader(private: Path, db: Path) -> None:
    from painpoints.discovery.demo import load_demo

    assert sum(c.stored for _, c in load_demo(load_settings(db=db))) > 0
    assert rows(db, "select count(*) from feedback where text like '%@%.com%'") == [(0,)]


def test_segments_keep_no_original(private: Path, db: Path) -> None:
    from painpoints.discovery.ingest import ingest_paths
    from painpoints.discovery.pipeline import prepare_segments

    settings = load_settings(db=db)
    ingest_paths(settings, [private], "t", "ticket")
    with store.connect(db) as con:
        assert prepare_segments(con, settings) >= 2
    assert rows(db, "select count(*) from segments where original_text is not null") == [(0,)]


@pytest.mark.slow
def test_prefect_ingest_flow(private: Path, db: Path, prefect_harness: None) -> None:
    from painpoints.flows.ingest import ingest_flow

    counts = ingest_flow(db=str(db), paths=[str(private)], source="t", kind="ticket")
    assert counts["stored"] == 2
    assert_redacted(db)


def test_reading_settings_imports_no_ingest_or_store_code() -> None:
    """The settings object (with both source types) loads without ingest, the store, DuckDB or HTTP
    clients: every CLI call and flow reads settings first."""
    import subprocess
    import sys

    code = (
        "import sys; from painpoints.discovery.settings import Settings; "
        "s = Settings(sources=[{'name': 'f', 'paths': ['*.csv']}, {'type': 'zendesk', 'url': 'https://x'}]); "
        "assert s.sources[0].columns.text is None and s.sources[1].name == 'zendesk'; "
        "heavy = ('painpoints.discovery.ingest', 'painpoints.discovery.store', 'duckdb', 'httpx'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
