"""The store under concurrent use: a connection held by another process (a PM's notebook, the duckdb
CLI) makes a writer wait with a clear message, then fail cleanly; nothing is corrupted."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from discovery import store
from tests.helpers import rows


def hold(db: Path, seconds: float) -> subprocess.Popen:
    """Another process holding a read-only connection, like an open notebook."""
    proc = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; "
                             f"c = duckdb.connect({str(db)!r}, read_only=True); print('held', flush=True); "
                             f"time.sleep({seconds})"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture
def seeded(db: Path) -> Path:
    con = store.connect(db)
    con.execute("INSERT INTO rejected_rows (source, reason) VALUES ('s', 'seed')")
    con.close()
    return db


def test_writer_waits_for_a_reader_in_another_process(seeded: Path, caplog: pytest.LogCaptureFixture) -> None:
    holder = hold(seeded, 2.0)
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="discovery.store"):
        con = store.connect(seeded, lock_wait=30)
    waited = time.monotonic() - start
    con.execute("INSERT INTO rejected_rows (source, reason) VALUES ('s', 'after wait')")
    con.close()
    holder.wait()
    assert 0.5 < waited < 30
    assert "locked by another process (PID" in caplog.text and "read-only" in caplog.text
    assert rows(seeded, "select reason from rejected_rows order by reason") == [("after wait",), ("seed",)]


def test_writer_gives_up_with_a_clear_error_and_the_db_is_intact(seeded: Path) -> None:
    holder = hold(seeded, 8.0)
    try:
        with pytest.raises(store.StoreError, match=r"waited 1 s for another process"):
            store.connect(seeded, lock_wait=1)
    finally:
        holder.kill()
        holder.wait()
    assert rows(seeded, "select reason from rejected_rows") == [("seed",)]


def test_readers_do_not_block_each_other(seeded: Path) -> None:
    holder = hold(seeded, 5.0)
    try:
        assert rows(seeded, "select count(*) from rejected_rows") == [(1,)]
    finally:
        holder.kill()
        holder.wait()
