"""What every workspace surface shares (issue 19): ranked views, one theme in full, search by meaning
and read-only SQL over one painpoints database, as plain JSON-ready values; and curation (preview and
apply, ``discovery.curate``), the only write.

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

from painpoints.discovery import curate, store
from painpoints.discovery.settings import Settings, load_settings

if TYPE_CHECKING:
    from painpoints.discovery.components import Encoder

VIEWS = ("pain_points", "pain_facets", "feature_requests", "praise")
SUMMARY = (
    "rank",
    "theme_id",
    "label",
    "description",
    "items",
    "share",
    "negative_share",
    "trend",
    "score",
    "theme_type",
    "area_id",
    "area_label",
)
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
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection for one call (closed at the end of the ``with``)."""
        with store.connect(self.db, read_only=True, lock_wait=self.settings.lock_wait) as con:
            yield con

    def ranked(self, view: str = "pain_points", limit: int = 10, area: str | None = None) -> list[dict[str, Any]]:
        """The first ``limit`` rows of ``pain_points``, ``pain_facets``, ``feature_requests`` or ``praise``, optionally
        within one area (its id, e.g. ``A01``, or its label)."""
        if view not in VIEWS:
            raise ValueError(f"unknown view {view!r}: choose from {', '.join(VIEWS)}")
        with self.read() as con:
            sql = store.sql("ranked_view").replace("{view}", view)
            rows = _records(con.execute(sql, {"area": area, "limit": max(1, int(limit))}))
        # a compact row for tools and pages: the summary columns and the first quote
        return jsonable([{k: r[k] for k in SUMMARY} | {"top_quote": (r["example_quotes"] or [None])[0]} for r in rows])

    def theme(self, theme_id: str) -> dict[str, Any] | None:
        """A theme of the latest run in full: its measures, the counts behind its trend, its mix of
        feedback types, sentiment and @handles addressed (``mix["mention"]``, social feeds), and its
        quotes with the feedback ids they come from."""
        with self.read() as con:
            rows = _records(con.execute(store.sql("workspace_theme"), [theme_id]))
            if not rows:
                return None
            out = rows[0]
            out["mix"] = {}
            for facet, value, n in con.execute(store.sql("workspace_theme_mix"), {"theme": theme_id}).fetchall():
                out["mix"].setdefault(facet, {})[value] = n
            out["quotes"] = _records(con.execute(store.sql("workspace_theme_quotes"), {"theme": theme_id}))
        return jsonable(out)

    def segments(self, theme_id: str, page: int = 0, per_page: int = 50) -> list[dict[str, Any]]:
        """One page of a theme's segments (most negative first), each with its item's ids."""
        with self.read() as con:
            params = {"theme": theme_id, "limit": per_page, "offset": max(0, page) * per_page}
            return jsonable(_records(con.execute(store.sql("workspace_segments"), params)))

    def weeks(self, theme_id: str, weeks: int = 12) -> list[dict[str, Any]]:
        """The theme's segments per week over the data's last ``weeks`` weeks (dated items only)."""
        with self.read() as con:
            return jsonable(_records(con.execute(store.sql("workspace_weeks"), {"theme": theme_id, "weeks": weeks})))

    def areas(self) -> list[dict[str, Any]]:
        """The areas above the themes (``theme_areas``)."""
        with self.read() as con:
            return jsonable(_records(con.execute(store.sql("workspace_areas"))))

    def themes(self) -> list[dict[str, Any]]:
        """Every theme of the latest run, hidden ones last: id, label, items, hidden."""
        with self.read() as con:
            return jsonable(_records(con.execute(store.sql("workspace_themes"))))

    def curation_log(self, limit: int = 200) -> list[dict[str, Any]]:
        """Every curation action, newest first (the audit log), and the latest run's state."""
        with self.read() as con:
            names = [
                "created_at",
                "action",
                "theme_id",
                "target_theme_id",
                "value",
                "note",
                "applied_run",
                "curation_id",
            ]
            return jsonable([dict(zip(names, r, strict=True)) for r in curate.log(con, limit)])

    def last_run(self) -> dict[str, Any] | None:
        """The most recent run, whatever its status (running, success, failed)."""
        with self.read() as con:
            rows = _records(con.execute(store.sql("workspace_run")))
        return jsonable(rows[0]) if rows else None

    def pending(self) -> int:
        """Merge / split actions the next run will apply."""
        with self.read() as con:
            return int(store.scalar(con, store.sql("workspace_pending")) or 0)

    def preview(self, action: str, theme_id: str, target: str | None = None, value: str | None = None) -> list[str]:
        """What a curation action would change, in sentences (``discovery.curate.preview``); writes nothing."""
        with self.read() as con:
            return curate.preview(con, action, theme_id, target, value)

    def curate(
        self, action: str, theme_id: str, target: str | None = None, value: str | None = None, note: str | None = None
    ) -> bool:
        """Record a curation action (live ones show at once); True when it is in the views already.
        Opens the database for writing for this call only."""
        with store.connect(self.db, lock_wait=self.settings.lock_wait) as con:
            return curate.curate(con, action, theme_id, target, value, note)[1]

    def query_encoder(self) -> Encoder:
        """The model that embeds queries (the runs' model), loaded on first use and kept."""
        if self.encoder is None:
            from painpoints.discovery.embed import Embedder

            s = self.settings
            embedder = Embedder(model=s.embed_model, batch_size=s.embed_batch_size, precision=s.embed_precision)
            self.encoder = embedder.fit()
        return self.encoder

    def search(
        self, text: str, limit: int = 10, theme_id: str | None = None, source: str | None = None
    ) -> list[dict[str, Any]]:
        """Segments closest in meaning to ``text`` (``discovery.search``), best first."""
        from painpoints.discovery.search import SearchError, search

        if not text.strip():  # before loading the model
            raise SearchError("empty search: give some text to search for")
        encoder = self.query_encoder()
        with self.read() as con:
            hits = search(con, encoder, text, limit=limit, theme_id=theme_id, source=source)
        return jsonable([asdict(h) for h in hits])

    def query(self, sql: str, max_rows: int = MAX_ROWS) -> dict[str, Any]:
        """Read-only SQL, with the guard ``painpoints query`` has (the database opened read-only, no
        file or network access): ``{"columns", "rows", "truncated"}``."""
        with self.read() as con:
            columns, rows = store.query(con, sql)
        return jsonable({"columns": columns, "rows": rows[:max_rows], "truncated": len(rows) > max_rows})


def connect(db: str | Path | None = None) -> Workspace:
    """The workspace of ``db`` (default: ``PAINPOINTS_DB`` / painpoints.toml / painpoints.duckdb)."""
    settings = load_settings(db=db)
    if not store.exists(settings.db):
        raise store.StoreError(f"no painpoints database at {settings.db}: ingest and run first")
    return Workspace(settings)
