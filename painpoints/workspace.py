"""The read side every workspace surface shares (issue 19): ranked views, one theme in full, search by
meaning and read-only SQL over one painpoints database, as plain JSON-ready values.

The MCP server, ``painpoints ask`` and the web app call these and nothing else, so they answer alike.
Each call opens the database read-only and closes it at once: a DuckDB file has one writer, and a
reader that stays open would hold off the nightly run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from discovery import store
from discovery.settings import Settings, load_settings

if TYPE_CHECKING:
    from discovery.components import Encoder

VIEWS = ("pain_points", "feature_requests", "praise")
MAX_ROWS = 500  # what query() returns at most: a tool answer is read by a person or a model


def jsonable(value: Any) -> Any:
    """Rows as JSON values: timestamps and decimals as text, NaN as None, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


def _records(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


@dataclass
class Workspace:
    """One painpoints database, read through the public views.

    Parameters
    ----------
    settings : where the database is and how its vectors were made (``load_settings``).
    encoder : what embeds search queries; None = the run's model, loaded on the first search (seconds)
        and kept.
    """

    settings: Settings
    encoder: Encoder | None = None

    @property
    def db(self) -> Path:
        return self.settings.db

    @contextmanager
    def _read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with store.connect(self.db, read_only=True, lock_wait=self.settings.lock_wait) as con:
            yield con

    def ranked(self, view: str = "pain_points", limit: int = 10, area: str | None = None) -> list[dict[str, Any]]:
        """The first ``limit`` rows of ``pain_points``, ``feature_requests`` or ``praise``, optionally
        within one area (its id, e.g. ``A01``, or its label)."""
        if view not in VIEWS:
            raise ValueError(f"unknown view {view!r}: choose from {', '.join(VIEWS)}")
        with self._read() as con:
            sql = store.sql("workspace_ranked").replace("{view}", view)
            return jsonable(_records(con.execute(sql, {"area": area, "limit": max(1, int(limit))})))

    def theme(self, theme_id: str) -> dict[str, Any] | None:
        """A theme of the latest run in full: its measures, the counts behind its trend, its mix of
        feedback types and sentiment, and its quotes with the feedback ids they come from."""
        with self._read() as con:
            rows = _records(con.execute(store.sql("workspace_theme"), [theme_id]))
            if not rows:
                return None
            out = rows[0]
            out["mix"] = {}
            for facet, value, n in con.execute(store.sql("workspace_theme_mix"), {"theme": theme_id}).fetchall():
                out["mix"].setdefault(facet, {})[value] = n
            out["quotes"] = _records(con.execute(store.sql("workspace_theme_quotes"), {"theme": theme_id}))
        return jsonable(out)

    def _encoder(self) -> Encoder:
        if self.encoder is None:
            from discovery.embed import Embedder

            s = self.settings
            embedder = Embedder(model=s.embed_model, batch_size=s.embed_batch_size, precision=s.embed_precision)
            self.encoder = embedder.fit()
        return self.encoder

    def search(
        self, text: str, limit: int = 10, theme_id: str | None = None, source: str | None = None
    ) -> list[dict[str, Any]]:
        """Segments closest in meaning to ``text`` (``discovery.search``), best first."""
        from discovery.search import SearchError, search

        if not text.strip():  # before loading the model
            raise SearchError("empty search: give some text to search for")
        encoder = self._encoder()
        with self._read() as con:
            hits = search(con, encoder, text, limit=limit, theme_id=theme_id, source=source)
        return jsonable([asdict(h) for h in hits])

    def query(self, sql: str, max_rows: int = MAX_ROWS) -> dict[str, Any]:
        """Read-only SQL, with the guard ``painpoints query`` has (the database opened read-only, no
        file or network access): ``{"columns", "rows", "truncated"}``."""
        with self._read() as con:
            columns, rows = store.query(con, sql)
        return jsonable({"columns": columns, "rows": rows[:max_rows], "truncated": len(rows) > max_rows})


def connect(db: str | Path | None = None) -> Workspace:
    """The workspace of ``db`` (default: ``PAINPOINTS_DB`` / painpoints.toml / painpoints.duckdb)."""
    settings = load_settings(db=db)
    if not settings.db.exists():
        raise store.StoreError(f"no painpoints database at {settings.db}: ingest and run first")
    return Workspace(settings)
