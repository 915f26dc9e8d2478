"""painpoints' surfaces: the ``painpoints`` command (``painpoints.cli``), the web app (``painpoints.ui``),
the MCP server (``painpoints.mcp_server``), ``ask`` and the Python API::

    import painpoints
    pp = painpoints.connect("painpoints.duckdb")
    pp.pain_points()            # a pandas DataFrame

They sit on top of the layers below and only call them:

    painpoints (surfaces) → flows (Prefect orchestration) → discovery (library) → connectors

``make lint`` enforces this order with import-linter (``[tool.importlinter]`` in pyproject.toml).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from painpoints.api import Painpoints

__all__ = ["connect"]


def connect(db: str | Path | None = None) -> Painpoints:
    """A handle on one painpoints database (``painpoints.api.Painpoints``): DataFrames out, the CLI's
    ingest and run in. Imported on first use, so ``import painpoints`` stays cheap for the CLI."""
    from painpoints.api import connect as _connect

    return _connect(db)
