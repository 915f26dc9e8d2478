"""Helpers shared by tests."""

from __future__ import annotations

from pathlib import Path

from discovery import store


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    """All rows of ``sql`` on a read-only connection to ``db``."""
    con = store.connect(db, read_only=True)
    try:
        return store.query(con, sql, params)[1]
    finally:
        con.close()
