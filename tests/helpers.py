"""Helpers shared by tests."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from discovery import store


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    """All rows of ``sql`` on a read-only connection to ``db``."""
    con = store.connect(db, read_only=True)
    try:
        return store.query(con, sql, params)[1]
    finally:
        con.close()


@dataclass(frozen=True)
class Golden:
    """The session's golden database (see ``golden`` in conftest.py) and what building it printed."""

    path: Path  # the shared master: never write to it, tests get a private copy (fixture ``golden_db``)
    ingest_output: list[str]  # `painpoints ingest` output, one per bundled file in GOLDEN_SOURCES order
    run_output: str  # `painpoints run` output
    stamp: tuple[int, int]  # (size, mtime_ns) of the master when it was built

    def copy_to(self, folder: Path, name: str = "golden.duckdb") -> Path:
        """A private copy of the golden DB in ``folder``, after checking nobody wrote to the master."""
        st = self.path.stat()
        assert (st.st_size, st.st_mtime_ns) == self.stamp, (
            "a test wrote to the shared golden DB: write to a copy (fixture golden_db) instead"
        )
        out = folder / name
        shutil.copyfile(self.path, out)
        wal = self.path.with_name(self.path.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, out.with_name(out.name + ".wal"))
        return out
