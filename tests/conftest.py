"""Shared fixtures. Slow fixtures (embedding model, Prefect harness, the golden DB) are session-scoped
and only created when a test asks for them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.helpers import Golden

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("OPENAI_API_KEY", None)
os.environ.pop("OPENAI_BASE_URL", None)

DATA = Path(__file__).resolve().parent / "data"

# The standard sample: every bundled test file, ingested with the CLI in this order.
GOLDEN_SOURCES = [
    ("chats_labelled.csv", "chat", "transcript"),
    ("reviews.jsonl", "play", "review"),
    ("complaints.csv", "cfpb", "ticket"),
]
# Fixtures that load the embedding model, start Prefect or run discovery: a test using one is slow.
SLOW_FIXTURES = {"embedder", "prefect_harness", "golden", "golden_db"}


@pytest.hookimpl(tryfirst=True)  # before `-m "not slow"` deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark slow every test that (directly or through its fixtures) uses a SLOW_FIXTURES fixture, so
    `make test-fast` stays fast even when a new test forgets ``@pytest.mark.slow``."""
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "test.duckdb"


@pytest.fixture(scope="session")
def embedder():
    from painpoints.discovery.embed import Embedder

    return Embedder(progress=False).fit()


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory):
    """A temporary Prefect API (SQLite in a temp PREFECT_HOME) for the whole session."""
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect_home"))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def golden(prefect_harness, tmp_path_factory: pytest.TempPathFactory) -> Golden:
    """The standard sample (GOLDEN_SOURCES) ingested through the CLI, then one full discovery run
    through the real flow (real model, UMAP/HDBSCAN, Prefect): built once per session."""
    from click.testing import CliRunner

    from painpoints.cli import main
    from tests.helpers import Golden

    path = tmp_path_factory.mktemp("golden") / "golden.duckdb"
    runner = CliRunner()
    ingest_output = []
    with pytest.MonkeyPatch.context() as mp:  # default settings, whichever test builds it first
        for var in [v for v in os.environ if v.startswith(("PAINPOINTS_", "OPENAI_"))]:
            mp.delenv(var)
        for name, source, kind in GOLDEN_SOURCES:
            result = runner.invoke(
                main, ["ingest", str(DATA / name), "--source", source, "--kind", kind, "--db", str(path)]
            )
            assert result.exit_code == 0, result.output
            ingest_output.append(result.output)
        result = runner.invoke(main, ["run", "--db", str(path)])
        assert result.exit_code == 0, result.output
    return Golden(path, ingest_output, result.output, (path.stat().st_size, path.stat().st_mtime_ns))


@pytest.fixture
def golden_db(golden: Golden, tmp_path: Path) -> Path:
    """A private copy of the golden DB in this test's tmp dir: read it, or write to it."""
    return golden.copy_to(tmp_path)
