"""``painpoints mcp``: the workspace as an MCP server (official ``mcp`` SDK), for the assistants PMs
already use (issue 19).

Tools answer from the same ``Workspace`` the CLI and web app read: ranked pain points / requests /
praise, one theme with quoted evidence (feedback ids), search by meaning, read-only SQL. The ranked
views are also resources (``painpoints://views/NAME``). Every tool is read-only and opens the database
only for the call, so a nightly run can write between calls. Errors come back as one clear line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from painpoints.discovery.search import SearchError
from painpoints.discovery.store import StoreError
from painpoints.workspace import VIEWS, Workspace

F = TypeVar("F", bound=Callable[..., Any])
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
RESOURCE_ROWS = 50

INSTRUCTIONS = """painpoints: customer feedback (reviews, tickets, call transcripts) grouped into themes.
Start with list_pain_points (what hurts most), list_feature_requests and list_praise; open a theme with
get_theme for its counts, trend and quotes (each with its feedback_id); find what customers said about
anything with search_feedback; answer the rest with read-only SQL (query_sql) over the views
pain_points, feature_requests, praise, latest_themes, theme_areas, feedback_themes, theme_history.
Cite feedback ids for claims about what customers said."""


def _clear_errors(fn: F) -> F:
    """Library errors become ToolErrors, whose message the client sees (others show as a crash)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (StoreError, SearchError, ValueError) as err:
            raise ToolError(str(err)) from err

    return wrapper  # type: ignore[return-value]


def build_server(ws: Workspace) -> MCPServer:
    """The MCP server over one workspace (tests connect to it in-process or over stdio)."""
    # WARNING: the SDK configures root logging at this level; INFO would print every request on stderr
    server = MCPServer(name="painpoints", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(annotations=READ_ONLY)
    @_clear_errors
    def list_pain_points(limit: int = 10, area: str | None = None) -> dict[str, Any]:
        """The most painful themes first (rank, label, items, share, negative_share, trend, score,
        area, a top quote). ``area``: an area id (A01…) or label from theme_areas."""
        return {"pain_points": ws.ranked("pain_points", limit, area)}

    @server.tool(annotations=READ_ONLY)
    @_clear_errors
    def list_feature_requests(limit: int = 10, area: str | None = None) -> dict[str, Any]:
        """What customers ask for, most asked first (the request segments of each theme)."""
        return {"feature_requests": ws.ranked("feature_requests", limit, area)}

    @server.tool(annotations=READ_ONLY)
    @_clear_errors
    def list_praise(limit: int = 10, area: str | None = None) -> dict[str, Any]:
        """What customers love, by volume."""
        return {"praise": ws.ranked("praise", limit, area)}

    @server.tool(annotations=READ_ONLY)
    @_clear_errors
    def get_theme(theme_id: str) -> dict[str, Any]:
        """One theme of the latest run: label, description, counts, trend with the counts behind it,
        sources, feedback-type and sentiment mix, the @handles its items address (social feeds: the
        brands it concerns), and quotes with their feedback ids."""
        theme = ws.theme(theme_id)
        if theme is None:
            raise ToolError(f"no theme {theme_id!r} in the latest run (ids look like T001; see list_pain_points)")
        return theme

    @server.tool(annotations=READ_ONLY)
    @_clear_errors
    def search_feedback(
        query: str, limit: int = 10, theme_id: str | None = None, source: str | None = None
    ) -> dict[str, Any]:
        """Feedback segments closest in meaning to ``query`` (any wording), best first, each with its
        feedback_id, external_id, source, date, theme and score."""
        return {"results": ws.search(query, limit, theme_id, source)}

    @server.tool(annotations=READ_ONLY)
    @_clear_errors
    def query_sql(sql: str) -> dict[str, Any]:
        """Run one read-only SQL query (DuckDB dialect) over the painpoints views; at most 500 rows."""
        return ws.query(sql)

    for view in (*VIEWS, "theme_areas"):
        _add_view_resource(server, ws, view)
    return server


def _add_view_resource(server: MCPServer, ws: Workspace, view: str) -> None:
    @server.resource(
        f"painpoints://views/{view}",
        name=view,
        description=f"the first {RESOURCE_ROWS} rows of the {view} view, as JSON",
        mime_type="application/json",
    )
    def read() -> str:
        out = ws.query(f"SELECT * FROM {view} ORDER BY rank LIMIT {RESOURCE_ROWS}")
        return json.dumps([dict(zip(out["columns"], row, strict=True)) for row in out["rows"]], ensure_ascii=False)


def serve(ws: Workspace) -> None:
    """Serve over stdio until the client closes it (how assistants start local MCP servers)."""
    build_server(ws).run("stdio")
