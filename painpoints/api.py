"""The Python API (issue 20): ``painpoints.connect(db)`` → a ``Painpoints`` handle whose reads return
pandas DataFrames and whose writes take the CLI's own code paths.

* reads: the public views (``pain_points``, ``feature_requests``, ``praise``, ``latest_themes``,
  ``theme_areas``, ``feedback_themes``), search by meaning and read-only SQL — each on a read-only
  connection opened for the call, so a notebook left open never holds off the nightly run;
* ``ingest_dataframe`` writes the frame to a temporary Parquet file and ingests it with
  ``ingest_paths`` (what ``painpoints ingest`` calls: redaction, dedupe, rejected rows, the
  ``store_original`` setting);
* ``run`` runs the Prefect discovery flow ``painpoints run`` runs (skipped when nothing changed).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from painpoints.discovery import store
from painpoints.discovery.settings import Settings, load_settings
from painpoints.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

    from painpoints.discovery.ingest import IngestCounts

RANKED = ("pain_points", "pain_facets", "feature_requests", "praise")


@dataclass
class Painpoints:
    """One painpoints database (``painpoints.connect``)."""

    settings: Settings
    _ws: Workspace | None = field(default=None, init=False, repr=False)  # keeps the search model loaded

    @property
    def db(self) -> Path:
        return self.settings.db

    def _frame(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        if not store.exists(self.db):
            raise store.StoreError(f"no painpoints database at {self.db} yet: ingest_dataframe() and run() first")
        with self._workspace.read() as con:
            try:
                return con.execute(sql, params or []).df()
            except Exception as err:  # DuckDB's own errors, said in one line
                raise store.StoreError(str(err)) from err

    # ------------------------------------------------------------------------------------ reads
    def pain_points(self, limit: int | None = None, area: str | None = None) -> pd.DataFrame:
        """The ranked pain points (every column of the view), optionally one area's (id or label)."""
        return self._ranked("pain_points", limit, area)

    def pain_facets(self, limit: int | None = None, area: str | None = None) -> pd.DataFrame:
        """The complaints inside praised or requested topics (same columns as pain_points)."""
        return self._ranked("pain_facets", limit, area)

    def feature_requests(self, limit: int | None = None, area: str | None = None) -> pd.DataFrame:
        return self._ranked("feature_requests", limit, area)

    def praise(self, limit: int | None = None, area: str | None = None) -> pd.DataFrame:
        return self._ranked("praise", limit, area)

    def _ranked(self, view: str, limit: int | None, area: str | None) -> pd.DataFrame:
        if view not in RANKED:
            raise ValueError(f"unknown view {view!r}: choose from {', '.join(RANKED)}")
        return self._frame(store.sql("ranked_view").replace("{view}", view), {"area": area, "limit": limit})

    def themes(self) -> pd.DataFrame:
        """Every visible theme of the latest run (``latest_themes``), by overall rank."""
        return self._frame("SELECT * FROM latest_themes ORDER BY overall_rank")

    def theme(self, theme_id: str) -> pd.DataFrame:
        """One theme of the latest run: a one-row frame of ``latest_themes`` (empty when unknown)."""
        return self._frame("SELECT * FROM latest_themes WHERE theme_id = ?", [theme_id])

    def areas(self) -> pd.DataFrame:
        return self._frame("SELECT * FROM theme_areas ORDER BY rank")

    def feedback_themes(self, theme_id: str | None = None) -> pd.DataFrame:
        """Every segment of the latest run with its theme, sentiment and type (optionally one theme's)."""
        return self._frame(store.sql("api_feedback_themes"), {"theme": theme_id})

    def search(
        self, text: str, limit: int = 10, theme_id: str | None = None, source: str | None = None
    ) -> pd.DataFrame:
        """Segments closest in meaning to ``text`` (``painpoints search``), best first."""
        import pandas as pd

        from painpoints.discovery.search import COLUMNS

        rows = self._workspace.search(text, limit=limit, theme_id=theme_id, source=source)
        return pd.DataFrame(rows, columns=list(COLUMNS))

    def query(self, sql: str) -> pd.DataFrame:
        """Read-only SQL over the views and tables (the database opened read-only, no file access)."""
        return self._frame(sql)

    # ----------------------------------------------------------------------------------- writes
    def ingest_dataframe(
        self,
        df: pd.DataFrame,
        source: str,
        kind: str = "review",
        text: str | None = None,
        id: str | None = None,  # the CLI's --id
        time: str | None = None,
        rating: str | None = None,
        author: str | None = None,
    ) -> IngestCounts:
        """Ingest the rows of ``df`` as ``painpoints ingest`` ingests a file (columns auto-detected
        unless named; other columns kept as metadata). Returns read / stored / duplicates / rejected."""
        from painpoints.connectors.base import ColumnMap
        from painpoints.discovery.ingest import ingest_paths

        columns = ColumnMap(text=text, id=id, time=time, rating=rating, author=author)
        with tempfile.TemporaryDirectory(prefix="painpoints-df-") as tmp:
            path = Path(tmp) / f"{source}.parquet"
            df.to_parquet(path, index=False)
            return ingest_paths(self.settings, [path], source, kind, columns)

    def run(self, full: bool = False, llm: bool | None = None, min_theme_size: int | None = None) -> str:
        """The discovery flow (Prefect), as ``painpoints run``: returns the run id (a ``skipped`` run
        when nothing changed since the last successful one)."""
        from painpoints.flows.local_api import start_in_background

        start_in_background()()
        from painpoints.flows.discovery import discover_flow

        return discover_flow(db=str(self.db), min_theme_size=min_theme_size, llm=llm, full=full)

    @property
    def _workspace(self) -> Workspace:
        if self._ws is None:
            self._ws = Workspace(self.settings)
        return self._ws


def connect(db: str | Path | None = None) -> Painpoints:
    """The database ``db`` (default: ``PAINPOINTS_DB`` / painpoints.toml / painpoints.duckdb); it is
    created by the first ``ingest_dataframe``."""
    return Painpoints(load_settings(db=db))
